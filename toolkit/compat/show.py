"""`toolkit compat show`: every value toolkit knows for a section, and the file it came from."""

from __future__ import annotations

import difflib
import os
from typing import Any

from toolkit.errors import UsageError

from . import data_model as M

# what users type -> data section
ALIASES = {"torch": "pytorch", "pytorch": "pytorch", "tensorflow": "tensorflow", "tf": "tensorflow",
           "jax": "jax", "keras": "keras", "cuda": "cuda", "os": "os", "python": "python"}


def _leaves(node: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """(path, value) of every scalar or list (lists are replaced whole by an overlay, so they are leaves)."""
    if isinstance(node, dict) and node:
        return [leaf for key, value in node.items() for leaf in _leaves(value, (*path, str(key)))]
    return [(path, node)]


def _has(node: Any, path: tuple) -> bool:
    for key in path:
        if not isinstance(node, dict) or key not in {str(k) for k in node}:
            return False
        node = next(v for k, v in node.items() if str(k) == key)
    return True


def layers(extra: str | os.PathLike[str] | None) -> list[tuple[str, dict]]:
    """(label, raw YAML) of the bundled data and each overlay that applies, in merge order."""
    out = [("bundled", M.bundled_raw())]
    for label, path in M.overlay_files(extra, user=True):
        raw, _, name = M.read_overlay(path)
        out.append((f"{label} {name}", raw))
    return out


def section_name(name: str | None) -> str | None:
    if name is None:
        return None
    key = name.strip().lower()
    if key in ALIASES:
        return ALIASES[key]
    close = difflib.get_close_matches(key, sorted(ALIASES), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}? " if close else ""
    raise UsageError(f"unknown name {name!r} for toolkit compat show",
                     f"{hint}use one of: {', '.join(sorted(ALIASES))}")


def rows(name: str | None, version: str | None, extra: str | os.PathLike[str] | None) -> list[dict]:
    """[{path, value, source}] for the section (and release) asked for; validates the merged data first."""
    M.load_data(extra, user=True)  # a broken overlay is reported with its file and line, not shown
    stack = layers(extra)
    merged: dict = {}
    for _, raw in stack:
        merged = M.deep_merge(merged, raw)
    section = section_name(name)
    out = []
    for path, value in _leaves(merged):
        if section and path[:1] != (section,):
            continue
        if version and not _in_release(path, version):
            continue
        source = next(label for label, raw in reversed(stack) if _has(raw, path))
        out.append({"path": ".".join(path), "value": value, "source": source})
    if version and not out:
        raise UsageError(f"{name} {version} is not in the compatibility data",
                         f"`toolkit compat show {name}` lists what is known; `toolkit compat refresh` adds newer releases")
    return out


def _in_release(path: tuple, version: str) -> bool:
    return len(path) > 2 and path[1] in ("releases", "minors") and path[2] in (version, ".".join(version.split(".")[:2]))
