"""One way to name a target (`--target`, `--inventory`, `--limit`) in apply, verify and doctor, end to end
against a real Docker engine and real sshd containers; the old spellings still work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.errors import EXIT_INVALID, EXIT_OK, EXIT_VERIFY_FAILED

from .harness import DEPLOY_PASSWORD, TEST_LABEL
from .test_verify import SSH_PROFILE

REPO = Path(__file__).resolve().parents[2]


def toolkit(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO), TOOLKIT_SUDO_PASSWORD=DEPLOY_PASSWORD)
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def no_gpu(findings: list[dict]) -> None:
    assert findings[0]["code"] == "no-gpu" and findings[0]["title"] == "no NVIDIA GPU", findings
    assert not [f for f in findings if f["severity"] == "error"], findings


@pytest.fixture
def running(docker_engine, base_image):
    """A running container of the base image (no python3 in it)."""
    c = docker_engine.containers.run(base_image, ["sleep", "infinity"], detach=True, labels={TEST_LABEL: "1"})
    yield c
    c.remove(force=True)


@pytest.mark.docker
def test_doctor_on_an_image_without_python_reports_no_gpu(base_image):
    proc = toolkit("doctor", "--target", f"docker-image://{base_image}", "--json")
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    no_gpu(json.loads(proc.stdout))
    human = toolkit("doctor", "--target", f"docker-image://{base_image}")
    assert human.returncode == EXIT_OK and "no NVIDIA GPU" in human.stdout and "0 error(s)" in human.stdout


@pytest.mark.docker
def test_doctor_on_a_running_container_and_this_machine_in_one_run(running):
    proc = toolkit("doctor", "--target", f"docker://{running.id}", "--target", "local", "--json")
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    reports = json.loads(proc.stdout)
    assert [r["target"] for r in reports] == [f"docker://{running.id}", "local"]
    for r in reports:
        no_gpu(r["findings"])
    # in the container, /dev/shm is docker's 64 MiB: a warning there, as over SSH
    assert "shm-small" in [f["code"] for f in reports[0]["findings"]]


@pytest.mark.docker
def test_doctor_on_a_container_with_python_ships_the_probe(sshd_container, tmp_path):
    target = sshd_container("doctor-py")       # the sshd image has python3: the Python probe runs there
    saved = tmp_path / "facts.json"
    proc = toolkit("doctor", "--target", f"docker://{target.container.id}", "--json", "--python", "/usr/bin/python3",
                   "--save-facts", str(saved))
    assert proc.returncode == EXIT_OK, proc.stderr
    no_gpu(json.loads(proc.stdout))
    raw = json.loads(saved.read_text())
    assert raw["container"] is True and raw["commands"]["frameworks"]["rc"] == 0


@pytest.mark.docker
def test_doctor_on_a_missing_image_or_stopped_container_is_exit_2(docker_engine, base_image):
    assert toolkit("doctor", "--target", "docker-image://toolkit-test/no-such-image:0").returncode == EXIT_INVALID
    c = docker_engine.containers.create(base_image, ["true"], labels={TEST_LABEL: "1"})
    try:
        res = toolkit("doctor", "--target", f"docker://{c.id}")
        assert res.returncode == EXIT_INVALID and "not running" in res.stderr
    finally:
        c.remove(force=True)


@pytest.mark.docker
@pytest.mark.ssh
@pytest.mark.parametrize("option", ["--target", "--host"])
def test_doctor_over_ssh_with_the_new_and_the_old_spelling(sshd_container, option):
    target = sshd_container(f"doctor{option.strip('-')}")
    proc = toolkit("doctor", option, f"ssh://{target.user}@{target.host}:{target.port}",
                   "--known-hosts", str(target.known_hosts_path), "--identity", str(target.key_path), "--json")
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    no_gpu(json.loads(proc.stdout))
    assert "deprecated" not in proc.stderr         # --host is a documented alias


@pytest.mark.docker
@pytest.mark.ssh
def test_verify_over_ssh_with_the_shared_ssh_options_and_the_old_minus_t(sshd_container, tmp_path):
    target = sshd_container("verify-opts")
    profile = tmp_path / "ssh-min.yaml"
    profile.write_text(SSH_PROFILE)
    url = f"ssh://{target.user}@{target.host}:{target.port}"
    keys = ("--known-hosts", str(target.known_hosts_path), "--identity", str(target.key_path))
    new = toolkit("verify", str(profile), "--target", url, *keys, "-k", "os_release or user")
    assert new.returncode == EXIT_OK, new.stdout + new.stderr
    assert "PASS  user:deploy" in new.stdout and "deprecated" not in new.stderr
    old = toolkit("verify", str(profile), "-t", url, *keys, "-k", "os_release or user")
    assert old.returncode == EXIT_OK, old.stdout + old.stderr
    assert "-t is deprecated: use --target" in old.stderr and "PASS  user:deploy" in old.stdout
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    refused = toolkit("verify", str(profile), "--target", url, "--known-hosts", str(empty), "--identity",
                      str(target.key_path), "-k", "os_release")
    assert refused.returncode == EXIT_INVALID, refused.stdout + refused.stderr      # unknown host key: unreachable


@pytest.mark.docker
@pytest.mark.ssh
def test_inventory_and_limit_in_verify_and_apply(sshd_container, tmp_path):
    a, b = sshd_container("inv-a"), sshd_container("inv-b")
    known = tmp_path / "known_hosts"
    known.write_text(a.known_hosts_path.read_text() + b.known_hosts_path.read_text())
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text(f"defaults: {{user: {a.user}, identity: {a.key_path}}}\n"
                         f"hosts:\n  gpu-a: {{address: 127.0.0.1, port: {a.port}}}\n"
                         f"  gpu-b: {{address: 127.0.0.1, port: {b.port}}}\n"
                         "groups:\n  second: {hosts: [gpu-b]}\n")
    profile = tmp_path / "ssh-min.yaml"
    profile.write_text(SSH_PROFILE)
    both = toolkit("verify", str(profile), "--inventory", str(inventory), "--known-hosts", str(known),
                   "-k", "os_release or user", "--json")
    assert both.returncode == EXIT_OK, both.stdout + both.stderr
    assert [d["target"] for d in json.loads(both.stdout)] == ["gpu-a", "gpu-b"]
    one = toolkit("verify", str(profile), "--inventory", str(inventory), "--limit", "second",
                  "--known-hosts", str(known), "-k", "os_release or user or venv", "--json")
    assert one.returncode == EXIT_VERIFY_FAILED, one.stdout + one.stderr   # no venv on the sshd host
    assert json.loads(one.stdout)["target"] == "gpu-b"
    unknown = toolkit("apply", str(profile), "--inventory", str(inventory), "--limit", "secnd", "--dry-run")
    assert unknown.returncode == EXIT_INVALID and "did you mean 'second'" in unknown.stderr
    dry = toolkit("apply", str(profile), "--inventory", str(inventory), "--limit", "gpu-a", "--known-hosts",
                  str(known), "--dry-run")
    assert dry.returncode == EXIT_OK, dry.stdout + dry.stderr
    assert "gpu-a" in dry.stdout and "gpu-b" not in dry.stdout + dry.stderr
    for spelling in (("--target", f"ssh://{b.user}@127.0.0.1:{b.port}"), ("--host", f"{b.user}@127.0.0.1:{b.port}")):
        res = toolkit("apply", str(profile), *spelling, "--known-hosts", str(known), "--identity", str(b.key_path),
                      "--dry-run")
        assert res.returncode == EXIT_OK, spelling + (res.stdout + res.stderr,)
        assert f"{b.user}@127.0.0.1:{b.port}" in res.stdout
