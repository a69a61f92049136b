"""One profile with every field of issue 13 (examples/team-box), for real.

On a host: a systemd container (tests/integration/systemd_host.py, so the Jupyter unit runs and a tmpfs can be
mounted) named in an Ansible INI inventory, applied over SSH on 127.0.0.1 with `--inventory`: users and groups,
an authorized key alice logs in with, the data mount (a tmpfs here, in /etc/fstab), folders on it with their
owner/group/mode, the requirement files' packages, the run steps (each exactly once across two applies), the
Jupyter service. The second apply changes nothing; verify passes as deploy through the inventory and as root
(who sees everything: nothing skipped).

In an image: the same profile (the example's parent plus the local base image) builds; accounts and mounts are
noted as host-only, the folders are there, the run steps of root and dev ran (alice's is a host-only step),
and verify passes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.errors import EXIT_OK

from . import harness, images
from .harness import DEPLOY_PASSWORD, REPO_ROOT, TEST_LABEL
from .test_accounts_apply import login

pytestmark = [pytest.mark.docker, pytest.mark.ssh]

EXAMPLE = REPO_ROOT / "examples" / "team-box"
TMPFS = [{"device": "tmpfs", "path": "/data", "fstype": "tmpfs", "options": ["size=64m", "mode=0755"]}]
INVENTORY = """\
# the team's box, as an Ansible user keeps it
[gpu]
box ansible_host=127.0.0.1 ansible_port={port}

[gpu:vars]
ansible_user=deploy
ansible_ssh_private_key_file={key}
"""
# what each run step leaves, and the requirement files' packages (tomli's marker does not hold on Python 3.11)
FACTS = ("cat /var/lib/team-box/script-runs /home/dev/notes; cat /home/alice/notes 2>/dev/null || echo no-alice-notes; "
         "wc -l </var/lib/team-box/stamp; /opt/venv/bin/python -c "
         "'import requests, socks, six, tqdm; print(requests.__version__, six.__version__, tqdm.__version__)'; "
         "/opt/venv/bin/python -c 'import tomli' 2>/dev/null && echo tomli-installed || echo no-tomli")


def toolkit(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO_ROOT), TOOLKIT_SUDO_PASSWORD=DEPLOY_PASSWORD)
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=REPO_ROOT, check=False)


def example_copy(folder: Path, alice_public_key: str | None = None) -> Path:
    """The example, copied (alice's key replaced by the test's when given)."""
    shutil.copytree(EXAMPLE, folder)
    if alice_public_key:
        (folder / "keys" / "alice.pub").write_text(f"# alice's laptop\n{alice_public_key}\n")
    return folder / "team-box.yaml"


def root(target: harness.SshTarget, script: str) -> str:
    rc, out = target.container.exec_run(["sh", "-c", script], user="root")
    text = out.decode(errors="replace")
    assert rc == 0, text
    return text


def test_every_field_through_an_ini_inventory_twice_then_verify(systemd_target, tmp_path, host_ca_bundle,
                                                                 ssh_keypair):
    alice_key, alice_public = harness.generate_keypair(tmp_path / "alice-key", "alice")
    parent = example_copy(tmp_path / "team-box", alice_public)
    profile = images.child_profile(tmp_path / "host", "team-box-host", str(parent), None, host_ca_bundle,
                                   mounts=TMPFS)
    target = systemd_target()
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(INVENTORY.format(port=target.port, key=ssh_keypair[0]))
    (tmp_path / "ssh_config").write_text("")
    common = ("--inventory", str(inventory), "--known-hosts", str(target.known_hosts_path),
              "--ssh-config", str(tmp_path / "ssh_config"))
    argv = ("apply", str(profile), *common, "--json", "--log-dir", str(tmp_path / "logs"))

    first = toolkit(*argv)
    assert first.returncode == EXIT_OK, first.stdout[-4000:] + first.stderr[-8000:]
    [one] = json.loads(first.stdout)
    assert (one["host"], one["status"], one["verify_ok"]) == ("box", "changed", True), one
    second = toolkit(*argv)
    assert second.returncode == EXIT_OK, second.stdout[-4000:] + second.stderr[-8000:]
    [two] = json.loads(second.stdout)
    assert (two["status"], two["steps_changed"], two["verify_ok"]) == ("unchanged", 0, True), \
        (two, second.stderr[-6000:])

    # each run step exactly once across the two applies; the packages of the requirement files, not tomli
    assert root(target, FACTS).splitlines() == ["warm", "hello team", "alice", "1", "2.32.3 1.16.0 4.67.1",
                                                "no-tomli"]
    # accounts, groups, sudo, the key
    facts = root(target, "id alice; id bob; getent group gpu docker; cat /etc/sudoers.d/toolkit-alice; "
                         "stat -c '%U:%G:%a' /home/alice/.ssh/authorized_keys")
    assert re.search(r"uid=2001\(alice\) gid=2001\(alice\) groups=2001\(alice\),.*\(gpu\)", facts), facts
    assert "(docker)" in facts.split("uid=2002")[0] and "uid=2002(bob) gid=2002(bob)" in facts, facts
    assert "alice ALL=(ALL:ALL) NOPASSWD: ALL" in facts and "alice:alice:600" in facts, facts
    said = login(target, "alice", alice_key)
    assert "uid=2001(alice)" in said and "SUDO-OK" in said, said
    # the data mount (tmpfs, in fstab) with the folders on it
    mounted = root(target, "findmnt -rn --mountpoint /data -o SOURCE,FSTYPE; grep ' /data ' /etc/fstab; "
                           "stat -c '%U:%G:%a' /data/shared /data/cache")
    assert mounted.splitlines() == ["tmpfs tmpfs", "tmpfs /data tmpfs size=64m,mode=0755 0 0", "alice:gpu:2775",
                                    "dev:dev:750"], mounted
    # the Jupyter service, on loopback, as dev
    assert root(target, "systemctl is-enabled toolkit-jupyter; systemctl is-active toolkit-jupyter").split() == \
        ["enabled", "active"]

    # verify through the inventory (as deploy: what it cannot see is skipped, saying so) and as root (all of it)
    through = toolkit("verify", str(profile), *common, "--json")
    assert through.returncode == EXIT_OK, through.stdout[-6000:] + through.stderr[-3000:]
    as_root = toolkit("verify", str(profile), "--target", f"ssh://root@127.0.0.1:{target.port}", "--known-hosts",
                      str(target.known_hosts_path), "--ssh-config", str(tmp_path / "ssh_config"), "--identity",
                      str(ssh_keypair[0]), "--json")
    assert as_root.returncode == EXIT_OK, as_root.stdout[-6000:] + as_root.stderr[-3000:]
    statuses = {c["id"]: c["status"] for c in json.loads(as_root.stdout)["checks"]}
    assert set(statuses.values()) == {"passed"}, statuses
    for wanted in ("account:alice", "account:bob", "mount:/data", "directory:/data/shared", "directory:/data/cache",
                   "pip_package:requests", "pip_package:six", "pip_package:tqdm", "command:run.notes",
                   "command:run.alice-notes", "command:run.stamp", "file:/var/lib/team-box/warm", "jupyter_service"):
        assert wanted in statuses, (wanted, sorted(statuses))
    assert any(k.startswith("authorized_key:alice:") for k in statuses), sorted(statuses)


def test_every_field_builds_an_image_whose_steps_ran_and_verifies(docker_engine, base_image, host_ca_bundle,
                                                                  tmp_path):
    parent = example_copy(tmp_path / "team-box")
    profile = images.child_profile(tmp_path / "image", "team-box-image", str(parent), base_image, host_ca_bundle)
    planned = toolkit("plan", str(profile))
    assert planned.returncode == EXIT_OK, planned.stderr
    assert "host-only: users/mounts ignored in images" in planned.stderr + planned.stdout
    assert "alice-notes) runs as alice, an account only hosts have: images skip this step" in \
        planned.stderr + planned.stdout

    built = images.build_profile_image(docker_engine, profile, tmp_path / "build", base_image)
    dockerfile = (built.context / "Dockerfile").read_text()
    assert "host only: accounts and mounts are not made in images" in dockerfile
    output = docker_engine.containers.run(
        built.tag, ["sh", "-c", FACTS + "; stat -c '%u:%G:%a' /data/shared; stat -c '%U:%G:%a' /data/cache; "
                    "getent passwd alice || echo no-alice"],
        remove=True, user="root", labels={TEST_LABEL: "1"}).decode()
    assert output.splitlines() == ["warm", "hello team", "no-alice-notes", "1", "2.32.3 1.16.0 4.67.1", "no-tomli",
                                   "2001:gpu:2775", "dev:dev:750", "no-alice"], output

    result = toolkit("verify", str(profile), "--target", f"docker-image://{built.tag}", "--json")
    assert result.returncode == EXIT_OK, result.stdout[-6000:] + result.stderr[-3000:]
    statuses = {c["id"]: c["status"] for c in json.loads(result.stdout)["checks"]}
    assert "failed" not in statuses.values(), statuses
    for wanted in ("directory:/data/shared", "directory:/data/cache", "pip_package:requests", "pip_package:tqdm",
                   "command:run.notes", "command:run.stamp", "file:/var/lib/team-box/warm", "jupyter"):
        assert statuses.get(wanted) == "passed", (wanted, statuses)
    # host-only: no account, key, mount or alice's step is checked in an image
    assert not [k for k in statuses if k.startswith(("account:", "authorized_key:", "mount:", "command:run.alice"))]
