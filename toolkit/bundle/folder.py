"""The output folder of `toolkit bundle`: made by toolkit, or refused.

A folder that does not exist or is empty is taken (and marked); one holding the marker is an earlier
bundle of toolkit's and is brought up to date (its wheels that still match the lock are kept, files of
the earlier bundle that the new one lacks are removed: only files its SHA256SUMS listed). Any other
non-empty folder is refused: nothing toolkit did not write is ever overwritten or removed.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.bundle import layout
from toolkit.bundle.manifest import parse_sums
from toolkit.bundle.plan import BundleError

MARKER_TEXT = "made by toolkit bundle; toolkit may replace this folder's contents\n"


def claim(root: Path) -> set[str]:
    """Make root toolkit's (or check it is); returns the files the earlier bundle there listed."""
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        raise BundleError(f"-o {root}: not a folder", "name a new or empty folder")
    if root.exists() and any(root.iterdir()) and not (root / layout.MARKER).is_file():
        raise BundleError(f"-o {root}: the folder is not empty and was not made by toolkit bundle",
                          "name a new or empty folder (nothing in it is overwritten)")
    root.mkdir(parents=True, exist_ok=True)
    (root / layout.MARKER).write_text(MARKER_TEXT)
    sums = root / layout.SUMS
    if not sums.is_file():
        return set()
    try:
        return set(parse_sums(sums.read_text()))
    except (ValueError, UnicodeDecodeError):
        return set()


def prune(root: Path, earlier: set[str], now: set[str]) -> list[str]:
    """Remove the earlier bundle's files that this one lacks (regular files inside root only)."""
    gone = []
    for rel in sorted(earlier - now):
        path = root / rel
        if ".." in rel.split("/") or path.is_symlink() or not path.is_file():
            continue
        path.unlink()
        gone.append(rel)
    return gone
