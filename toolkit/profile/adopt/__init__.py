"""`toolkit init --from`: a profile from the files people already have (see draft.py)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from pathlib import Path

from toolkit.errors import UsageError
from toolkit.profile.adopt import cog, conda, devcontainer, python_files
from toolkit.profile.adopt.draft import Draft

Reader = Callable[[Draft, Path, dict[str, str]], None]
# file name pattern (lower case) -> reader; the first that matches
KINDS: tuple[tuple[str, str, Reader], ...] = (
    ("cog.yaml", "cog.yaml", cog.cog),
    ("pyproject.toml", "pyproject.toml", python_files.pyproject),
    ("*devcontainer.json", "devcontainer.json", devcontainer.devcontainer),
    ("environment*.y*ml", "environment.yml (conda)", conda.environment),
    ("*conda*.y*ml", "environment.yml (conda)", conda.environment),
    ("*.txt", "requirements file", python_files.requirements),
    ("*.in", "requirements file", python_files.requirements),
)


def kind_of(path: Path) -> tuple[str, Reader]:
    name = path.name.lower()
    for pattern, label, reader in KINDS:
        if fnmatch.fnmatch(name, pattern):
            return label, reader
    raise UsageError(f"--from {path}: cannot tell what kind of file this is",
                     "toolkit init reads requirements*.txt, pyproject.toml, environment.yml, cog.yaml and "
                     "devcontainer.json (by file name)")


def adopt(paths: list[Path], newest: dict[str, str]) -> Draft:
    """Read every file into one Draft; `newest` maps a frameworks section to the release to pin when a file
    names the framework without a version."""
    draft = Draft()
    for path in paths:
        _, reader = kind_of(path)
        reader(draft, path, newest)
    draft.settle(newest)
    return draft
