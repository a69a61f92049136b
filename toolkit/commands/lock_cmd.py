"""`toolkit lock PROFILE`: resolve the whole stack for the profile's target without building, and write
the lock (NAME.lock next to the profile): the base image by digest, every OS package with its
dependencies as name=version, every pip package with the sha256 of its artifacts and its index.

Versions of an existing lock are kept where they still fit (--upgrade moves everything,
--upgrade-package NAME one package); what moved is listed at the end."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from toolkit import __version__
from toolkit.commands import locking, options
from toolkit.errors import UsageError
from toolkit.lock import lockfile, requests
from toolkit.lock.model import Lock, LockError
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.ui import err, out


def _proxy_env(plan) -> dict[str, str]:
    from toolkit.executors import credentials

    return credentials.proxy_settings(plan)


def _apt_settings(loaded, plan) -> dict:
    """The profile's apt mirror (as source files) and CA certificates, for apt in the lock's container."""
    from toolkit.model import osfamily
    from toolkit.model.steps import TrustCA

    t = plan.target
    mirror = loaded.profile.network.apt_mirror
    sources = osfamily.for_distro(t.distro).mirror_files(t.distro, t.os_version, mirror) if mirror else None
    pem = "".join(f.content for s in plan.steps if isinstance(s, TrustCA) for f in s.files) or None
    return {"mirror_sources": sources, "ca_pem": pem}


def _notes(plan) -> tuple[str, ...]:
    from toolkit.model.steps import ContainerToolkit, NvidiaDriver, PackageRepository

    unpinned = sorted({s.title for s in plan.steps if isinstance(s, (NvidiaDriver, ContainerToolkit, PackageRepository))})
    return (f"not pinned (host-only, resolved on the host): {', '.join(unpinned)}",) if unpinned else ()


def _engine():
    """The high-level Docker client (after the friendly reachability check builds use)."""
    import docker

    from toolkit.executors import docker_build as db

    db.connect()
    return docker.from_env(timeout=600)


def _previous(path: Path, upgrade: bool) -> Lock | None:

    if upgrade or not os.path.lexists(path):
        return None
    try:
        return lockfile.read(path)
    except UsageError as exc:
        err(f"note: the existing lock is unreadable and is made anew ({exc.message})")
        return None


def moved(old: Lock | None, new: Lock) -> list[str]:
    """What changed between two locks, per package: 'numpy 2.0.2 -> 2.1.0', '+ rich 13.9.4', '- six 1.16.0'."""
    if old is None:
        return []
    lines = []
    for kind, a, b in (("pip", old.pip, new.pip), ("os", old.os_packages, new.os_packages)):
        before, after = {p.name: p.version for p in a}, {p.name: p.version for p in b}
        for name in sorted(set(before) | set(after)):
            if name not in after:
                lines.append(f"- {kind} {name} {before[name]}")
            elif name not in before:
                lines.append(f"+ {kind} {name} {after[name]}")
            elif before[name] != after[name]:
                lines.append(f"  {kind} {name} {before[name]} -> {after[name]}")
    if old.base_image and new.base_image and old.base_image.digest != new.base_image.digest:
        lines.append(f"  base image {new.base_image.ref} {old.base_image.digest[:19]} -> {new.base_image.digest[:19]}")
    return lines


@click.command("lock")
@click.argument("profile", metavar="PROFILE")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Where to write the lock (default: NAME.lock next to the profile).")
@click.option("--base-image", default=None, metavar="IMAGE", help="Lock against this base image (as build --base-image).")
@click.option("--upgrade", is_flag=True, help="Resolve every package anew (default: keep the existing lock's versions).")
@click.option("--upgrade-package", "upgrade_packages", multiple=True, metavar="NAME",
              help="Move only this package (repeatable; pip or OS package names).")
@click.option("--force", is_flag=True, help="Overwrite a FILE that toolkit did not write.")
@options.compat_data
def lock(profile: str, output: str | None, base_image: str | None, upgrade: bool, upgrade_packages: tuple[str, ...],
         force: bool, compat_data: str | None) -> None:
    """Resolve and pin the whole stack of PROFILE for its target; nothing is built or installed."""
    from toolkit.commands.build_cmd import with_base_image
    from toolkit.compat import load_data
    from toolkit.outputs.atomic import check_output

    loaded = load_profile(profile)
    if base_image:
        loaded = with_base_image(loaded, base_image)
    plan = build_plan(loaded, compat_data)
    if plan.target.distro not in ("debian", "ubuntu"):
        # OS packages are resolved with apt only (toolkit/lock/apt_resolve.py); dnf has no resolver yet.
        raise UsageError(f"toolkit lock resolves Debian and Ubuntu targets only, not {plan.target.distro} "
                         f"{plan.target.os_version} (no dnf resolver yet)",
                         "render, build or apply without --locked, or lock a Debian/Ubuntu variant of the profile")
    path = Path(output) if output else locking.default_path(loaded)
    check_output(path.parent, [path.name], force=force, option="-o", target=path)
    previous = _previous(path, upgrade)
    from toolkit.lock import apt_resolve, pip_resolve
    from toolkit.lock.base_image import base_image as inspect_base
    from toolkit.lock.model import PipTarget
    from toolkit.lock.platforms import pip_platform

    env = _proxy_env(plan)
    started = time.monotonic()
    try:
        client = _engine()
        out(f"locking {plan.name}: base image {plan.target.base_image}")
        image = inspect_base(client, plan.target.base_image, pull=True)
        out(f"  base image {image.ref} = {image.digest} ({image.kind})")
        apt = apt_resolve.resolve(client, image, requests.apt_requests(plan),
                                  previous=previous.os_packages if previous else (), upgrade=upgrade,
                                  upgrade_packages=upgrade_packages, env=env, progress=lambda m: out("  " + m),
                                  **_apt_settings(loaded, plan))
        out(f"  {len(apt.packages)} OS packages ({apt.release}, {apt.arch})")
        interp = apt_resolve.interpreter(apt, plan.target.python_version)
        target = PipTarget(interp.version if interp else plan.target.python_version,
                           pip_platform(plan.target.distro, plan.target.os_version, apt.arch))
        pip = pip_resolve.resolve(requests.pip_requests(plan), target,
                                  previous=previous.pip if previous else (), upgrade=upgrade,
                                  upgrade_packages=upgrade_packages, env={**os.environ, **env},
                                  progress=lambda m: out("  " + m))
        out(f"  {len(pip)} pip packages for Python {target.python_version} on {target.platform}")
    except LockError as exc:
        raise UsageError(f"cannot lock {plan.name}: {exc.message}", exc.hint) from None
    new = Lock(
        profile=plan.name, profile_digest=plan.digest, toolkit_version=__version__,
        compat_date=str(load_data(compat_data, user=True).data_date), inputs=requests.summary(plan),
        target=(("os", apt.release), ("arch", apt.arch), ("python", interp.version if interp else target.python_version),
                ("platform", target.platform)),
        base_image=image, os_packages=apt.packages, pip=pip, python=interp,
        notes=_notes(plan))
    lockfile.write(path, new, force=force)
    for line in moved(previous, new):
        out(line)
    out(f"wrote {path} ({len(new.os_packages)} OS packages, {len(new.pip)} pip packages, "
        f"{time.monotonic() - started:.1f} s); use it: toolkit build {profile} --locked")


COMMANDS = [lock]
