"""`toolkit bundle PROFILE -o DIR`: everything the profile's lock pins, gathered into DIR for a machine
without network access: a local apt repository of the locked .debs, a wheelhouse of the locked wheels
(hash-checked), the setup script rendered to use only them, install.sh, manifest.json and SHA256SUMS.
Carry DIR across and run `sudo bash DIR/install.sh`, or `toolkit apply PROFILE --bundle DIR --host ...`."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.commands import locking, options
from toolkit.commands.bundling import bundle_plan_for
from toolkit.errors import UsageError
from toolkit.lock.model import LockError
from toolkit.ui import out, warn


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
