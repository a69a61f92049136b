"""The locked OS packages as .deb files: `apt-get download NAME=VERSION ...` in a throwaway container of
the locked base image (the lock's own helper, with the profile's mirror, proxy and CA), then the files
copied out through the Engine API and indexed (aptrepo.py) into a flat local repository.

Only regular files with plain .deb names are taken from the container's archive (no links, no paths);
each one's control fields name the package and version the lock pinned, or the bundle is refused.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from toolkit.bundle import aptrepo
from toolkit.lock import apt_resolve
from toolkit.lock.container import throwaway
from toolkit.lock.model import BaseImage, LockError, OsPackage

WORK = "/var/tmp/toolkit-bundle-debs"
# argv, never a shell string of values: the names and versions arrive as "$@"
DOWNLOAD = ('set -e; mkdir -p "$0"; cd "$0"; apt-get download -q -- "$@"; '
            'for f in *.deb; do printf "@@toolkit-deb %s\\n" "$f"; dpkg-deb -f "$f"; done')


def collect(client, image: BaseImage, packages: Sequence[OsPackage], dest: Path, *, env: Mapping[str, str],
            mirror_sources=None, ca_pem: str | None = None, labels: Mapping[str, str] | None = None, epoch: int = 0,
            progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Download `packages` into dest/ and index them there; returns {file name: size}."""
    say = progress or (lambda _m: None)
    ref = image.pinned if image.kind == "repo-digest" else image.digest
    specs = [f"{p.name}={p.version}" for p in sorted(packages, key=lambda p: p.name)]
    dest.mkdir(parents=True, exist_ok=True)
    with throwaway(client, ref, labels=labels) as box:
        env_all = apt_resolve.prepare(box, image.ref, env, mirror_sources=mirror_sources, ca_pem=ca_pem, progress=say)
        say(f"apt-get download of {len(specs)} locked packages")
        fields = apt_resolve.checked(box, ["sh", "-c", DOWNLOAD, WORK, *specs], "download the locked packages",
                                     env_all, hint="the archive may no longer have a locked version: "
                                                   "refresh the lock (toolkit lock PROFILE)")
        controls = aptrepo.split_fields(fields)
        stream, _ = box.container.get_archive(WORK)
        files = _debs(b"".join(stream))
    _check_set(controls, packages)
    stanzas: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for name, data in sorted(files.items()):
        if name not in controls:
            raise LockError(f"{name} came out of the container without its control fields")
        stanzas[name] = aptrepo.stanza(controls[name], name, data)
        (dest / name).write_bytes(data)
        sizes[name] = len(data)
    for name, data in aptrepo.index_files(stanzas, "toolkit", epoch).items():
        (dest / name).write_bytes(data)
        sizes[name] = len(data)
    return sizes


def _debs(tar_bytes: bytes) -> dict[str, bytes]:
    """The .deb files of the folder's tar archive: regular members directly inside it, plain names only."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if len(parts) != 2 or not member.isfile() or not aptrepo.DEB_NAME.fullmatch(parts[1]):
                continue
            fh = tar.extractfile(member)
            if fh is not None:
                out[parts[1]] = fh.read()
    return out


def _check_set(controls: Mapping[str, list[str]], packages: Sequence[OsPackage]) -> None:
    """Every locked package came, at its locked version, and nothing else did."""
    got = {}
    for lines in controls.values():
        fields = dict(line.split(":", 1) for line in lines if aptrepo.FIELD.match(line))
        got[fields.get("Package", "").strip()] = fields.get("Version", "").strip()
    want = {p.name: p.version for p in packages}
    wrong = sorted(n for n in want if got.get(n) != want[n])
    extra = sorted(set(got) - set(want))
    if wrong or extra:
        detail = [f"{n} {want[n]} (got {got.get(n) or 'nothing'})" for n in wrong] + [f"unexpected {n}" for n in extra]
        raise LockError("the downloaded packages are not the locked set: " + "; ".join(detail[:12]),
                        "refresh the lock (toolkit lock PROFILE) and bundle again")
