"""Jinja in inventory values against real ansible-playbook and a real sshd container on 127.0.0.1.

Two layers keep a `{{ lookup('pipe', ...) }}` in an inventory, an ssh config or a path option from
running on this machine: toolkit refuses such values (exit 2, before ansible-playbook starts), and
every value it writes into Ansible's inventory is tagged `!unsafe`. The first test drives the CLI
(--dry-run and a real run); the second turns the first layer off and shows that, with a key file
whose very name is a Jinja pipe lookup, real ansible-playbook still only reads it as a file name:
the run connects with that key, applies, and the marker file is never created.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from toolkit.executors import ansible_engine
from toolkit.executors.inventory import Host
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile

from . import harness

pytestmark = [pytest.mark.docker, pytest.mark.ssh]
REPO = Path(__file__).resolve().parents[2]
PROFILE = """\
name: hostile-remote
description: light plan for hostile remote input
os: {distro: debian, version: "12"}
user: {name: alice, uid: 1500, gid: 1500}
"""


@pytest.fixture(scope="module", autouse=True)
def _ansible():
    try:
        ansible_engine.find_ansible_playbook()
    except ansible_engine.ToolkitError:
        harness.skip_or_fail("ansible-playbook not installed (pip install ansible-core)")


@pytest.fixture
def marker() -> Path:
    path = Path(f"/tmp/PWNED-{uuid.uuid4().hex}")
    yield path
    path.unlink(missing_ok=True)


def pipe(marker: Path) -> str:
    return f"{{{{ lookup('pipe', 'touch {marker}') }}}}"


def cli(tmp_path: Path, target: harness.SshTarget, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "profile.yaml").write_text(PROFILE)
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO), TOOLKIT_SUDO_PASSWORD=target.password)
    return subprocess.run([sys.executable, "-m", "toolkit", "apply", str(tmp_path / "profile.yaml"), "--engine",
                           "ansible", "--log-dir", str(tmp_path / "logs"), *args],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600, check=False)


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "real-run"])
def test_hostile_inventory_is_refused_before_ansible_starts(sshd_container, tmp_path, marker, dry_run):
    target = sshd_container("hostile-cli")
    j = pipe(marker).replace('"', '\\"')
    good = f"address: 127.0.0.1, port: {target.port}, user: {target.user}"
    (tmp_path / "ssh_config").write_text(f"Host via-config\n  IdentityFile /k/{pipe(marker)}\n"
                                         f"  HostName 127.0.0.1\n  Port {target.port}\n")
    cases = [
        ["--inventory", f"hosts:\n  a: {{{good}, identity: \"{target.key_path}{j}\"}}\n"],
        ["--inventory", f"hosts:\n  a: {{{good}, user: \"{j}\"}}\n"],
        ["--inventory", f"hosts:\n  a: {{{good}}}\ngroups:\n  g: {{hosts: [a], identity: \"/k/{j}\"}}\n"],
        ["--inventory", f"defaults: {{jump: \"{j}@127.0.0.1\"}}\nhosts:\n  a: {{{good}}}\n"],
        ["--host", "via-config", "--ssh-config", str(tmp_path / "ssh_config")],
        ["--host", f"{target.user}@127.0.0.1:{target.port}", "--known-hosts", f"/kh/{pipe(marker)}"],
        ["--inventory", f"hosts:\n  a: {{{good}, identity: \"/k/id\\\"\\nProxyCommand touch {marker}\"}}\n"],
    ]
    for n, (option, value, *rest) in enumerate(cases):
        if option == "--inventory":
            (tmp_path / f"hosts{n}.yaml").write_text(value)
            value = str(tmp_path / f"hosts{n}.yaml")
        known = [] if "--known-hosts" in rest else ["--known-hosts", str(target.known_hosts_path)]
        proc = cli(tmp_path, target, option, value, *rest, *known, *(["--dry-run"] if dry_run else []))
        output = proc.stdout + proc.stderr
        assert proc.returncode == 2, output
        assert "Traceback" not in output and "PLAY" not in output and "error:" in output, output
        assert not marker.exists(), f"case {n} ran a command on the controller"
    rc, out = target.container.exec_run(["sh", "-c", "id alice 2>/dev/null || echo untouched"])
    assert out.decode().strip() == "untouched"


@pytest.mark.parametrize("check", [True, False], ids=["check", "apply"])
def test_unsafe_tag_alone_keeps_ansible_from_templating(sshd_container, tmp_path, marker, monkeypatch, check):
    """The second layer by itself: the checks are switched off, the hostile key file name goes through."""
    target = sshd_container("hostile-unsafe")
    monkeypatch.setenv("TOOLKIT_TEST_MARKER", str(marker))
    key = tmp_path / "id_{{ lookup('pipe', 'touch $TOOLKIT_TEST_MARKER') }}"   # a real key, a hostile name
    shutil.copy(target.key_path, key)
    key.chmod(0o600)
    monkeypatch.setattr(ansible_engine, "checked_host", lambda host: host)
    monkeypatch.setattr(ansible_engine, "check_path", lambda what, path: path)
    (tmp_path / "profile.yaml").write_text(PROFILE)
    plan = build_plan(load_profile(tmp_path / "profile.yaml"))
    host = Host(name="hostile", hostname=target.host, port=target.port, user=target.user, identity=str(key),
                known_hosts=str(target.known_hosts_path))
    lines: list[str] = []
    [result] = ansible_engine.run_ansible(plan, [host], check=check, become_password=target.password,
                                          display=lines.append, log_dir=tmp_path / "logs")
    assert result.status == ("would-change" if check else "changed"), "\n".join(lines[-60:])
    assert not marker.exists(), "ansible-playbook templated an inventory value"
    rc, out = target.container.exec_run(["sh", "-c", "id -u alice 2>/dev/null || echo untouched"])
    assert out.decode().strip() == ("untouched" if check else "1500")
