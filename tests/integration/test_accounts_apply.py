"""`users:`, `directories:` and `mounts:` applied for real to sshd containers on 127.0.0.1 (issue 13).

- Accounts (native engine, then the Ansible engine on another host): two users, groups created when
  missing, sudo for one, an authorized key; a shared folder 2775 alice:gpu. Applied twice (the second run
  changes nothing), verified, and alice logs in over SSH with her own key and runs sudo; bob cannot.
- Mounts, in a container given CAP_SYS_ADMIN: a tmpfs at /data holding the shared folder, in /etc/fstab
  (`mount -a`, what boot does, brings it back); and loop devices: an empty one is formatted only with
  --allow-format, one holding another file system is never formatted (its file survives).
- An image built from a profile with `users` and `directories`: the folder is in the image (owned by
  alice's uid), verify passes and runs no account check there.
Where the engine refuses CAP_SYS_ADMIN or loop devices, the mount tests skip and say why.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from . import harness, images
from .test_ansible_apply import host_of, recap
from .test_apply import Apply, row, sh

pytestmark = [pytest.mark.docker, pytest.mark.ssh]

ACCOUNTS = """\
name: team-accounts
description: two people, their groups, keys and a shared folder
os: {distro: debian, version: "12"}
user: {create: false}
git: {enabled: false}
users:
  - name: alice
    uid: 2001
    groups: [gpu, docker]
    sudo: true
    authorized_keys: [keys/alice.pub]
  - name: bob
    uid: 2002
    groups: [gpu]
directories:
  - path: /data/shared
    owner: alice
    group: gpu
    mode: "2775"
"""
CAP = {"cap_add": ["SYS_ADMIN"]}


@pytest.fixture
def alice_key(tmp_path) -> tuple[Path, str]:
    return harness.generate_keypair(tmp_path / "alice-key", "alice")


def team_profile(folder: Path, public_key: str, extra: str = "") -> Path:
    (folder / "keys").mkdir(exist_ok=True)
    (folder / "keys" / "alice.pub").write_text(f"# alice's laptop\n{public_key}\n")
    path = folder / "team.yaml"
    path.write_text(ACCOUNTS + extra)
    return path


def login(target: harness.SshTarget, user: str, key: Path) -> str:
    """`id` run over SSH as `user` with `key` (the host key checked against the container's own)."""
    as_user = harness.SshTarget(target.container, target.host, target.port, user, "", key, target.known_hosts_path)
    client = harness.paramiko_connect(as_user)
    try:
        rc, out, err = harness.run_ssh(client, "id && sudo -n true && echo SUDO-OK")
    finally:
        client.close()
    return out + err


def test_accounts_apply_twice_verify_and_log_in(sshd_container, tmp_path, ssh_keypair, alice_key):
    target = sshd_container("accounts")
    apply = Apply(team_profile(tmp_path, alice_key[1]), tmp_path, ssh_keypair[0])
    apply.trust(target)
    first = apply.run(target)
    out = first.stdout + first.stderr
    assert first.returncode == 0, out
    assert re.search(r"\s+changed\s+\d+/\d+\s+\S+\s+passed \d+", row(first.stdout, target)), out
    second = apply.run(target)
    assert second.returncode == 0, second.stdout + second.stderr
    assert re.search(r"\s+unchanged\s+0/\d+\s+\S+\s+passed \d+", row(second.stdout, target)), second.stdout

    facts = sh(target, "id alice; id bob; getent group gpu docker; stat -c '%U:%G:%a' /data/shared "
                       "/home/alice/.ssh /home/alice/.ssh/authorized_keys; cat /etc/sudoers.d/toolkit-alice; "
                       "ls /etc/sudoers.d")
    assert re.search(r"uid=2001\(alice\) gid=2001\(alice\) groups=2001\(alice\),\d+\(docker\),\d+\(gpu\)"
                     r"|uid=2001\(alice\) gid=2001\(alice\) groups=2001\(alice\),\d+\(gpu\),\d+\(docker\)", facts), facts
    assert "uid=2002(bob) gid=2002(bob)" in facts and "(gpu)" in facts.split("uid=2002", 1)[1]
    assert "alice:gpu:2775\nalice:alice:700\nalice:alice:600" in facts, facts
    assert "alice ALL=(ALL:ALL) NOPASSWD: ALL" in facts and "toolkit-bob" not in facts

    # alice logs in with her own key and may sudo; bob has no key installed
    assert "uid=2001(alice)" in login(target, "alice", alice_key[0]) and "SUDO-OK" in login(target, "alice",
                                                                                              alice_key[0])
    with pytest.raises(Exception, match="(?i)auth"):
        login(target, "bob", alice_key[0])

    # a broken folder mode and a missing key are found by verify and mended by the next apply
    sh(target, "chmod 0755 /data/shared && : > /home/alice/.ssh/authorized_keys")
    third = apply.run(target, extra=("--no-verify",))
    assert third.returncode == 0 and re.search(r"\s+changed\s+2/", row(third.stdout, target)), third.stdout
    assert "alice:gpu:2775" in sh(target, "stat -c '%U:%G:%a' /data/shared")

    # verified as `deploy`, alice's ~/.ssh and both accounts' sudo rules were not visible: skipped, saying so.
    # With sudo that needs no password the probe looks (sudo -n) and both checks pass for real.
    assert re.search(r"passed \d+, 3 skipped", row(second.stdout, target)), second.stdout
    nopasswd = "s/^%sudo.*/%sudo ALL=(ALL:ALL) NOPASSWD: ALL/"     # deploy: an admin whose sudo asks nothing
    sh(target, "cp -p /etc/sudoers /tmp/sudoers.orig && sed -i \"$1\" /etc/sudoers", nopasswd)
    proc = subprocess.run([sys.executable, "-m", "toolkit", "verify", str(apply.profile), "--target",
                           f"ssh://deploy@127.0.0.1:{target.port}", "--known-hosts", str(apply.known_hosts),
                           "--ssh-config", str(apply.ssh_config), "--identity", str(ssh_keypair[0])],
                          capture_output=True, text=True, timeout=300, check=False, env=apply.env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS  account:alice" in proc.stdout and "PASS  authorized_key:alice:" in proc.stdout, proc.stdout
    assert "SKIP" not in proc.stdout
    sh(target, "cp -p /tmp/sudoers.orig /etc/sudoers")

    # sudo: false takes toolkit's sudo rule away again
    apply.profile.write_text(apply.profile.read_text().replace("    sudo: true\n", ""))
    fourth = apply.run(target)
    assert fourth.returncode == 0, fourth.stdout + fourth.stderr
    assert "SUDO-OK" not in login(target, "alice", alice_key[0])


def test_accounts_with_the_ansible_engine_then_nothing_changes(sshd_container, tmp_path, alice_key):
    from toolkit.executors import ansible_engine
    from toolkit.plan.builder import build_plan
    from toolkit.profile.loader import load_profile

    try:
        ansible_engine.find_ansible_playbook()
    except ansible_engine.ToolkitError:
        harness.skip_or_fail("ansible-playbook not installed (pip install ansible-core)")
    target = sshd_container("accounts-ansible")
    plan = build_plan(load_profile(team_profile(tmp_path, alice_key[1])))
    lines: list[str] = []
    (dry,) = ansible_engine.run_ansible(plan, [host_of(target)], check=True, become_password=target.password,
                                        display=lines.append)
    assert dry.status == "would-change", "\n".join(lines[-60:])
    assert "alice" not in sh(target, "getent passwd alice || true")      # --check changed nothing
    for n in (1, 2):
        lines: list[str] = []
        (result,) = ansible_engine.run_ansible(plan, [host_of(target)], become_password=target.password,
                                               display=lines.append)
        assert result.ok, "\n".join(lines[-60:])
        if n == 2:
            assert (result.status, result.steps_changed) == ("unchanged", 0), "\n".join(lines[-80:])
            assert all("changed=0" in ln and "failed=0" in ln for ln in recap(lines))
    assert "alice:gpu:2775" in sh(target, "stat -c '%U:%G:%a' /data/shared")
    assert "SUDO-OK" in login(target, "alice", alice_key[0])


# ------------------------------------------------------------------ mounts
def mount_container(sshd_container, name: str, **options) -> harness.SshTarget:
    try:
        target = sshd_container(name, cap_add=["SYS_ADMIN"], **options)
    except Exception as exc:        # noqa: BLE001 - the engine's refusal is the reason to skip
        pytest.skip(f"this Docker engine cannot give a container CAP_SYS_ADMIN{' and loop devices' if options else ''}"
                    f" (needed to mount inside it): {str(exc)[:200]}")
    probe = sh(target, "mkdir -p /tmp/m && mount -t tmpfs probe /tmp/m && umount /tmp/m && echo MOUNT-OK")
    if "MOUNT-OK" not in probe:
        pytest.skip(f"mounting is refused inside the container on this machine: {probe.strip()[:200]}")
    return target


def test_tmpfs_mount_in_fstab_survives_mount_a(sshd_container, tmp_path, ssh_keypair, alice_key):
    target = mount_container(sshd_container, "mount-tmpfs")
    extra = "mounts:\n  - {device: tmpfs, path: /data, fstype: tmpfs, options: [size=32m, mode=0755]}\n"
    apply = Apply(team_profile(tmp_path, alice_key[1], extra), tmp_path, ssh_keypair[0])
    apply.trust(target)
    first = apply.run(target)
    assert first.returncode == 0, first.stdout + first.stderr
    second = apply.run(target)
    assert re.search(r"\s+unchanged\s+0/\d+\s+\S+\s+passed \d+", row(second.stdout, target)), second.stdout
    assert "tmpfs /data tmpfs size=32m,mode=0755 0 0" in sh(target, "cat /etc/fstab")
    # what a reboot does: the mount is gone, then fstab brings it back (the shared folder lives on the tmpfs:
    # it is gone with it, and the next apply makes it again)
    after = sh(target, "umount /data && mount -a && findmnt -rn --mountpoint /data -o SOURCE,FSTYPE")
    assert after.strip() == "tmpfs tmpfs", after
    third = apply.run(target, extra=("--no-verify",))
    assert third.returncode == 0 and re.search(r"\s+changed\s+1/", row(third.stdout, target)), third.stdout


@pytest.fixture
def loop_devices(tmp_path):
    """Two loop devices of this machine over 32 MiB files in tmp_path (detached after the test)."""
    if shutil.which("losetup") is None:
        pytest.skip("losetup not found on this machine: no loop device for the format test")
    made: list[str] = []
    for n in range(2):
        image = tmp_path / f"disk{n}.img"
        with image.open("wb") as fh:
            fh.truncate(32 * 1024 * 1024)
        proc = subprocess.run(["losetup", "--find", "--show", str(image)], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            for dev in made:
                subprocess.run(["losetup", "-d", dev], check=False)
            pytest.skip(f"cannot attach a loop device on this machine (root and /dev/loop-control needed): "
                        f"{proc.stderr.strip()[:200]}")
        made.append(proc.stdout.strip())
    yield made
    for dev in made:
        subprocess.run(["losetup", "-d", dev], check=False)


def test_format_only_empty_devices_and_only_with_allow_format(sshd_container, tmp_path, ssh_keypair, loop_devices):
    empty, used = loop_devices
    target = mount_container(sshd_container, "mount-loop", devices=[f"{d}:{d}:rwm" for d in loop_devices] +
                             ["/dev/loop-control:/dev/loop-control:rwm"])
    # `used` holds an ext2 file system with a file on it: a profile asking for ext4 with format: true must
    # leave it alone
    made = sh(target, f"mkfs.ext2 -q {used} && mkdir -p /tmp/u && mount {used} /tmp/u && echo keep > /tmp/u/data "
                      "&& umount /tmp/u && blkid -p -o value -s TYPE " + empty + "; echo rc=$?")
    assert "rc=2" in made, made            # blkid finds nothing on the empty device
    profile = tmp_path / "disks.yaml"
    profile.write_text("name: disks\nos: {distro: debian, version: \"12\"}\nuser: {create: false}\n"
                       "git: {enabled: false}\nmounts:\n"
                       f"  - {{device: {empty}, path: /data, fstype: ext4, format: true, options: [noatime]}}\n")
    apply = Apply(profile, tmp_path, ssh_keypair[0])
    apply.trust(target)

    refused = apply.run(target, extra=("--no-verify",))
    text = refused.stdout + refused.stderr + "".join(p.read_text() for p in apply.logs.iterdir())
    assert refused.returncode == 1, text
    assert "apply with --allow-format" in text and "(nothing was changed)" in text
    assert "rc=2" in sh(target, f"blkid -p {empty}; echo rc=$?") and "/data" not in sh(target, "cat /etc/fstab")

    done = apply.run(target, extra=("--allow-format",))
    assert done.returncode == 0, done.stdout + done.stderr
    uuid = sh(target, f"blkid -p -s UUID -o value {empty}").strip()
    assert re.fullmatch(r"[0-9a-f-]{36}", uuid), uuid
    assert f"UUID={uuid} /data ext4 noatime 0 2" in sh(target, "cat /etc/fstab")
    assert sh(target, "findmnt -rn --mountpoint /data -o FSTYPE").strip() == "ext4"
    again = apply.run(target, extra=("--allow-format",))
    assert re.search(r"\s+unchanged\s+0/\d+\s+\S+\s+passed \d+", row(again.stdout, target)), again.stdout

    # a device with another file system: never formatted, even with --allow-format; its data stays
    profile.write_text(profile.read_text().replace(f"device: {empty}, path: /data", f"device: {used}, path: /srv/u"))
    other = apply.run(target, extra=("--allow-format", "--no-verify"))
    text = other.stdout + other.stderr + "".join(p.read_text() for p in apply.logs.iterdir())
    assert other.returncode == 1 and "holds ext2, not ext4; toolkit never formats" in text, text
    assert "keep" in sh(target, f"mkdir -p /tmp/v && mount -o ro {used} /tmp/v && cat /tmp/v/data; umount /tmp/v")


# ------------------------------------------------------------------ an image
def test_image_gets_the_folders_not_the_accounts(docker_engine, base_image, host_ca_bundle, tmp_path):
    profile = images.child_profile(
        tmp_path, "team-image", None, base_image, host_ca_bundle, git={"enabled": False},
        os={"distro": "debian", "version": "12"},
        users=[{"name": "alice", "uid": 2001, "groups": ["gpu"]}],
        directories=[{"path": "/data/shared", "owner": "alice", "group": "gpu", "mode": "2775"},
                     {"path": "/srv/cache", "owner": "dev", "group": "dev", "mode": "0750"}])
    built = images.build_profile_image(docker_engine, profile, tmp_path, base_image, reuse=False)
    text = (built.context / "Dockerfile").read_text()
    assert "host only: accounts and mounts are not made in images" in text
    found = images.run_in_image(docker_engine, built.tag, "stat -c '%u:%G:%a' /data/shared; stat -c '%U:%G:%a' "
                                "/srv/cache; getent passwd alice || echo no-alice")
    assert found.split() == ["2001:gpu:2775", "dev:dev:750", "no-alice"], found
    proc = subprocess.run([sys.executable, "-m", "toolkit", "verify", str(profile), "--target", f"docker-image://{built.tag}"],
                          capture_output=True, text=True, timeout=600, check=False,
                          env=Apply(profile, tmp_path, tmp_path).env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS  directory:/data/shared" in proc.stdout and "PASS  directory:/srv/cache" in proc.stdout
    assert "account:" not in proc.stdout
