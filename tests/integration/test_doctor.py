"""`toolkit doctor` end to end: on this machine (no GPU) and over real SSH to an sshd container."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.errors import EXIT_FAILED, EXIT_INVALID, EXIT_OK


def toolkit(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, timeout=timeout)


def assert_no_gpu_report(proc: subprocess.CompletedProcess) -> list[dict]:
    assert proc.returncode == EXIT_OK, proc.stdout + proc.stderr
    findings = json.loads(proc.stdout)
    assert findings[0]["code"] == "no-gpu" and findings[0]["severity"] == "info"
    assert findings[0]["title"] == "no NVIDIA GPU"
    assert not [f for f in findings if f["severity"] == "error"]
    assert {"code", "severity", "title", "detail", "fix"} == set(findings[0])
    return findings


def test_doctor_locally_on_this_machine_reports_no_gpu():
    findings = assert_no_gpu_report(toolkit("doctor", "--json"))
    assert [f["code"] for f in findings if f["code"].startswith("shm")], findings


def test_doctor_human_output_locally():
    proc = toolkit("doctor")
    assert proc.returncode == EXIT_OK, proc.stderr
    assert "no NVIDIA GPU" in proc.stdout and "0 error(s)" in proc.stdout


@pytest.mark.parametrize("args", [["--host", "http://127.0.0.1"], ["--host", "ssh://127.0.0.1:notaport"],
                                  ["--identity", __file__], ["--bogus"]])
def test_doctor_bad_usage_exits_2(args):
    assert toolkit("doctor", *args).returncode == EXIT_INVALID


@pytest.mark.docker
@pytest.mark.ssh
def test_doctor_over_ssh_reports_no_gpu(sshd_container):
    target = sshd_container("doctor")
    proc = toolkit("doctor", "--host", f"ssh://{target.user}@{target.host}:{target.port}",
                   "--known-hosts", str(target.known_hosts_path), "--identity", str(target.key_path), "--json")
    findings = assert_no_gpu_report(proc)
    # docker's default /dev/shm is 64 MiB: a warning, not an error
    assert "shm-small" in [f["code"] for f in findings]


@pytest.mark.docker
@pytest.mark.ssh
def test_doctor_refuses_an_unknown_host_key(sshd_container, tmp_path):
    target = sshd_container("doctor-unknown")
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    proc = toolkit("doctor", "--host", f"ssh://{target.user}@{target.host}:{target.port}",
                   "--known-hosts", str(empty), "--identity", str(target.key_path))
    assert proc.returncode == EXIT_FAILED, proc.stdout + proc.stderr
    assert "is not in" in proc.stderr and f"ssh-keyscan -p {target.port} 127.0.0.1 >>" in proc.stderr


ROOT = Path(__file__).resolve().parents[2]
TOOLKIT_EXE = Path(sys.executable).with_name("toolkit")  # the console script of the venv running the tests


def test_record_script_records_this_machine_in_the_fixture_format(tmp_path):
    """scripts/record-gpu-host.sh makes what tests/unit/gpu/test_recorded.py reads; here, a machine without a GPU."""
    from toolkit.gpu import diagnose

    out = tmp_path / "rec"
    proc = subprocess.run(["bash", str(ROOT / "scripts/record-gpu-host.sh"), str(out)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = (out / "MANIFEST.tsv").read_text().splitlines()
    assert manifest[0] == "file\texit\tcommand" and len(manifest) == 10
    assert "WRITE WHERE IT CAME FROM" in (out / "SOURCE.md").read_text()  # left for a person to fill in
    assert diagnose(json.loads((out / "probe.json").read_text()))[0].code == "no-gpu"
    again = subprocess.run(["bash", str(ROOT / "scripts/record-gpu-host.sh"), str(out)], capture_output=True, text=True)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_gpu_check_script_fails_without_a_gpu_and_keeps_the_recording(tmp_path):
    """The prepared GPU run: on a machine without a GPU, doctor says so and --require-gpu makes verify fail (3)."""
    out = tmp_path / "gc"
    assert TOOLKIT_EXE.exists(), "the tests run from a venv with toolkit installed (scripts/test.sh)"
    env = dict(os.environ, TOOLKIT=str(TOOLKIT_EXE), TOOLKIT_GPU_CHECK_OUT=str(out))
    proc = subprocess.run(["bash", str(ROOT / "scripts/gpu-check.sh")], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "no-gpu: no NVIDIA GPU" in proc.stdout and "failed  gpu_driver" in proc.stdout
    assert (out / "recording" / "probe.json").is_file() and (out / "doctor.json").is_file()
