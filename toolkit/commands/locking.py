"""`--locked` / `--lock FILE` for render, build and apply; `--locked` for verify: one way to find a
lock, refuse a stale one (exit 2, naming the lock, what changed and the command that refreshes it)
and turn a plan into its locked plan."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands.options import Decorator, _stack
from toolkit.errors import UsageError
from toolkit.lock import lockfile, stale
from toolkit.lock.apply import locked_plan
from toolkit.lock.model import Lock
from toolkit.model.plan import Plan
from toolkit.profile.loader import LoadedProfile


def lock_options(locked_help: str = "Install exactly what the profile's lock pins (NAME.lock next to the profile; "
                                    "`toolkit lock`).",
                 file_help: str = "The lock file to use (implies --locked).") -> Decorator:
    """--locked and --lock FILE, declared once for render, build, apply and verify (each says what it does)."""
    return _stack(
        click.option("--locked", is_flag=True, help=locked_help),
        click.option("--lock", "lock_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                     help=file_help),
    )


def default_path(loaded: LoadedProfile, cwd: Path | None = None) -> Path:
    """NAME.lock next to the profile; for a bundled profile (inside toolkit) in the current folder."""
    from toolkit.profile.bundled import profiles_dir

    path = Path(loaded.path)
    stem = path.name[: -len(path.suffix)] if path.suffix in (".yaml", ".yml") else path.name
    try:
        path.resolve().relative_to(profiles_dir().resolve())
        return (cwd or Path.cwd()) / f"{stem}.lock"
    except ValueError:
        return path.with_name(f"{stem}.lock")


def refresh_command(loaded: LoadedProfile, lock_path: Path) -> str:
    import shlex

    default = default_path(loaded)
    return "toolkit lock " + shlex.quote(str(loaded.path)) + ("" if lock_path == default else f" -o {shlex.quote(str(lock_path))}")


def load_for(loaded: LoadedProfile, plan: Plan, lock_file: str | None) -> tuple[Lock, Path]:
    """The plan's lock, refused (exit 2) when missing or made for something else."""
    import os

    path = Path(lock_file) if lock_file else default_path(loaded)
    if not os.path.lexists(path):
        raise UsageError(f"no lock file at {path}", f"make one: {refresh_command(loaded, path)}"
                         + ("" if lock_file else " (or name one with --lock FILE)"))
    lock = lockfile.read(path)
    changed = stale.changes(lock, plan)
    if changed:
        listed = "; ".join(changed[:12]) + (f"; and {len(changed) - 12} more" if len(changed) > 12 else "")
        raise UsageError(f"the lock {path} no longer matches profile {plan.name}: {listed}",
                         f"refresh it: {refresh_command(loaded, path)}")
    return lock, path


def apply_lock(loaded: LoadedProfile, plan: Plan, locked: bool, lock_file: str | None) -> tuple[Plan, Lock | None]:
    """The locked plan when asked for (--locked or --lock), the plan as it is otherwise. The locked plan's
    checks include one exact-version check per locked package (verify names drift package by package)."""
    if not (locked or lock_file):
        return plan, None
    import dataclasses

    from toolkit.lock.checks import locked_checks

    lock, _ = load_for(loaded, plan, lock_file)
    pinned = locked_plan(plan, lock)
    return dataclasses.replace(pinned, checks=pinned.checks + locked_checks(pinned, lock)), lock


def check_base_image(api, lock: Lock | None) -> None:
    """A local base image is pinned by its id, which no FROM line can name: the tag must still be it."""
    if lock is None or lock.base_image is None or lock.base_image.kind != "image-id":
        return
    ref = lock.base_image.ref
    try:
        now = api.inspect_image(ref)["Id"]
    except Exception:     # noqa: BLE001 - the engine's own error says why; ours says what to do
        now = None
    if now != lock.base_image.digest:
        found = f"is now {now}" if now else "is not on this engine"
        raise UsageError(f"base image {ref} {found}; the lock pins image {lock.base_image.digest}",
                         f"tag the locked image as {ref} again, or refresh the lock (toolkit lock PROFILE)")
