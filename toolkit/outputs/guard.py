"""Before anything is written: what a write would clobber, and the errors that say so.

A refusal is exit 2 and names the files; ``--force`` overwrites files and symbolic links (the link,
never what it points to) and copied folders toolkit did not write. Some things no ``--force``
allows: a symbolic link, file or pipe where a folder of the output must be; a folder, named pipe,
socket or device where a file must be (``--save-facts /dev/null`` never replaces the device); and
replacing a wheelhouse with its own copy.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from toolkit.errors import UsageError
from toolkit.outputs.owned import MANIFEST, STAGING_PREFIX, Manifest, kind, owns_file, owns_folder

SHOWN_NAMES = 8
HINTS = {
    errno.ENOSPC: "the filesystem is full: free some space or write somewhere else",
    errno.EDQUOT: "the disk quota is used up: free some space or write somewhere else",
    errno.EROFS: "the filesystem is read-only: choose a folder on a writable one",
    errno.EACCES: "permission denied: choose a folder you can write to (or fix its permissions)",
    errno.EPERM: "operation not permitted: choose a folder you can write to",
    errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
    errno.EISDIR: "the path is a folder: give a file name",
    errno.ELOOP: "the path has a symbolic link loop: choose another path",
    errno.ENAMETOOLONG: "the name is too long: choose a shorter path",
}


class OutputConflict(UsageError):
    """The write would overwrite or delete what toolkit did not write."""


def shown(path: object) -> str:
    """A path for a message: control characters escaped, never printed raw."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in str(path))


def failed(exc: OSError, option: str, target: Path, changed: bool = False) -> UsageError:
    """An OSError while writing, as an exit-2 error naming the option and path, without a traceback."""
    why = exc.strerror or type(exc).__name__
    where = shown(exc.filename) if exc.filename and str(exc.filename) != str(target) else ""
    note = "" if changed else "; nothing there was changed"
    return UsageError(f"cannot write {option} {shown(target)}: {why}{f' ({where})' if where else ''}{note}",
                      HINTS.get(exc.errno or 0, "choose another path"))


def check_rel(rel: str) -> None:
    """A renderer's relative path: no absolute path, '..', empty part or toolkit's own names."""
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..") for p in parts) or parts[0] == MANIFEST \
            or parts[0].startswith(STAGING_PREFIX):
        raise ValueError(f"not a relative output path: {rel!r}")


def find_conflicts(root: Path, files: Iterable[str], trees: Mapping[str, str], manifest: Manifest | None,
                   *, force: bool, use_header: bool = True) -> list[str]:
    """Paths that stop the write: raises for what --force cannot allow; returns what it can."""
    blocked: list[str] = []
    hard: list[str] = []
    for rel in [*files, *trees]:
        check_rel(rel)
        for n in range(1, rel.count("/") + 1):
            parent = "/".join(rel.split("/")[:n])
            what = kind(root / parent)
            if what not in (None, "a folder"):
                hard.append(f"{parent} is {what}, not a folder")
    for rel in files:
        what = kind(root / rel)
        if what in ("a folder", "a named pipe", "a socket", "a device"):
            hard.append(f"{rel} is {what}")
        elif what is not None and not owns_file(root, rel, manifest, use_header):
            blocked.append(rel)
    for rel, src in trees.items():
        dest = root / rel
        real_src, real_dest = os.path.realpath(src), os.path.realpath(dest)
        if real_src == real_dest or real_src.startswith(real_dest + os.sep):
            hard.append(f"{rel} is the wheelhouse {shown(src)} itself: toolkit will not replace it with its own copy")
        elif kind(dest) is not None and not owns_folder(root, rel, manifest):
            blocked.append(rel + ("/" if kind(dest) == "a folder" else ""))
    if manifest is None and use_header and kind(root / MANIFEST) is not None:
        blocked.append(MANIFEST)
    if hard:
        raise UsageError(f"cannot write into {shown(root)}: " + "; ".join(shown(h) for h in sorted(set(hard))),
                         "choose another output folder, or move those out of the way")
    return [] if force else sorted(set(blocked))


def refuse(option: str, target: Path, blocked: list[str]) -> OutputConflict:
    names = ", ".join(shown(b) for b in blocked[:SHOWN_NAMES])
    more = f" and {len(blocked) - SHOWN_NAMES} more" if len(blocked) > SHOWN_NAMES else ""
    return OutputConflict(f"{option} {shown(target)}: refusing to overwrite what toolkit did not write "
                          f"(or what was edited since): {names}{more}; --force overwrites them",
                          "move them away or choose another place, or rerun with --force")
