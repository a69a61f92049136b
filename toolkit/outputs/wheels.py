"""The wheelhouse copy: regular wheel and sdist files only, symlinks never followed, sizes capped.

A wheelhouse is a flat folder pip reads with --find-links. Anything else in it (a symbolic link
to a secret or to /dev/zero, a named pipe, a device, a sub-folder, a README) is skipped and
reported, never copied: the image, the playbook folder and the hosts get only the packages.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from toolkit.errors import UsageError
from toolkit.outputs.owned import write_all

SUFFIXES = (".whl", ".tar.gz", ".zip")
MAX_FILE = 16 * 2**30          # no wheel comes near this; a sparse or runaway file does
MAX_TOTAL = 256 * 2**30
CHUNK = 1 << 20


@dataclass
class Copied:
    digests: dict[str, str] = field(default_factory=dict)     # file name -> sha256
    skipped: list[str] = field(default_factory=list)          # "name (why)"


def _why_not(name: str, mode: int, size: int) -> str | None:
    if stat.S_ISDIR(mode):
        return "a folder: pip reads only the files at the top of a wheelhouse"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    if not name.endswith(SUFFIXES) or name.startswith("."):
        return "not a wheel or sdist (.whl, .tar.gz, .zip)"
    if size > MAX_FILE:
        return f"larger than {MAX_FILE // 2**30} GiB"
    return None


def wheel_files(src: Path, skipped: list[str]) -> Iterator[tuple[str, BinaryIO, int]]:
    """(name, open file, size) for each wheel/sdist in src; what is left out goes into `skipped`."""
    try:
        entries = sorted(os.scandir(src), key=lambda e: e.name)
    except OSError as exc:
        raise UsageError(f"cannot read the wheelhouse {src}: {exc.strerror}",
                         "network.wheelhouse must name a readable folder") from None
    total = 0
    for entry in entries:
        name = entry.name.encode("unicode_escape").decode("ascii")
        if entry.is_symlink():
            skipped.append(f"{name} (a symbolic link: copy the file itself into the wheelhouse)")
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as exc:
            skipped.append(f"{name} ({exc.strerror})")
            continue
        st = os.fstat(fd)            # of what was opened: a swap after the listing changes nothing
        why = _why_not(entry.name, st.st_mode, st.st_size)
        if why is None and total + st.st_size > MAX_TOTAL:
            why = f"the wheelhouse passes {MAX_TOTAL // 2**30} GiB"
        if why:
            os.close(fd)
            skipped.append(f"{name} ({why})")
            continue
        total += st.st_size
        with os.fdopen(fd, "rb") as fh:
            yield entry.name, fh, st.st_size


def copy_wheels(src: Path, dest: Path) -> Copied:
    """Copy src's wheels into the new folder dest (at most each file's size when it was opened)."""
    result = Copied()
    dest.mkdir()
    for name, fh, size in wheel_files(src, result.skipped):
        digest = hashlib.sha256()
        fd = os.open(dest / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            left = size
            while left > 0 and (chunk := fh.read(min(CHUNK, left))):
                digest.update(chunk)
                left -= len(chunk)
                write_all(fd, chunk)
            os.fsync(fd)
        finally:
            os.close(fd)
        result.digests[name] = digest.hexdigest()
    return result
