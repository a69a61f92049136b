"""--engine ansible for real: the rendered playbook run by ansible-playbook against sshd containers.

The `deploy` user logs in with a key and needs its password for sudo, host keys are checked
against each container's own known_hosts, and HTTPS from the containers goes through the
TLS-intercepting proxy, so the profile trusts this machine's CA bundle (network.ca_certificates).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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
name: ansible-light
description: light plan for the Ansible engine tests
os: {distro: debian, version: "12"}
python: {version: system, venv: /opt/venv}
packages: {apt: [jq], pip: ["six==1.16.0"]}
user: {name: alice, uid: 1500, gid: 1500}
git: {enabled: true, config: {init.defaultBranch: main}}
"""
CHECK_HOST = ("jq --version && id alice && /opt/venv/bin/python -c 'import six' "
              "&& git config --system init.defaultBranch && stat -c %U /opt/venv/bin")


@pytest.fixture(scope="module", autouse=True)
def _ansible():
    try:
        ansible_engine.find_ansible_playbook()
    except ansible_engine.ToolkitError:
        harness.skip_or_fail("ansible-playbook not installed (pip install ansible-core)")


@pytest.fixture
def profile(tmp_path, host_ca_bundle) -> Path:
    text = PROFILE
    if host_ca_bundle is not None:
        shutil.copy(host_ca_bundle, tmp_path / "host-ca.crt")
        text += "network:\n  ca_certificates: [host-ca.crt]\n"
    (tmp_path / "profile.yaml").write_text(text)
    return tmp_path / "profile.yaml"


def host_of(t: harness.SshTarget) -> Host:
    return Host(name=f"deploy@127.0.0.1:{t.port}", hostname=t.host, port=t.port, user=t.user,
                identity=str(t.key_path), known_hosts=str(t.known_hosts_path))


def run(plan, targets, lines: list[str], **kw):
    return ansible_engine.run_ansible(plan, [host_of(t) for t in targets], forks=8,
                                      become_password=targets[0].password, display=lines.append, **kw)


def recap(lines: list[str]) -> list[str]:
    return [ln for ln in lines if " : ok=" in ln]


def test_two_hosts_then_nothing_changes(sshd_container, profile, tmp_path):
    plan = build_plan(load_profile(profile))
    targets = [sshd_container("ans1"), sshd_container("ans2")]

    first: list[str] = []
    results = run(plan, targets, first, log_dir=tmp_path / "logs")
    assert [r.status for r in results] == ["changed", "changed"], "\n".join(first[-60:])
    assert all(r.steps_changed > 0 and r.steps_total == len(plan.steps) and not r.tail for r in results)
    assert Path(results[0].log_path).read_text().count(" : ok=") == 2
    for t in targets:
        rc, out = t.container.exec_run(["sh", "-c", CHECK_HOST])
        text = out.decode()
        assert rc == 0 and "uid=1500(alice)" in text and "\nmain\n" in text and text.endswith("alice\n"), text

    second: list[str] = []
    results = run(plan, targets, second)
    assert [(r.status, r.steps_changed) for r in results] == [("unchanged", 0)] * 2, "\n".join(second[-60:])
    assert len(recap(second)) == 2 and all("changed=0" in ln and "failed=0" in ln for ln in recap(second))


def test_check_changes_nothing_then_cli_applies(sshd_container, profile, tmp_path):
    plan = build_plan(load_profile(profile))
    target = sshd_container("ans-check")

    lines: list[str] = []
    [result] = run(plan, [target], lines, check=True)
    assert result.status == "would-change" and result.steps_changed > 0, "\n".join(lines[-60:])
    untouched = "command -v jq || id alice 2>/dev/null || test -e /opt/venv || test -e /etc/toolkit || echo untouched"
    rc, out = target.container.exec_run(["sh", "-c", untouched])
    assert out.decode().strip() == "untouched"

    # The CLI end to end: toolkit apply --engine ansible, then its verify suite over SSH.
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO), TOOLKIT_SUDO_PASSWORD=target.password)
    proc = subprocess.run(
        [sys.executable, "-m", "toolkit", "apply", str(profile), "--engine", "ansible",
         "--host", f"ssh://deploy@127.0.0.1:{target.port}", "--known-hosts", str(target.known_hosts_path),
         "--identity", str(target.key_path), "--log-dir", str(tmp_path / "logs"), "--json"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "PLAY RECAP" in proc.stderr
    doc = json.loads(proc.stdout)   # with --json, progress goes to stderr
    assert [(r["status"], r["verify_ok"]) for r in doc] == [("changed", True)], doc
    rc, out = target.container.exec_run(["sh", "-c", CHECK_HOST])
    assert rc == 0, out.decode()


def test_unknown_host_key_is_refused(sshd_container, profile, tmp_path):
    plan = build_plan(load_profile(profile))
    target = sshd_container("ans-unknown")
    (tmp_path / "empty_known_hosts").write_text("")
    host = Host(name="stranger", hostname=target.host, port=target.port, user=target.user,
                identity=str(target.key_path))
    lines: list[str] = []
    [result] = ansible_engine.run_ansible(plan, [host], known_hosts=str(tmp_path / "empty_known_hosts"),
                                          become_password=target.password, display=lines.append)
    assert result.status == "unreachable" and any("Host key verification failed" in t for t in result.tail), lines
