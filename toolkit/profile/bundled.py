"""Where the bundled profiles live (repo checkout or installed wheel)."""

from __future__ import annotations

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
