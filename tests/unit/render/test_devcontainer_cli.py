"""The real devcontainer CLI (npm @devcontainers/cli, installed into .tools/npm by
scripts/ensure-devcontainer-cli.sh) reads every bundled profile's rendered devcontainer.json without
error and sees exactly what toolkit wrote. A skip where it is missing, a failure under CI=true."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.render_fixtures import bundled_plans, in_ci
from toolkit.render import devcontainer

REPO = Path(__file__).resolve().parents[3]
LOCAL = REPO / ".tools" / "npm" / "bin" / "devcontainer"
PATH = ".devcontainer/devcontainer.json"

pytestmark = pytest.mark.lint


def cli() -> str:
    found = str(LOCAL) if LOCAL.exists() else shutil.which("devcontainer")
    if found is None:
        reason = "devcontainer CLI not found (run scripts/ensure-devcontainer-cli.sh)"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return found


def read_configuration(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([cli(), "read-configuration", "--workspace-folder", str(folder)],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name,plan", bundled_plans(), ids=lambda v: v if isinstance(v, str) else "")
def test_the_devcontainer_cli_reads_every_rendered_file(name, plan, tmp_path):
    text = devcontainer.render(plan).files[PATH]
    (tmp_path / ".devcontainer").mkdir()
    (tmp_path / PATH).write_text(text)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    res = read_configuration(tmp_path)
    assert res.returncode == 0, res.stderr
    seen = json.loads(res.stdout)["configuration"]
    seen.pop("configFilePath")
    assert seen == json.loads(text)           # the CLI read what toolkit wrote, nothing lost or changed
    if plan.target.gpu:
        assert seen["hostRequirements"] == {"gpu": "optional"}


def test_the_cli_refuses_a_broken_file(tmp_path):
    """The check above can fail: a file the CLI cannot read as a configuration is an error."""
    (tmp_path / ".devcontainer").mkdir()
    (tmp_path / PATH).write_text("[1]\n")
    assert read_configuration(tmp_path).returncode != 0
