"""What both render test trees (tests/unit/render: Dockerfile and devcontainer; tests/unit/render_hosts:
setup.sh and Ansible) share: WriteFile steps with their sha256, golden-file checks, the linters they
run, and the plans of the bundled profiles. Each tree keeps its own example plans (they mirror
different situations); the helpers around them live once, here."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from toolkit.model.plan import Plan
from toolkit.model.steps import WriteFile

UPDATE_GOLDEN = "TOOLKIT_UPDATE_GOLDEN"      # =1: golden files are rewritten from what renders now


def write_file(component: str, title: str, path: str, content: str, mode: str = "0644",
               owner: str = "root") -> WriteFile:
    return WriteFile(component, title, path=path, content=content, mode=mode, owner=owner,
                     sha256=hashlib.sha256(content.encode()).hexdigest())


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def tool(name: str, install: str, also: Path | None = None) -> str:
    """Path of a linter (on PATH, or in the folder `also`); a failure under CI=true, a skip elsewhere, when it
    is missing. `install`: a PyPI package, or the script that provides it."""
    path = shutil.which(name) or (str(also / name) if also is not None and (also / name).is_file() else None)
    if path is None:
        where = f"PATH or in {also}" if also is not None else "PATH"
        how = f"run {install}" if install.startswith("scripts/") else f"pip install {install}"
        reason = f"{name} not found on {where} ({how})"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return path


def check_golden(path: Path, text: str) -> None:
    """`text` equals the golden file at `path` (rewritten first when TOOLKIT_UPDATE_GOLDEN=1)."""
    if os.environ.get(UPDATE_GOLDEN) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    how = f"{UPDATE_GOLDEN}=1 python -m pytest {path.parent.parent.parent} (or scripts/update-renders.sh)"
    assert path.is_file(), f"missing golden file {path}; create it with {how}"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs from the golden file; if the change is intended, regenerate with {how}")


def bundled_plans() -> list[tuple[str, Plan]]:
    """(name, plan) of every bundled profile."""
    from toolkit.plan.builder import build_plan
    from toolkit.profile.bundled import list_bundled
    from toolkit.profile.loader import load_profile

    return [(name, build_plan(load_profile(path))) for name, _, path in list_bundled()]


def example_plans() -> list[tuple[str, Plan]]:
    """(name, plan) of every example profile in examples/ (examples/NAME/NAME.yaml): e.g. team-box, which uses
    every field of users, directories, mounts, requirement files, run steps and the Jupyter service."""
    from toolkit.plan.builder import build_plan
    from toolkit.profile.loader import load_profile

    root = Path(__file__).resolve().parents[2] / "examples"
    return [(f"example-{path.stem}", build_plan(load_profile(path))) for path in sorted(root.glob("*/*.yaml"))]


def locked_plans() -> list[tuple[str, Plan]]:
    """(name, locked plan) of two bundled profiles with a lock made up for them: the linters see what
    `--locked` renders (pinned OS packages, hashed requirement files, FROM by digest)."""
    from toolkit.lock.apply import locked_plan

    from .lock.fake_lock import fake_lock

    plans = dict(bundled_plans())
    return [(f"{name}-locked", locked_plan(plans[name], fake_lock(plans[name])))
            for name in ("datascience-cpu", "pytorch-cuda")]
