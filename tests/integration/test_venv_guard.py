"""A venv path that already exists on a host but is not a virtual environment is refused before any
step runs, by setup.sh (in a Debian 12 container) and by the playbook (ansible-playbook over SSH):
nothing is created, nothing is chowned, the user's files stay as they were.

Validation already refuses system folders (/usr, /etc, /home/USER...); this covers the folders it
cannot know about, such as a data folder at /srv/app.
"""

from __future__ import annotations

import uuid

import pytest

from toolkit.executors import ansible_engine
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import script

from . import harness
from .test_ansible_apply import host_of
from .test_script_idempotent import put_script, run

pytestmark = pytest.mark.docker

VENV = "/srv/app"
PROFILE = f"""\
name: venv-guard
os: {{distro: debian, version: "12"}}
python: {{venv: {VENV}}}
packages: {{apt: [jq]}}
user: {{name: alice, uid: 1500, gid: 1500}}
"""
REFUSED = "exists and is not a Python virtual environment (no pyvenv.cfg)"
# What must still hold after a refused run: the file is there and root's, no venv, no user, no state.
UNTOUCHED = (f'test "$(stat -c %U {VENV}/data.txt)" = root && ! test -e {VENV}/bin && ! id alice 2>/dev/null '
             "&& ! test -e /var/lib/toolkit/state.json && ! command -v jq && echo untouched")


@pytest.fixture
def plan(tmp_path):
    (tmp_path / "profile.yaml").write_text(PROFILE)
    return build_plan(load_profile(tmp_path / "profile.yaml"))


@pytest.fixture
def container(docker_engine, base_image):
    c = docker_engine.containers.run(base_image, ["sleep", "infinity"], detach=True,
                                     name=f"toolkit-test-venv-guard-{uuid.uuid4().hex[:8]}",
                                     labels={harness.TEST_LABEL: "1"})
    yield c
    harness.remove_container(c)


def sh(container, command: str) -> tuple[int, str]:
    rc, out = container.exec_run(["sh", "-c", command], user="root")
    return rc, out.decode(errors="replace")


@pytest.mark.parametrize("setup", [
    f"mkdir -p {VENV} && echo keep > {VENV}/data.txt",                                  # a data folder
    f"mkdir -p /srv/real && echo keep > /srv/real/data.txt && ln -s /srv/real {VENV} && "
    f"ln -s /srv/real/data.txt /srv/real-data.txt",                                        # a link to one
], ids=["folder", "symlink"])
def test_setup_sh_refuses_a_folder_that_is_not_a_venv(plan, container, setup):
    assert sh(container, setup)[0] == 0
    put_script(container, script.render(plan).files["setup.sh"])
    for args in ((), ("--dry-run",)):
        rc, out, _ = run(container, *args)
        assert rc == 1, out[-3000:]
        assert f"setup.sh: {VENV} {REFUSED}" in out, out[-3000:]
        assert "[run]" not in out and "[would change]" not in out and "[ok]" not in out, out[-3000:]
    assert sh(container, UNTOUCHED) == (0, "untouched\n")


def test_setup_sh_refuses_a_file(plan, container):
    assert sh(container, f"mkdir -p /srv && echo keep > {VENV}")[0] == 0
    put_script(container, script.render(plan).files["setup.sh"])
    rc, out, _ = run(container)
    assert rc == 1 and REFUSED in out, out[-3000:]
    assert sh(container, f"cat {VENV}") == (0, "keep\n")


@pytest.mark.parametrize("setup", [
    "true",                                                                       # missing: created later
    f"mkdir -p {VENV}",                                                           # an empty folder
    f"mkdir -p {VENV}/bin && touch {VENV}/pyvenv.cfg {VENV}/bin/python",         # already a venv
], ids=["missing", "empty", "venv"])
def test_setup_sh_accepts_missing_empty_or_venv(plan, container, setup):
    assert sh(container, setup)[0] == 0
    put_script(container, script.render(plan).files["setup.sh"])
    rc, out, _ = run(container, "--dry-run")
    assert rc == 0 and REFUSED not in out and "[would change]" in out, out[-3000:]


@pytest.mark.ssh
def test_playbook_refuses_a_folder_that_is_not_a_venv(sshd_container, plan):
    try:
        ansible_engine.find_ansible_playbook()
    except ansible_engine.ToolkitError:
        harness.skip_or_fail("ansible-playbook not installed (pip install ansible-core)")
    target = sshd_container("venv-guard")
    assert sh(target.container, f"mkdir -p {VENV} && echo keep > {VENV}/data.txt")[0] == 0
    lines: list[str] = []
    [result] = ansible_engine.run_ansible(plan, [host_of(target)], forks=1, become_password=target.password,
                                          display=lines.append)
    text = "\n".join(lines)
    assert result.status == "failed", text[-4000:]
    assert f"{VENV} {REFUSED}" in text, text[-4000:]
    assert sh(target.container, UNTOUCHED) == (0, "untouched\n")
