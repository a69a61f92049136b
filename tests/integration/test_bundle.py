"""`toolkit bundle` end to end: a bundle of datascience-cpu (locked against the local Debian 12 base, trusting
the host CA) installs where there is no network, checks itself first, and travels over SFTP.

- a container started with `--network none` installs it with install.sh; `verify --locked` passes
  (Jupyter included); a second install.sh changes nothing;
- one byte changed in one wheel: install.sh refuses, naming the wheel, and the machine is untouched;
- `apply --bundle` to an sshd container whose outbound traffic is blocked: iptables rules in the container's
  own network namespace (set from this machine with nsenter: the image has no iptables and the test keeps
  NET_ADMIN out of the container) accept loopback and replies to inbound connections (the SSH session on
  the published 127.0.0.1 port) and reject everything else; apt-get update there fails, then the bundle is
  sent as a non-root user with sudo, over a connection that is first dropped mid-transfer and resumed.

One bundle per module (lock ~10 s, bundle ~35 s: 47 .debs, 98 wheels, ~117 MB). `build --bundle` (an image
built with the network off from the same bundle, ~2 min more) is marked slow (opt-in: -m slow).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from toolkit.bundle import layout
from toolkit.lock import lockfile

from . import images
from .harness import DEPLOY_PASSWORD, TEST_LABEL, paramiko_connect, skip_or_fail
from .test_build import REPO_ROOT, toolkit

pytestmark = pytest.mark.docker
MOUNT = "/srv/bundle"
INVENTORY = "dpkg-query -W -f '${Package}=${Version}\\n' | LC_ALL=C sort; ls /opt /var/lib/toolkit 2>&1 || true"


@pytest.fixture(scope="module")
def bundled(docker_engine, base_image, host_ca_bundle, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    profile = images.datascience_profile(folder, base_image, host_ca_bundle, name="datascience-bundle")
    locked = toolkit("lock", str(profile), timeout=900)
    assert locked.returncode == 0, locked.stdout + locked.stderr
    out = folder / "out"
    made = toolkit("bundle", str(profile), "-o", str(out), timeout=900)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    return profile, out, lockfile.read(folder / "datascience-bundle.lock"), made.stdout


def offline(client, bundle: Path, *extra_volumes: str):
    """A container of the base image with no network at all, the bundle mounted read-only."""
    volumes = [f"{bundle}:{MOUNT}:ro", *extra_volumes]
    return client.containers.run(images_base(), ["sleep", "infinity"], detach=True, network_mode="none",
                                 name=f"toolkit-test-bundle-{uuid.uuid4().hex[:8]}", labels={TEST_LABEL: "1"},
                                 volumes=volumes)


def images_base() -> str:
    from .harness import base_image_name

    return base_image_name()


def run(container, script: str) -> tuple[int, str]:
    rc, output = container.exec_run(["bash", "-c", script])
    return rc, output.decode(errors="replace")


def test_bundle_reports_its_size_and_what_dominates(bundled):
    _, out, lock, stdout = bundled
    assert "wheels:" in stdout and "so far" in stdout            # progress while collecting
    assert "largest:" in stdout and "MB" in stdout
    sums = (out / layout.SUMS).read_text().splitlines()
    listed = {line.split("  ", 1)[1] for line in sums}
    assert layout.INSTALL in listed and layout.MANIFEST in listed and "debs/Packages" in listed
    assert len([n for n in listed if n.startswith("debs/") and n.endswith(".deb")]) == len(lock.os_packages)
    manifest = json.loads((out / layout.MANIFEST).read_text())
    assert manifest["profile"] == "datascience-bundle" and manifest["total_bytes"] > 50_000_000
    # an earlier bundle is brought up to date in place; a folder toolkit did not make is refused
    again = toolkit("bundle", str(bundled[0]), "-o", str(out), timeout=900)
    assert again.returncode == 0, again.stderr
    assert (out / layout.SUMS).read_text().splitlines() == sums
    foreign = out.parent / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine\n")
    refused = toolkit("bundle", str(bundled[0]), "-o", str(foreign))
    assert refused.returncode == 2 and "not made by toolkit bundle" in refused.stderr
    assert (foreign / "notes.txt").read_text() == "mine\n" and len(list(foreign.iterdir())) == 1


def test_installs_with_no_network_then_verifies_and_reruns_unchanged(docker_engine, bundled):
    profile, out, lock, _ = bundled
    container = offline(docker_engine, out)
    try:
        assert list(docker_engine.containers.get(container.id).attrs["NetworkSettings"]["Networks"]) == ["none"]
        rc, first = run(container, f"bash {MOUNT}/install.sh")
        assert rc == 0, first[-4000:]
        assert "[changed]" in first and "no network needed" in first
        before = run(container, INVENTORY)[1]
        rc, second = run(container, f"bash {MOUNT}/install.sh")
        assert rc == 0, second[-3000:]
        assert "done: 0 step(s) changed" in second, second[-3000:]
        assert run(container, INVENTORY)[1] == before
        checked = toolkit("verify", str(profile), "--locked", "--target", f"docker://{container.name}", "--json",
                          timeout=600)
        assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
        results = json.loads(checked.stdout)["checks"]
        assert all(r["status"] in ("passed", "skipped") for r in results)
        locked = [r for r in results if r["kind"] in ("pip_version", "os_package_version")]
        assert len(locked) == len(lock.pip) + len(lock.os_packages)
        assert all(r["status"] == "passed" for r in locked)
        jupyter = [r for r in results if "jupyter" in (r.get("id", "") + r.get("component", "")).lower()]
        assert jupyter and any(r["status"] == "passed" for r in jupyter), [r.get("id") for r in results][:40]
    finally:
        container.remove(force=True)


def test_one_changed_byte_in_a_wheel_is_refused_before_anything_changes(docker_engine, bundled, tmp_path):
    _, out, _, _ = bundled
    wheel = sorted((out / layout.WHEELS).glob("*.whl"))[0]
    bad = tmp_path / wheel.name
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad.write_bytes(bytes(data))
    container = offline(docker_engine, out, f"{bad}:{MOUNT}/{layout.WHEELS}/{wheel.name}:ro")
    try:
        untouched = run(container, INVENTORY)[1]
        rc, output = run(container, f"bash {MOUNT}/install.sh")
        assert rc != 0
        assert wheel.name in output and "FAILED" in output and "nothing was changed" in output
        assert "[run]" not in output
        assert run(container, INVENTORY)[1] == untouched
        assert run(container, "test -e /opt/toolkit || test -e /var/lib/toolkit || test -e /opt/venv")[0] != 0
    finally:
        container.remove(force=True)


def block_egress(container) -> None:
    """Outbound traffic of the container refused (its own netns): loopback and replies to inbound only."""
    nsenter, iptables = shutil.which("nsenter"), shutil.which("iptables")
    if not (nsenter and iptables) or os.geteuid() != 0:
        skip_or_fail("blocking a container's egress needs root, nsenter and iptables (docker.io brings iptables)")
    pid = str(container.attrs["State"]["Pid"])
    for tool in ("iptables", "ip6tables"):
        for rule in (["-A", "OUTPUT", "-o", "lo", "-j", "ACCEPT"],
                     ["-A", "OUTPUT", "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"],
                     ["-A", "OUTPUT", "-j", "REJECT"]):
            subprocess.run([nsenter, "-t", pid, "-n", tool, *rule], check=True, capture_output=True, timeout=30)


def test_apply_over_ssh_to_a_host_without_egress_resumes_a_dropped_transfer(docker_engine, bundled, sshd_container,
                                                                          tmp_path):
    from toolkit.executors import bundle_upload

    profile, out, _, _ = bundled
    target = sshd_container("bundle")
    target.container.reload()
    block_egress(target.container)
    rc, output = target.container.exec_run(["timeout", "60", "apt-get", "-o", "Acquire::Retries=0", "update"])
    assert b"Err:" in output or rc != 0, output.decode(errors="replace")[-1000:]   # no archive reachable from there

    # a transfer dropped at ~40%: the connection is closed under it
    client = paramiko_connect(target)
    sftp = client.open_sftp()
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())

    def drop(done: int, _total: int) -> None:
        if done > total * 0.4:
            client.close()
            raise OSError("connection dropped (test)")

    with pytest.raises(OSError):
        bundle_upload.stage(sftp, lambda cmd, timeout: (0, ""), out, lambda _m: None, drop)
    remote = f"/home/{target.user}/{bundle_upload.REMOTE_BASE}/{bundle_upload.bundle_id(out)}"
    rc, arrived = target.container.exec_run(["du", "-sb", remote])
    assert rc == 0 and 0 < int(arrived.split()[0]) < total

    known = tmp_path / "known_hosts"
    known.write_text(target.known_hosts_path.read_text())
    logs = tmp_path / "logs"
    argv = [sys.executable, "-m", "toolkit", "apply", str(profile), "--bundle", str(out),
            "--host", f"ssh://{target.user}@{target.host}:{target.port}", "--known-hosts", str(known),
            "--identity", str(target.key_path), "--log-dir", str(logs)]
    env = dict(os.environ, NO_COLOR="1", TOOLKIT_SUDO_PASSWORD=DEPLOY_PASSWORD)
    first = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900, cwd=REPO_ROOT)
    log = "".join(p.read_text() for p in logs.iterdir())
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:] + log[-3000:]
    assert "1 resumed" in log and "already there with the right hash" in log, log[:3000]
    assert "[changed]" in log
    assert "passed" in first.stdout + first.stderr               # verified after applying
    shutil.rmtree(logs)
    second = subprocess.run([*argv, "--no-verify"], capture_output=True, text=True, env=env, timeout=900, cwd=REPO_ROOT)
    log = "".join(p.read_text() for p in logs.iterdir())
    assert second.returncode == 0, second.stdout[-3000:] + log[-3000:]
    assert "0 files sent, 0 resumed" in log and "0.0 MB sent" in log
    assert "done: 0 step(s) changed" in log


@pytest.mark.slow
def test_build_from_the_bundle_with_the_network_off(docker_engine, bundled):
    profile, out, lock, _ = bundled
    tag = f"toolkit-test/bundle-build-{uuid.uuid4().hex[:8]}:1"
    try:
        built = toolkit("build", str(profile), "-t", tag, "--bundle", str(out), timeout=1800)
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
        assert "--network none" in built.stdout
        checked = toolkit("verify", str(profile), "--locked", "--target", f"docker-image://{tag}", "--json",
                          timeout=600)
        assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
        results = json.loads(checked.stdout)["checks"]
        assert len([r for r in results if r["kind"] == "pip_version" and r["status"] == "passed"]) == len(lock.pip)
        leftovers = images.run_in_image(docker_engine, tag, "ls -A /opt/toolkit/bundle /var/lib/toolkit/bundle-apt")
        assert leftovers.split() == ["/opt/toolkit/bundle:", "/var/lib/toolkit/bundle-apt:"]   # mount points, empty
    finally:
        from .test_build import remove_image

        remove_image(docker_engine, tag)
