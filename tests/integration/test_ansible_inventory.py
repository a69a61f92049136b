"""An Ansible INI inventory, as Ansible users write it, driving `toolkit apply` (native engine and
--engine ansible) and `toolkit verify` against real sshd containers on 127.0.0.1, with `--limit`
picking a subset: only the limited hosts are touched, the others stay as they were."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.errors import EXIT_INVALID, EXIT_OK, EXIT_VERIFY_FAILED

from .harness import DEPLOY_PASSWORD
from .test_ansible_apply import _ansible  # noqa: F401 - skips (fails in CI) without ansible-playbook
from .test_apply import sh, write_profile

pytestmark = [pytest.mark.docker, pytest.mark.ssh]
REPO = Path(__file__).resolve().parents[2]
APPLIED = "id alice && jq --version && /opt/venv/bin/python -c 'import six'"
UNTOUCHED = "command -v jq || id alice 2>/dev/null || test -e /opt/venv || test -e /var/lib/toolkit || echo untouched"

INVENTORY = """\
# gpu hosts of a team, as an Ansible user keeps them
[trainers]
train1 ansible_host=127.0.0.1 ansible_port={p1}
train2 ansible_host=127.0.0.1 ansible_port={p2}

[spare]
spare1 ansible_host=127.0.0.1 ansible_port={p3}

[gpu:children]
trainers
spare

[gpu:vars]
ansible_user=deploy
ansible_ssh_private_key_file={key}
ansible_python_interpreter=/usr/bin/python3
ansible_ssh_common_args='-o ControlMaster=auto -o ControlPersist=60s'

[all:vars]
ansible_user=nobody
ansible_become_method=sudo
"""


def toolkit(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO), TOOLKIT_SUDO_PASSWORD=DEPLOY_PASSWORD)
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=REPO, check=False)


def test_ini_inventory_with_limit_in_both_engines_and_verify(sshd_container, ssh_keypair, tmp_path, host_ca_bundle):
    train1, train2, spare1 = (sshd_container(n) for n in ("ini-native", "ini-ansible", "ini-spare"))
    known = tmp_path / "known_hosts"
    known.write_text("".join(t.known_hosts_path.read_text() for t in (train1, train2, spare1)))
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(INVENTORY.format(p1=train1.port, p2=train2.port, p3=spare1.port, key=ssh_keypair[0]))
    (tmp_path / "ssh_config").write_text("")
    profile = write_profile(tmp_path, host_ca_bundle)
    common = ("--inventory", str(inventory), "--known-hosts", str(known), "--ssh-config", str(tmp_path / "ssh_config"))

    native = toolkit("apply", str(profile), *common, "--limit", "trainers:!train2", "--json",
                     "--log-dir", str(tmp_path / "logs-native"))
    assert native.returncode == EXIT_OK, native.stdout[-4000:] + native.stderr[-4000:]
    assert [(r["host"], r["status"], r["verify_ok"]) for r in json.loads(native.stdout)] == [("train1", "changed", True)]

    ansible = toolkit("apply", str(profile), *common, "--limit", "train2", "--engine", "ansible", "--json",
                      "--log-dir", str(tmp_path / "logs-ansible"))
    assert ansible.returncode == EXIT_OK, ansible.stdout[-4000:] + ansible.stderr[-4000:]
    assert "PLAY RECAP" in ansible.stderr and "train1" not in ansible.stderr and "spare1" not in ansible.stderr
    assert [(r["host"], r["status"], r["verify_ok"]) for r in json.loads(ansible.stdout)] == [("train2", "changed", True)]

    for applied in (train1, train2):
        text = sh(applied, APPLIED)
        assert "uid=1500(alice)" in text and "jq-" in text, text
    assert sh(spare1, UNTOUCHED).strip() == "untouched"      # limited out: never contacted, never changed

    both = toolkit("verify", str(profile), *common, "--limit", "trainers", "--json")
    assert both.returncode == EXIT_OK, both.stdout[-4000:] + both.stderr[-4000:]
    assert [d["target"] for d in json.loads(both.stdout)] == ["train1", "train2"]
    spare = toolkit("verify", str(profile), *common, "--limit", "spare", "--json")
    assert spare.returncode == EXIT_VERIFY_FAILED, spare.stdout[-4000:] + spare.stderr[-4000:]
    assert json.loads(spare.stdout)["target"] == "spare1"

    unknown = toolkit("verify", str(profile), *common, "--limit", "trainer")
    assert unknown.returncode == EXIT_INVALID and "did you mean 'trainers'?" in unknown.stderr
    assert "groups: trainers, spare, gpu" in unknown.stderr
