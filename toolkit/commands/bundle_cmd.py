"""`toolkit bundle PROFILE -o DIR`: everything the profile's lock pins, gathered into DIR for a machine
without network access: a local apt repository of the locked .debs, a wheelhouse of the locked wheels
(hash-checked), the setup script rendered to use only them, install.sh, manifest.json and SHA256SUMS.
Carry DIR across and run `sudo bash DIR/install.sh`, or `toolkit apply PROFILE --bundle DIR --host ...`."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands import locking, options
from toolkit.errors import UsageError
from toolkit.lock.model import LockError
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.ui import out, warn


def bundle_plan_for(profile: str, compat_data: str | None, lock_file: str | None):
    """(loaded profile, bundle plan, lock, lock path); exit 2 on a missing or stale lock or a step bundles cannot carry."""
    import dataclasses

    from toolkit.bundle.plan import BundleError, bundle_plan, unsupported
    from toolkit.lock.apply import locked_plan
    from toolkit.lock.checks import locked_checks

    loaded = load_profile(profile)
    plan = build_plan(loaded, compat_data)
    refused = unsupported(plan)
    if refused:      # before any lock is looked for: no lock would make them collectable
        raise UsageError(f"cannot bundle {plan.name}: it has steps a bundle cannot carry: {'; '.join(refused)}",
                         "bundle a profile without them (gpu.driver / gpu.container_toolkit off: installed by the "
                         "site's own process), or apply it with network access")
    lock, path = locking.load_for(loaded, plan, lock_file)
    locked = locked_plan(plan, lock)
    locked = dataclasses.replace(locked, checks=locked.checks + locked_checks(locked, lock))
    try:
        return loaded, bundle_plan(locked), lock, path
    except BundleError as exc:
        raise UsageError(f"cannot bundle {plan.name}: {exc.message}", exc.hint) from None


def checked_bundle(profile: str, compat_data: str | None, lock_file: str | None, folder: str):
    """(bundle plan, lock, absolute folder) for apply/build --bundle: the folder is whole (every file matches its
    SHA256SUMS) and was made from this profile and lock; exit 2 otherwise."""
    import json

    from toolkit.bundle import layout
    from toolkit.bundle.verify import damaged
    from toolkit.lock.apply import lock_id

    root = Path(folder).resolve()
    if not (root / layout.SUMS).is_file() or not (root / layout.MANIFEST).is_file():
        raise UsageError(f"--bundle {folder}: no bundle there (no {layout.SUMS} or {layout.MANIFEST})",
                         "make one: toolkit bundle PROFILE -o DIR")
    bad = damaged(root)
    if bad:
        raise UsageError(f"--bundle {folder}: files do not match its SHA256SUMS: {', '.join(bad[:8])}",
                         "make the bundle again (toolkit bundle PROFILE -o DIR) or copy it again")
    _, plan, lock, _ = bundle_plan_for(profile, compat_data, lock_file)
    try:
        made = json.loads((root / layout.MANIFEST).read_text())
    except (ValueError, OSError) as exc:
        raise UsageError(f"--bundle {folder}: unreadable {layout.MANIFEST}: {exc}") from None
    if made.get("profile_digest") != plan.digest or made.get("lock_id") != lock_id(lock):
        raise UsageError(f"--bundle {folder} was made for another version of profile {plan.name} or its lock",
                         f"make it again: toolkit bundle {profile} -o {folder}")
    return plan, lock, str(root)


@click.command("bundle")
@click.argument("profile", metavar="PROFILE")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="The bundle folder (new, empty, or an earlier bundle of toolkit's: brought up to date).")
@click.option("--with-base-image", is_flag=True, help="Add `docker save` of the locked base image (images/).")
@click.option("--with-image", "with_images", multiple=True, metavar="TAG",
              help="Add `docker save` of this image, e.g. one built with --bundle (repeatable).")
@options.compat_data
@locking.lock_options("Use the profile's lock (NAME.lock next to the profile; the default: a bundle is always locked).")
def bundle(profile: str, output: str, with_base_image: bool, with_images: tuple[str, ...], compat_data: str | None,
           locked: bool, lock_file: str | None) -> None:
    """Gather what PROFILE's lock pins into DIR, for installing where there is no network."""
    from toolkit.bundle import make as maker
    from toolkit.bundle.make import image_file
    from toolkit.bundle.manifest import groups, largest
    from toolkit.bundle.plan import BundleError
    from toolkit.commands.build_cmd import human_size
    from toolkit.commands.lock_cmd import _apt_settings, _engine
    from toolkit.executors import credentials
    from toolkit.executors.image_tag import tag_problem

    for tag in with_images:
        problem = tag_problem(tag)
        if problem:
            raise UsageError(f"--with-image: {problem}")
    loaded, plan, lock, lock_path = bundle_plan_for(profile, compat_data, lock_file)
    if lock.base_image is None:
        raise UsageError(f"the lock {lock_path} names no base image", "refresh it: toolkit lock PROFILE")
    for step in plan.steps:
        if step.kind in ("RunCommand", "RunStep"):
            warn(f"{step.component}: {step.title} runs as written on the target: it must not need the network")
    images = tuple((image_file(ref), ref) for ref in ((lock.base_image.ref,) if with_base_image else ()) + with_images)
    settings = _apt_settings(loaded, plan)
    out(f"bundling {plan.name} into {output} (lock {lock_path}: {len(lock.os_packages)} OS packages, "
        f"{len(lock.pip)} pip packages)")
    request = maker.Request(root=Path(output), plan=plan, lock=lock, lock_path=lock_path,
                            proxies=credentials.proxy_settings(plan), ca_pem=settings["ca_pem"],
                            mirror_sources=settings["mirror_sources"], images=images)
    try:
        made = maker.make(_engine(), request, out)
    except LockError as exc:
        raise UsageError(f"cannot bundle {plan.name}: {exc.message}", exc.hint) from None
    except BundleError as exc:
        raise UsageError(exc.message, exc.hint) from None
    total = sum(made.sizes.values())
    parts = ", ".join(f"{name} {human_size(size)}" for name, size in groups(made.sizes).items())
    big = ", ".join(f"{rel} {human_size(size)}" for rel, size in largest(made.sizes))
    for rel in made.removed:
        out(f"removed {rel} (of the earlier bundle; not needed now)")
    out(f"bundle {output}: {len(made.sizes)} files, {human_size(total)} in {made.seconds:.1f} s ({parts})")
    out(f"largest: {big}")
    out(f"SHA256SUMS sha256 {made.sums_sha256} (compare it on the target before installing)")
    out(f"install: sudo bash {output}/install.sh  (on the target, no network needed), or "
        f"toolkit apply {profile} --bundle {output} --host USER@HOST")


COMMANDS = [bundle]
