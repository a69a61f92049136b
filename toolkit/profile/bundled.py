"""Where the bundled profiles live (repo checkout or installed wheel)."""

from __future__ import annotations

from pathlib import Path

import yaml


def profiles_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    installed = here / "_bundled_profiles"
    if installed.is_dir():
        return installed
    return here.parent / "profiles"


def bundled_path(name: str) -> Path | None:
    candidate = profiles_dir() / f"{name}.yaml"
    return candidate if candidate.is_file() else None


def list_bundled() -> list[tuple[str, str, Path]]:
    """(name, description, path) of every bundled profile, sorted by name."""
    out = []
    for path in sorted(profiles_dir().glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            doc = {}
        out.append((path.stem, str(doc.get("description", "")), path))
    return out
