"""Gather a bundle: .debs (debs.py), wheels (wheels.py), the rendered setup script and playbook (playbook.py),
install.sh, the bundle's apt configuration, optional `docker save` archives, then manifest.json and SHA256SUMS."""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.bundle import debs, folder, install, layout, manifest, playbook, wheels
from toolkit.lock.apply import lock_id, source_date_epoch
from toolkit.lock.model import Lock
from toolkit.model.plan import Plan
from toolkit.render import script
from toolkit.render.common import carries_secret


@dataclass(frozen=True)
class Request:
    root: Path
    plan: Plan                      # the bundle plan (plan.bundle_plan of the locked plan)
    lock: Lock
    lock_path: Path
    proxies: Mapping[str, str] = field(default_factory=dict)
    ca_pem: str | None = None
    mirror_sources: object = None
    images: tuple[tuple[str, str], ...] = ()     # (file name under images/, image reference) to docker save
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Made:
    sizes: dict[str, int]
    seconds: float
    sums_sha256: str
    removed: list[str]


def make(client, req: Request, say: Callable[[str], None]) -> Made:
    started = time.monotonic()
    earlier = folder.claim(req.root)
    lock = req.lock
    assert lock.base_image is not None
    epoch = int(source_date_epoch(lock))
    say(f"collecting {len(lock.os_packages)} OS packages (.deb) in a container of {lock.base_image.ref}")
    deb_sizes = debs.collect(client, lock.base_image, lock.os_packages, req.root / layout.DEBS, env=req.proxies,
                             mirror_sources=req.mirror_sources, ca_pem=req.ca_pem, labels=req.labels, epoch=epoch,
                             progress=lambda m: say("  " + m))
    say(f"  {len(deb_sizes) - 3} .debs, {_mb(sum(deb_sizes.values()))}")
    wanted = len(wheels.wanted(lock.pip))
    say(f"collecting {wanted} wheel files of {len(lock.pip)} pip packages (each checked against the lock's sha256)")
    step = max(1, wanted // 10)

    def wheel_progress(done: int, total: int, size: int) -> None:
        if done % step == 0 or done == total:
            say(f"  wheels: {done}/{total} files, {_mb(size)} so far")

    wheels.collect(lock.pip, req.root / layout.WHEELS, proxies=req.proxies, ca_pem=req.ca_pem, progress=wheel_progress)
    _write(req.root / layout.APT / "apt.conf", install.apt_conf())
    _write(req.root / layout.APT / install.SOURCE_NAME, install.source_line())
    # setup.sh and the playbook carry a profile's TLS key when it has one (as render's output does): owner-only
    private = 0o600 if carries_secret(req.plan) else 0o644
    _write(req.root / layout.SETUP, script.render(req.plan).files["setup.sh"], mode=private)
    _write(req.root / layout.INSTALL, install.install_sh(req.plan.name), mode=0o755)
    for rel, text in sorted(playbook.files(req.plan).items()):
        _write(req.root / rel, text, mode=private)
    for name, ref in req.images:
        say(f"docker save {ref} -> {layout.IMAGES}/{name}")
        _save(client, ref, req.root / layout.IMAGES / name)
    now = set(manifest.files_of(req.root)) | {layout.MANIFEST}
    removed = folder.prune(req.root, earlier, now)
    sizes = {rel: (req.root / rel).stat().st_size for rel in manifest.files_of(req.root) if rel != layout.MANIFEST}
    lock_bytes = req.lock_path.read_bytes()
    _write(req.root / layout.MANIFEST, manifest.manifest_text(
        profile=req.plan.name, plan_digest=req.plan.digest, lock_id=lock_id(lock),
        lock_sha256=hashlib.sha256(lock_bytes).hexdigest(), toolkit_version=lock.toolkit_version,
        target=dict(lock.target), sizes=sizes, notes=list(lock.notes)))
    sizes[layout.MANIFEST] = (req.root / layout.MANIFEST).stat().st_size
    sums = manifest.sums_text(req.root)
    _write(req.root / layout.SUMS, sums)
    sizes[layout.SUMS] = len(sums.encode())
    return Made(sizes, time.monotonic() - started, hashlib.sha256(sums.encode()).hexdigest(), removed)


def image_file(ref: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", ref).strip("_")[:100] + ".tar"


def _save(client, ref: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as fh:
        for chunk in client.images.get(ref).save(named=True):
            fh.write(chunk)
    part.replace(path)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.unlink(missing_ok=True)
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)   # its mode from the start
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(part, mode)        # whatever the umask took away
    part.replace(path)


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"
