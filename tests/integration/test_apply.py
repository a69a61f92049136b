"""`toolkit apply` (native engine) against real sshd containers: deploy user, sudo with a password.

Covers: three hosts applied in parallel and verified, a second apply that changes nothing, the
sudo password kept out of logs, `ps` and files on the hosts, a changed host key and an unknown
host refused while the others complete, an unreachable port, a connection killed mid-apply
then a rerun that completes, and --dry-run on a fresh host. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .harness import DEPLOY_PASSWORD
from .test_script_idempotent import PROFILE  # the same light profile: apt jq, venv + six, git, user alice

pytestmark = [pytest.mark.docker, pytest.mark.ssh]

REPO = Path(__file__).resolve().parents[2]
LEFT_FILES = "grep -rlsF -e \"$1\" /tmp /var/tmp /root /home /var/lib/toolkit || true"


def write_profile(folder: Path, ca_bundle: Path | None, wheelhouse: bool = False) -> Path:
    network = []
    if ca_bundle is not None:        # HTTPS from the containers goes through a TLS-intercepting proxy
        shutil.copy(ca_bundle, folder / "host-ca.crt")
        network.append("  ca_certificates: [host-ca.crt]\n")
    if wheelhouse:                   # a CopyTree: uploaded, then put in place as root before setup.sh runs
        (folder / "wheels" / "sub").mkdir(parents=True)
        (folder / "wheels" / "sub" / "note.txt").write_text("not a wheel: skipped\n")
        (folder / "wheels" / "note-1.0-py3-none-any.whl").write_text("a stand-in wheel\n")
        (folder / "wheels" / "key.whl").symlink_to("/etc/shadow")       # never followed
        network.append("  wheelhouse: wheels\n")
    path = folder / "profile.yaml"
    path.write_text(PROFILE + ("network:\n" + "".join(network) if network else ""))
    return path


@pytest.fixture
def profile(tmp_path, host_ca_bundle) -> Path:
    return write_profile(tmp_path, host_ca_bundle)


class Apply:
    """Runs `toolkit apply PROFILE --host ...` with explicit ssh files and the sudo password in the env."""

    def __init__(self, profile: Path, tmp: Path, key: Path):
        self.profile, self.tmp, self.key = profile, tmp, key
        self.known_hosts = tmp / "known_hosts"
        self.known_hosts.touch()
        self.ssh_config = tmp / "ssh_config"
        self.ssh_config.touch()
        self.logs = tmp / "logs"

    def trust(self, *targets, as_port: int | None = None) -> None:
        """Add the targets' keys to known_hosts (under `as_port` when given: a wrong key for that port)."""
        with self.known_hosts.open("a") as fh:
            for t in targets:
                text = t.known_hosts_path.read_text()
                fh.write(text.replace(f"]:{t.port} ", f"]:{as_port} ") if as_port else text)

    def argv(self, *hosts, extra: tuple[str, ...] = ()) -> list[str]:
        urls = [h if isinstance(h, str) else f"ssh://{h.user}@{h.host}:{h.port}" for h in hosts]
        return [sys.executable, "-m", "toolkit", "apply", str(self.profile), *[a for u in urls for a in ("--host", u)],
                "--known-hosts", str(self.known_hosts), "--ssh-config", str(self.ssh_config),
                "--identity", str(self.key), "--log-dir", str(self.logs), *extra]

    def env(self) -> dict:
        return dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO), TOOLKIT_SUDO_PASSWORD=DEPLOY_PASSWORD)

    def run(self, *hosts, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*hosts, extra=extra), capture_output=True, text=True, env=self.env(),
                              timeout=600, check=False)

    def start(self, *hosts, extra: tuple[str, ...] = ()) -> subprocess.Popen:
        return subprocess.Popen(self.argv(*hosts, extra=extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=self.env())


@pytest.fixture
def apply(profile, tmp_path, ssh_keypair) -> Apply:
    return Apply(profile, tmp_path, ssh_keypair[0])


def row(output: str, target) -> str:
    """The final-table row of a target (host column first)."""
    name = target if isinstance(target, str) else f"deploy@127.0.0.1:{target.port}"
    rows = [line for line in output.splitlines() if line.startswith(name + " ") and "..." not in line
            and not line.startswith(f"{name}: ")]
    assert rows, f"no result row for {name}:\n{output}"
    return rows[-1]


def sh(target, script: str, *args: str) -> str:
    rc, out = target.container.exec_run(["sh", "-c", script, "sh", *args], user="root")
    return out.decode(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_three_hosts_apply_verify_then_nothing_changes(apply, sshd_container, capsys):
    hosts = [sshd_container(f"apply{i}") for i in range(3)]
    apply.trust(*hosts)
    samples: list[str] = []
    proc = apply.start(*hosts)

    def sample() -> None:     # what `ps` shows on the hosts while the apply runs (one host at a time)
        n = 0
        while proc.poll() is None:
            samples.append(sh(hosts[n % len(hosts)], "ps -eo args"))
            n += 1
            time.sleep(0.1)
    sampler = threading.Thread(target=sample)
    started = time.monotonic()
    sampler.start()
    first, _ = proc.communicate(timeout=600)
    sampler.join()
    t1 = time.monotonic() - started
    assert proc.returncode == 0, first
    for h in hosts:
        assert re.search(r"\s+changed\s+\d+/\d+\s+\S+\s+passed \d+", row(first, h)), first

    started = time.monotonic()
    second = apply.run(*hosts)
    t2 = time.monotonic() - started
    assert second.returncode == 0, second.stdout + second.stderr
    for h in hosts:
        assert re.search(r"\s+unchanged\s+0/\d+\s+\S+\s+passed \d+", row(second.stdout, h)), second.stdout
    assert "[changed]" not in second.stdout

    # The sudo password: not in ps while running, not in the logs, not in files left on the hosts.
    assert any("run.sh" in s for s in samples), "ps never caught the apply running"
    assert not any(DEPLOY_PASSWORD in s for s in samples)
    logs = list(apply.logs.iterdir())
    assert len(logs) == 3 and all(DEPLOY_PASSWORD not in p.read_text() for p in logs)
    for h in hosts:
        assert sh(h, LEFT_FILES, DEPLOY_PASSWORD).strip() == ""
        assert sh(h, "ls -d /tmp/toolkit-apply.* 2>/dev/null || true").strip() == ""   # temp folder removed
        assert "uid=1500(alice)" in sh(h, "id alice && jq --version && /opt/venv/bin/python -c 'import six'")
    with capsys.disabled():
        print(f"\napply: 3 hosts first run {t1:.1f}s (with verify), second run {t2:.1f}s")


def test_bad_host_keys_and_an_unreachable_host_do_not_stop_the_others(apply, sshd_container):
    good, changed, unknown = (sshd_container(n) for n in ("good", "rekeyed", "unknown"))
    apply.trust(good)
    apply.trust(good, as_port=changed.port)       # a known_hosts entry for `changed` with another key
    dead = f"ssh://deploy@127.0.0.1:{free_port()}"

    res = apply.run(good, changed, unknown, dead, extra=("--no-verify",))
    output = res.stdout + res.stderr
    assert res.returncode == 1, output
    assert re.search(r"\s+changed\s+\d+/\d+", row(res.stdout, good)), output
    assert "unreachable" in row(res.stdout, changed) and "HOST KEY CHANGED" in output
    assert "unreachable" in row(res.stdout, unknown)
    assert f"ssh-keyscan -p {unknown.port} 127.0.0.1 >> {apply.known_hosts}" in output
    assert "unreachable" in row(res.stdout, dead.removeprefix("ssh://"))
    for refused in (changed, unknown):      # nothing ran there
        assert sh(refused, "ls /var/lib/toolkit 2>&1 || true").strip().endswith("No such file or directory")

    # Trusting a new host is an explicit opt-in that records its key; a changed key stays refused.
    res = apply.run(unknown, changed, extra=("--dry-run", "--accept-new-host-keys"))
    assert res.returncode == 1, res.stdout + res.stderr
    assert "would-change" in row(res.stdout, unknown) and "unreachable" in row(res.stdout, changed)
    assert f"[127.0.0.1]:{unknown.port} " in apply.known_hosts.read_text()


def test_connection_killed_mid_apply_then_rerun_completes(apply, sshd_container, host_ca_bundle):
    apply.profile = write_profile(apply.tmp, host_ca_bundle, wheelhouse=True)
    host = sshd_container("killed")
    apply.trust(host)
    proc = apply.start(host, extra=("--no-verify",))
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if "[changed]" in line:       # kill this connection's sshd processes; the listener stays
            sh(host, "pkill -f 'sshd: deploy' || true")
            break
    lines += proc.stdout.readlines()
    proc.wait(timeout=120)
    first = "".join(lines)
    assert proc.returncode == 1, first
    assert "unreachable" in row(first, host), first
    assert "connection lost" in first and "run apply again to continue" in first

    res = apply.run(host)
    assert res.returncode == 0, res.stdout + res.stderr
    assert re.search(r"\s+(changed|unchanged)\s+\d+/\d+\s+\S+\s+passed \d+", row(res.stdout, host)), res.stdout
    assert '"status": "ok"' in sh(host, "cat /var/lib/toolkit/state.json")
    assert sh(host, "stat -c '%U %a' /opt/toolkit/wheelhouse/note-1.0-py3-none-any.whl").split() == ["root", "644"]
    assert sh(host, "ls -A /opt/toolkit/wheelhouse").split() == ["note-1.0-py3-none-any.whl"]


def test_dry_run_on_a_fresh_host_lists_changes_and_changes_nothing(apply, sshd_container):
    host = sshd_container("dry")
    apply.trust(host)
    res = apply.run(host, extra=("--dry-run",))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "would-change" in row(res.stdout, host)
    assert re.search(r"\[would change\] step \d+/\d+: os: OS packages", res.stdout), res.stdout
    assert sh(host, "command -v jq; id alice 2>&1; ls /opt/venv /var/lib/toolkit 2>&1").count("No such") >= 1
    assert "/usr/bin/jq" not in sh(host, "command -v jq || true")
