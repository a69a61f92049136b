"""Version parsing and comparison for the compatibility data.

Every comparison goes through :class:`packaging.version.Version`, so ``12.10 > 12.9``
holds; versions are never compared as strings or floats.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from packaging.version import InvalidVersion, Version

_PLAIN = re.compile(r"^\d+(\.\d+)*$")
_VARIANT = re.compile(r"^cu(1\d)(\d+)$")


def parse(text: str, what: str = "version") -> Version:
    """Parse a dotted numeric version ("12.8", "550.54.15"); refuse floats and junk."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a quoted string, got {type(text).__name__} {text!r}")
    text = text.strip()
    if not _PLAIN.match(text):
        raise ValueError(f"{what} {text!r} is not a dotted numeric version")
    try:
        return Version(text)
    except InvalidVersion as exc:  # pragma: no cover - the regex already rules this out
        raise ValueError(f"{what} {text!r} is not a valid version") from exc


def is_valid(text: object) -> bool:
    try:
        parse(text)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def n_parts(text: str) -> int:
    return len(parse(text).release)


def major(text: str) -> str:
    return str(parse(text).release[0])


def major_minor(text: str) -> str:
    rel = parse(text).release
    if len(rel) < 2:
        raise ValueError(f"version {text!r} needs at least major.minor")
    return f"{rel[0]}.{rel[1]}"


def cmp(a: str, b: str) -> int:
    va, vb = parse(a), parse(b)
    return (va > vb) - (va < vb)


def at_least(a: str, b: str) -> bool:
    return parse(a) >= parse(b)


def sort_versions(items: Iterable[str], reverse: bool = False) -> list[str]:
    return sorted(items, key=parse, reverse=reverse)


def newest(items: Iterable[str]) -> str | None:
    items = list(items)
    return max(items, key=parse) if items else None


def in_range(version: str, low: str, high: str) -> bool:
    """Inclusive range check on major.minor (``3.12.4`` counts as ``3.12``)."""
    v = parse(major_minor(version))
    return parse(low) <= v <= parse(high)


def prefix_match(requested: str, full: str) -> bool:
    """True when ``full`` starts with every component of ``requested`` ("9" ~ "9.10.2.21", "9.1" !~ "9.10")."""
    req, got = parse(requested).release, parse(full).release
    return len(got) >= len(req) and got[: len(req)] == req


def cuda_variant(cuda: str) -> str:
    """"12.8" -> "cu128", "12.10" -> "cu1210"."""
    rel = parse(cuda).release
    return f"cu{rel[0]}{rel[1] if len(rel) > 1 else 0}"


def variant_cuda(variant: str) -> str | None:
    """"cu128" -> "12.8"; None for "cpu", "rocm6.2" and other non-CUDA variants."""
    m = _VARIANT.match(variant)
    return f"{m.group(1)}.{m.group(2)}" if m else None


def python_versions(low: str, high: str) -> list[str]:
    """All 3.x minors from low to high inclusive: ("3.9", "3.11") -> ["3.9", "3.10", "3.11"]."""
    lo, hi = parse(low).release, parse(high).release
    if lo[0] != hi[0]:
        raise ValueError(f"python range {low}..{high} spans majors")
    return [f"{lo[0]}.{m}" for m in range(lo[1], hi[1] + 1)]


def span(items: list[str]) -> str:
    """Compact text for a sorted list of versions: "2.6-2.14" or "2.7"."""
    items = sort_versions(items)
    if not items:
        return "none"
    return items[0] if len(items) == 1 else f"{items[0]}-{items[-1]}"
