"""Where the bundled profiles live (repo checkout or installed wheel)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from toolkit import inputs

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def profiles_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    installed = here / "_bundled_profiles"
    if installed.is_dir():
        return installed
    return here.parent / "profiles"


def bundled_path(name: str) -> Path | None:
    if not NAME.fullmatch(name):
        return None
    candidate = profiles_dir() / f"{name}.yaml"
    return candidate if candidate.is_file() else None


def did_you_mean(name: str) -> str | None:
    """`did you mean 'pytorch-cuda'?` for a mistyped bundled profile name, else None."""
    names = [p.stem for p in profiles_dir().glob("*.yaml")]
    variants = {n.replace("-", "_").lower(): n for n in names}
    exact = variants.get(name.replace("-", "_").lower())
    close = [exact] if exact else difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def list_bundled() -> list[tuple[str, str, Path]]:
    """(name, description, path) of every bundled profile, sorted by name."""
    out = []
    for path in sorted(profiles_dir().glob("*.yaml")):
        try:
            doc = inputs.load_yaml(path, what="profile").data or {}
        except inputs.InputError:
            doc = {}
        if not isinstance(doc, dict):
            doc = {}
        out.append((path.stem, str(doc.get("description", "")), path))
    return out
