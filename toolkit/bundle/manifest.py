"""SHA256SUMS of every file of a bundle, its manifest, and what its size is made of."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from toolkit.bundle import layout

CHUNK = 1 << 20


def files_of(root: Path) -> list[str]:
    """Every regular file under root (relative, '/'-separated, sorted) but SHA256SUMS itself; a link is refused."""
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            raise ValueError(f"{rel} is a symbolic link; a bundle holds regular files only")
        if path.is_file() and rel != layout.SUMS and not rel.endswith(".part"):
            out.append(rel)
    return out


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def sums_text(root: Path) -> str:
    """sha256sum's format (`HEX  PATH`), which install.sh checks with `sha256sum --strict -c`."""
    for rel in files_of(root):
        if any(c in rel for c in "\\\n\r"):
            raise ValueError(f"{rel!r}: a file name sha256sum would have to escape")
    return "".join(f"{digest(root / rel)}  {rel}\n" for rel in files_of(root))


def parse_sums(text: str) -> dict[str, str]:
    """path -> sha256 of a SHA256SUMS text; lines that are not `HEX  PATH` are refused (ValueError)."""
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        hexdigest, sep, rel = line.partition("  ")
        if not sep or len(hexdigest) != 64 or any(c not in "0123456789abcdef" for c in hexdigest) or not rel:
            raise ValueError(f"SHA256SUMS line {n} is not 'SHA256  PATH'")
        if rel.startswith("/") or ".." in rel.split("/"):
            raise ValueError(f"SHA256SUMS line {n}: {rel!r} leaves the bundle")
        out[rel] = hexdigest
    return out


def groups(sizes: dict[str, int]) -> dict[str, int]:
    """Bytes per top-level part (debs, wheels, images, the rest)."""
    out: dict[str, int] = {}
    for rel, size in sizes.items():
        part = rel.split("/", 1)[0] if "/" in rel else "scripts and index"
        out[part] = out.get(part, 0) + size
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def largest(sizes: dict[str, int], n: int = 3) -> list[tuple[str, int]]:
    return sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def manifest_text(*, profile: str, plan_digest: str, lock_id: str, lock_sha256: str, toolkit_version: str,
                  target: dict[str, str], sizes: dict[str, int], notes: list[str]) -> str:
    doc = {
        "generated_by": "toolkit bundle (do not edit: SHA256SUMS covers this file)",
        "toolkit_version": toolkit_version,
        "profile": profile,
        "profile_digest": plan_digest,
        "lock_id": lock_id,
        "lock_sha256": lock_sha256,
        "target": target,
        "total_bytes": sum(sizes.values()),
        "parts": groups(sizes),
        "files": [{"path": rel, "bytes": sizes[rel]} for rel in sorted(sizes)],
        "notes": notes,
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"
