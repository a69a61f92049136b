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
from toolkit.lock.requests import ENGINE_STEP

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
        engine = [p for p in lock.os_packages if p.step == ENGINE_STEP]     # the Ansible engine's: not installed here
        assert len(locked) == len(lock.pip) + len(lock.os_packages) - len(engine)
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


def apply_argv(profile: Path, out: Path, target, known: Path, logs: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "toolkit", "apply", str(profile), "--bundle", str(out),
            "--host", f"ssh://{target.user}@{target.host}:{target.port}", "--known-hosts", str(known),
            "--identity", str(target.key_path), "--log-dir", str(logs), *extra]


@pytest.mark.slow     # ~140 s; CI applies the same bundle over SSH with the native engine, and lints the bundle's playbook
def test_ansible_engine_applies_the_bundles_playbook_to_a_host_without_egress(docker_engine, bundled, sshd_container,
                                                                             tmp_path):
    """The bundle's own playbook (ansible/playbook.yml) through `apply --bundle --engine ansible`: the Ansible
    modules' prerequisites (python3-apt, python3-packaging) come from the bundle at their locked versions; a
    damaged copy on the host is refused before anything changes; a rerun sends nothing and changes nothing."""
    from toolkit.commands.bundling import checked_bundle
    from toolkit.executors import ansible_engine
    from toolkit.executors.ansible_bundle import Staged
    from toolkit.executors.inventory import Host

    try:
        ansible_engine.find_ansible_playbook()
    except ansible_engine.ToolkitError:
        skip_or_fail("ansible-playbook not installed (pip install ansible-core)")
    profile, out, lock, _ = bundled
    engine_pkgs = {p.name: p.version for p in lock.os_packages if p.step == ENGINE_STEP}
    assert {"python3-apt", "python3-packaging"} <= set(engine_pkgs)
    assert (out / layout.PLAYBOOK).is_file() and layout.PLAYBOOK in (out / layout.SUMS).read_text()
    target = sshd_container("bundle-ansible")
    target.container.reload()
    block_egress(target.container)
    assert run(target.container, "python3 -c 'import apt'")[0] != 0          # the host lacks the apt module's binding
    known = tmp_path / "known_hosts"
    known.write_text(target.known_hosts_path.read_text())
    logs = tmp_path / "logs"
    env = dict(os.environ, NO_COLOR="1", TOOLKIT_SUDO_PASSWORD=DEPLOY_PASSWORD)
    argv = apply_argv(profile, out, target, known, logs, "--engine", "ansible")
    first = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1200, cwd=REPO_ROOT)
    log = (logs / "ansible-playbook.log").read_text()
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-3000:]
    assert "files sent, 0 resumed, 0 already there" in log and "TASK [Bundle: check every file against SHA256SUMS]" in log
    assert "passed" in first.stdout                                  # apply verified the host
    versions = run(target.container, "dpkg-query -W -f '${Package}=${Version}\\n' " + " ".join(sorted(engine_pkgs)))[1]
    assert sorted(versions.split()) == sorted(f"{n}={v}" for n, v in engine_pkgs.items())
    assert run(target.container, f"test -e {layout.ROOT} || test -L {layout.ROOT}")[0] != 0   # the link is gone
    checked = toolkit("verify", str(profile), "--locked", "--target", f"ssh://{target.user}@{target.host}:{target.port}",
                      "--known-hosts", str(known), "--identity", str(target.key_path), "--json", timeout=600)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    results = json.loads(checked.stdout)["checks"]
    assert len([r for r in results if r["kind"] in ("pip_version", "os_package_version") and r["status"] == "passed"]) \
        == len(lock.pip) + len(lock.os_packages) - len(engine_pkgs)

    # a copy on the host with one changed byte: the playbook refuses it before anything changes
    home = f"/home/{target.user}/.toolkit-bundles"
    wheel = sorted((out / layout.WHEELS).glob("*.whl"))[0].name
    rc, _ = run(target.container, f"cp -r {home}/* /tmp/damaged && printf x | dd of=/tmp/damaged/{layout.WHEELS}/{wheel} "
                                  "bs=1 seek=100 conv=notrunc status=none")
    assert rc == 0
    before = run(target.container, INVENTORY)[1]
    plan, _, folder = checked_bundle(str(profile), None, None, str(out), playbook=True)
    host = Host(name="damaged", hostname=target.host, port=target.port, user=target.user,
                identity=str(target.key_path), known_hosts=str(known))
    lines: list[str] = []
    [refused] = ansible_engine.run_ansible(plan, [host], become_password=DEPLOY_PASSWORD, display=lines.append,
                                           bundle=Staged(folder, remote={"damaged": "/tmp/damaged"}))
    assert refused.status == "failed" and refused.failed_step == "Bundle: refuse files that do not match SHA256SUMS"
    assert f"{layout.WHEELS}/{wheel}: FAILED" in "\n".join(lines) and "nothing was changed" in "\n".join(lines)
    assert run(target.container, INVENTORY)[1] == before

    shutil.rmtree(logs)
    second = subprocess.run([*argv, "--no-verify"], capture_output=True, text=True, env=env, timeout=900, cwd=REPO_ROOT)
    log = (logs / "ansible-playbook.log").read_text()
    assert second.returncode == 0, second.stdout[-3000:] + log[-3000:]
    assert "0 files sent, 0 resumed" in log and "0.0 MB sent" in log
    assert [ln for ln in log.splitlines() if " : ok=" in ln and "changed=0 " in ln], log[-2000:]


def test_a_saved_image_loads_back_and_one_changed_byte_in_it_is_refused(docker_engine, bundled, tmp_path):
    """`bundle --with-image TAG` on a copy of the module's bundle (brought up to date in place: the wheels are
    kept): the archive is listed in SHA256SUMS and the manifest, `docker load` of it gives the same image back
    (same id, same tag); with one byte changed, apply --bundle and install.sh refuse it, naming the file."""
    import io

    from toolkit.bundle.make import image_file

    profile, out, _, _ = bundled
    tag = f"toolkit-test/bundle-image-{uuid.uuid4().hex[:8]}:1"
    dockerfile = f"FROM {images_base()}\nLABEL toolkit-test.bundle-image={tag}\n".encode()
    image, _ = docker_engine.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, labels={TEST_LABEL: "1"}, rm=True)
    copy = tmp_path / "with-image"
    try:
        shutil.copytree(out, copy)
        made = toolkit("bundle", str(profile), "-o", str(copy), "--with-image", tag, timeout=900)
        assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
        rel = f"{layout.IMAGES}/{image_file(tag)}"
        assert f"docker save {tag}" in made.stdout and "images " in made.stdout     # its share of the size, reported
        listed = {line.split("  ", 1)[1] for line in (copy / layout.SUMS).read_text().splitlines()}
        manifest = json.loads((copy / layout.MANIFEST).read_text())
        assert rel in listed and rel in {f["path"] for f in manifest["files"]} and manifest["parts"]["images"] > 0
        docker_engine.images.remove(tag)
        assert docker_engine.images.list(name=tag.split(":")[0]) == []
        with open(copy / rel, "rb") as fh:
            loaded = docker_engine.images.load(fh)
        assert [i.id for i in loaded] == [image.id] and tag in docker_engine.images.get(tag).tags

        data = bytearray((copy / rel).read_bytes())
        data[len(data) // 3] ^= 0x01
        (copy / rel).write_bytes(bytes(data))
        refused = toolkit("apply", str(profile), "--bundle", str(copy), "--host", "ssh://deploy@127.0.0.1:9")
        assert refused.returncode == 2 and rel in refused.stderr and "SHA256SUMS" in refused.stderr, refused.stderr
        container = offline(docker_engine, copy)
        try:
            untouched = run(container, INVENTORY)[1]
            rc, output = run(container, f"bash {MOUNT}/install.sh")
            assert rc != 0 and f"{rel}: FAILED" in output and "nothing was changed" in output
            assert run(container, INVENTORY)[1] == untouched
        finally:
            container.remove(force=True)
    finally:
        from .test_build import remove_image

        remove_image(docker_engine, tag)


@pytest.mark.slow     # ~60 s; the same install.sh runs with --network none in test_installs_with_no_network_...
def test_apply_local_runs_inside_a_machine_without_network(docker_engine, bundled, sshd_image):
    """`apply PROFILE --bundle DIR --local` with toolkit itself inside a `--network none` Debian 12 container: toolkit
    needs a Python 3.11 there to run at all (the bare local/debian:12 has none; install.sh needs only bash), so
    the container is of the sshd image (Debian 12 from the same base, python3 3.11 and sudo added), with this
    checkout and its virtual environment's packages mounted read-only. A rerun changes nothing; verify --locked
    from outside passes."""
    import sysconfig

    profile, out, lock, _ = bundled
    site = sysconfig.get_paths()["purelib"]
    volumes = [f"{REPO_ROOT}:{REPO_ROOT}:ro", f"{site}:{site}:ro", f"{profile.parent}:{profile.parent}:ro",
               f"{out}:{MOUNT}:ro"]
    container = docker_engine.containers.run(sshd_image, ["sleep", "infinity"], detach=True, network_mode="none",
                                             name=f"toolkit-test-bundle-local-{uuid.uuid4().hex[:8]}",
                                             labels={TEST_LABEL: "1"}, volumes=volumes)
    try:
        minor = run(container, "python3 -c 'import sys; print(sys.version_info[:2])'")[1].strip()
        if minor != str(tuple(sys.version_info[:2])):
            skip_or_fail(f"the container's python3 is {minor}, this venv's packages are for {sys.version_info[:2]}")
        toolkit_here = (f"cd /tmp && NO_COLOR=1 PYTHONDONTWRITEBYTECODE=1 PYTHONPATH={site}:{REPO_ROOT} "
                        f"python3 -m toolkit apply {profile} --bundle {MOUNT} --local --log-dir /tmp/toolkit-logs")
        assert run(container, "python3 -c 'import urllib.request as u; u.urlopen(\"http://deb.debian.org\", timeout=5)'"
                   )[0] != 0                                                     # no network in there
        rc, first = run(container, toolkit_here)
        assert rc == 0, first[-4000:]
        assert "changed" in first and "passed" in first                          # applied, then verified there
        rc, second = run(container, toolkit_here + " --no-verify")
        assert rc == 0 and "local: unchanged (0/" in second, second[-3000:]
        checked = toolkit("verify", str(profile), "--locked", "--target", f"docker://{container.name}", "--json",
                          timeout=600)
        assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
        results = json.loads(checked.stdout)["checks"]
        assert len([r for r in results if r["kind"] == "pip_version" and r["status"] == "passed"]) == len(lock.pip)
    finally:
        container.remove(force=True)
