"""`users:`, `directories:` and `mounts:` -> steps and checks: order, host-only note, the numbers images use for
accounts, `extends` merging by name/path, --allow-format reaching setup.sh and ansible-playbook, and host-only
checks left out on docker targets."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from toolkit.components.accounts import HOST_ONLY_NOTE
from toolkit.executors.local_apply import root_command
from toolkit.model.checks import HOSTS_ONLY_KINDS
from toolkit.model.steps import Account, AuthorizedKeys, Directory, Groups, Mount, OsPackages
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import ansible, dockerfile, script
from toolkit.verify.runner import for_target

KEY = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
    serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()

TEAM = """\
name: team
os: {distro: debian, version: "12"}
users:
  - name: alice
    uid: 2001
    groups: [gpu, docker]
    sudo: true
    shell: /usr/bin/zsh
    authorized_keys: [keys/alice.pub]
  - name: bob
    uid: 2002
    gid: 3002
    groups: [gpu, alice]
directories:
  - path: /data/shared
    owner: alice
    group: gpu
    mode: "2775"
  - path: /data/bob
    owner: root
    group: bob
    mode: "0750"
mounts:
  - device: UUID=0a1b2c3d-1111-2222-3333-444455556666
    path: /data
    fstype: xfs
    options: [noatime]
  - device: /dev/nvme1n1
    path: /scratch
    fstype: ext4
    format: true
"""


@pytest.fixture
def team(tmp_path):
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "alice.pub").write_text(f"# alice\n{KEY}  alice@laptop \n{KEY} same key again\n")
    (tmp_path / "team.yaml").write_text(TEAM)
    return build_plan(load_profile(tmp_path / "team.yaml"))


def test_steps_in_order_with_groups_made_before_accounts(team):
    kinds = [(s.component, s.kind) for s in team.steps if s.component in ("users", "mounts", "directories")]
    assert kinds == [("users", "AptPackages"), ("users", "Groups"), ("users", "Account"), ("users", "AuthorizedKeys"),
                     ("users", "Account"), ("mounts", "AptPackages"), ("mounts", "Mount"), ("mounts", "Mount"),
                     ("directories", "Directory"), ("directories", "Directory")]
    packages = [s for s in team.steps if isinstance(s, OsPackages) and s.component in ("users", "mounts")]
    assert [p.packages for p in packages] == [("sudo", "zsh"), ("xfsprogs",)]
    (groups,) = [s for s in team.steps if isinstance(s, Groups)]
    assert groups.groups == (("alice", 2001), ("bob", 3002), ("docker", 0), ("gpu", 0))
    bob = next(s for s in team.steps if isinstance(s, Account) and s.name == "bob")
    assert (bob.uid, bob.gid, bob.home, bob.groups, bob.sudo) == (2002, 3002, "/home/bob", ("gpu", "alice"), False)


def test_keys_are_normalised_and_once(team):
    (keys,) = [s for s in team.steps if isinstance(s, AuthorizedKeys)]
    assert keys.keys == (f"{KEY} alice@laptop",)
    assert keys.user == "alice" and keys.home == "/home/alice"


def test_folders_carry_the_numbers_images_use_for_accounts(team):
    shared, bob = [s for s in team.steps if isinstance(s, Directory)]
    assert (shared.owner, shared.uid, shared.group, shared.gid) == ("alice", 2001, "gpu", None)
    assert (bob.owner, bob.uid, bob.group, bob.gid) == ("root", None, "bob", 3002)
    text = dockerfile.render(team).files["Dockerfile"]
    assert "chown -- 2001:gpu /data/shared" in text and "groupadd -f -- gpu" in text
    assert "chown -- root:3002 /data/bob" in text
    assert "useradd" not in text.split("[users]", 1)[1].split("[directories]", 1)[0]   # accounts: host only


def test_plan_notes_that_images_leave_users_and_mounts_out(team):
    assert team.warnings.count(HOST_ONLY_NOTE) == 1
    kinds = {c.kind for c in team.checks}
    assert {"account", "authorized_key", "directory", "mount"} <= kinds
    assert HOSTS_ONLY_KINDS == {"account", "authorized_key", "mount", "metrics_endpoint", "jupyterhub"}
    image = for_target(team, "docker://abc")
    assert not {c.kind for c in image.checks} & HOSTS_ONLY_KINDS
    assert any(c.kind == "directory" for c in image.checks)
    assert for_target(team, "ssh://deploy@127.0.0.1:2222") is team


def test_a_profile_without_the_fields_has_no_note(tmp_path):
    (tmp_path / "p.yaml").write_text("name: p\n")
    assert HOST_ONLY_NOTE not in build_plan(load_profile(tmp_path / "p.yaml")).warnings


def test_mounts_alone_note_it_too(tmp_path):
    (tmp_path / "p.yaml").write_text("name: p\nmounts:\n  - {device: tmpfs, path: /scratch, fstype: tmpfs}\n")
    assert build_plan(load_profile(tmp_path / "p.yaml")).warnings.count(HOST_ONLY_NOTE) == 1


def test_extends_replaces_accounts_by_name_and_folders_by_path(tmp_path):
    (tmp_path / "base.yaml").write_text("name: base\nusers:\n  - {name: alice, uid: 2001}\n  - {name: bob, uid: 2002}\n"
                                        "directories:\n  - {path: /data/x, mode: \"0755\"}\n")
    (tmp_path / "p.yaml").write_text("name: p\nextends: base.yaml\nusers:\n  - {name: bob, uid: 2003, sudo: true}\n"
                                     "directories:\n  - {path: /data/x, mode: \"0700\"}\n")
    profile = load_profile(tmp_path / "p.yaml").profile
    assert [(a.name, a.uid, a.sudo) for a in profile.users] == [("alice", 2001, False), ("bob", 2003, True)]
    assert [(d.path, d.mode) for d in profile.directories] == [("/data/x", "0700")]


def test_allow_format_reaches_setup_sh_and_ansible(team):
    assert root_command("/t/run.sh", is_root=True, password=None, dry_run=False, allow_format=True) == [
        "bash", "/t/run.sh", "--allow-format"]
    assert "--allow-format" not in root_command("/t/run.sh", is_root=True, password=None, dry_run=False)
    text = script.render(team).files["setup.sh"]
    assert '--allow-format) TOOLKIT_ALLOW_FORMAT=1 ;;' in text
    mount = next(s for s in team.steps if isinstance(s, Mount) and s.format)
    assert '/dev/nvme1n1 /scratch ext4 defaults 2 1 "$TOOLKIT_ALLOW_FORMAT"' in text
    play = ansible.render(team).files["ansible/playbook.yml"]
    assert "toolkit_allow_format | default(false) | bool" in play
    assert mount.apply("0")[-2:] == ("1", "0")


def test_setup_sh_refuses_format_without_the_flag_before_touching_anything(team, tmp_path):
    """The mount script refuses a device that is no block device before it changes anything (the format
    decisions run for real on a loop device in tests/integration/test_accounts_apply.py)."""
    mount = dataclasses.replace(next(s for s in team.steps if isinstance(s, Mount) and s.format),
                                device="/dev/null", path=str(tmp_path / "mnt"))
    proc = subprocess.run(list(mount.apply("1")), capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "is not a block device on this host (nothing was changed)" in proc.stderr
    assert not (tmp_path / "mnt").exists()
