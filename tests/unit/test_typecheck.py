"""mypy and ruff with the project's config (pyproject.toml) report nothing; the mypy baseline of
modules whose errors are ignored (issue 16) only holds modules that still need it, so it can only shrink.

mypy keeps its cache in .mypy_cache at the repository root: a warm run takes about a second."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.render_fixtures import in_ci

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
BASELINE_FLAG = "ignore_errors = true"


def mypy(*args: str, config: Path = PYPROJECT) -> subprocess.CompletedProcess:
    if importlib.util.find_spec("mypy") is None:
        reason = "mypy is not installed (pip install -e '.[test]')"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(config), "--no-error-summary",
                           "--hide-error-context", *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def baseline_modules() -> list[str]:
    """The modules of the [[tool.mypy.overrides]] block that sets ignore_errors."""
    blocks = PYPROJECT.read_text(encoding="utf-8").split("[[tool.mypy.overrides]]")
    baseline = [b for b in blocks[1:] if BASELINE_FLAG in b]
    assert len(baseline) == 1, "pyproject.toml needs exactly one [[tool.mypy.overrides]] block with ignore_errors"
    listed = re.search(r"module\s*=\s*\[(.*?)\]", baseline[0], re.S)
    assert listed, "the baseline block names no modules"
    return re.findall(r'"([\w.]+)"', listed.group(1))


@pytest.mark.lint
def test_mypy_project_config_is_clean():
    proc = mypy()
    assert proc.returncode == 0, f"mypy (project config) reports errors:\n{proc.stdout}{proc.stderr}"


@pytest.mark.lint
def test_mypy_run_reports_an_error(tmp_path):
    """The run above can fail: the same config and invocation catch a plain type error."""
    bad = tmp_path / "bad.py"
    bad.write_text("count: int = 'three'\n", encoding="utf-8")
    proc = mypy(str(bad))
    assert proc.returncode == 1 and "Incompatible types in assignment" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.lint
def test_mypy_baseline_only_shrinks(tmp_path):
    """Each baselined module exists and still has errors; once it has none, drop it from the list."""
    modules = baseline_modules()
    for module in modules:
        path = ROOT.joinpath(*module.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), (
            f"baseline module {module} no longer exists: drop it from [[tool.mypy.overrides]] in pyproject.toml")
    config = tmp_path / "pyproject.toml"
    config.write_text(PYPROJECT.read_text(encoding="utf-8").replace(BASELINE_FLAG, "ignore_errors = false"),
                      encoding="utf-8")
    proc = mypy(config=config)
    failing = {m for m in modules if f"{m.replace('.', '/')}.py:" in proc.stdout
               or f"{m.replace('.', '/')}/__init__.py:" in proc.stdout}
    clean = sorted(set(modules) - failing)
    assert not clean, (f"now type-clean, drop from the mypy baseline in pyproject.toml: {', '.join(clean)}\n"
                       + proc.stdout + proc.stderr)


@pytest.mark.lint
def test_ruff_project_config_is_clean():
    """ruff ([tool.ruff] in pyproject.toml: pyflakes, isort, bugbear, pyupgrade) finds nothing."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        reason = "ruff is not installed (pip install -e '.[test]')"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    proc = subprocess.run([ruff, "check", "--no-cache", "--output-format", "concise", "toolkit", "tests", "bench",
                           "scripts"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
