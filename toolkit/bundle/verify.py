"""A bundle folder checked against its own SHA256SUMS on this machine (apply/build --bundle do it first)."""

from __future__ import annotations

from pathlib import Path

from toolkit.bundle import layout
from toolkit.bundle.manifest import digest, parse_sums


def damaged(root: Path) -> list[str]:
    """The files SHA256SUMS lists that are missing, not regular files, or differ; ['SHA256SUMS: ...'] if unreadable."""
    try:
        listed = parse_sums((root / layout.SUMS).read_text())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return [f"{layout.SUMS}: {exc}"]
    bad = []
    for rel, want in sorted(listed.items()):
        path = root / rel
        if path.is_symlink() or not path.is_file() or digest(path) != want:
            bad.append(rel)
    return bad
