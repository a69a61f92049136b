"""Where the bundled profiles live (repo checkout or installed wheel)."""

from __future__ import annotations

import difflib
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
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            doc = {}
        out.append((path.stem, str(doc.get("description", "")), path))
    return out
