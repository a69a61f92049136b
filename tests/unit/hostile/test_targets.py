"""Hostile --target / --host / -t / --limit values in apply, verify and doctor: exit 2, no traceback, no
secret and no raw control character in what is printed, and nothing is started or contacted."""

from __future__ import annotations

import pytest

from toolkit.cli import main
from toolkit.errors import EXIT_INVALID

SECRET = "hunter2-Zq9"
TARGETS = [
    f"ssh://deploy:{SECRET}@127.0.0.1:22",
    f"ftp://deploy:{SECRET}@127.0.0.1",
    "docker://c\x1b]0;title\x07",
    "ssh://host\n ProxyCommand touch /tmp/pwned",
    "ssh://-oProxyCommand=touch /tmp/pwned",
    "ssh://host\u202e",
    "docker://--privileged",
    "docker-image://--entrypoint=sh",
    "docker-image://" + "a" * 5000 + "\x00",
    "podman-image://--entrypoint=sh",
    "podman-image://img\x1b[2J:1",
    "podman-image://img;touch /tmp/pwned",
    "ssh://h:65536",
    "local; rm -rf /",
]
COMMANDS = [("apply", "base"), ("verify", "base"), ("doctor",)]


def run(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    captured = capsys.readouterr()
    return exc.value.code, captured.out + captured.err


def assert_clean(code: int, text: str) -> None:
    assert code == EXIT_INVALID, text
    assert "Traceback" not in text and SECRET not in text
    assert not any(c in text for c in "\x1b\x07\x00\u202e"), repr(text)
    assert len(text) < 4000


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
@pytest.mark.parametrize("target", TARGETS, ids=range(len(TARGETS)))
def test_hostile_targets_are_refused_cleanly(capsys, command, target):
    assert_clean(*run(capsys, *command, "--target", target))


@pytest.mark.parametrize("argv", [
    ("apply", "base", "--host", f"deploy:{SECRET}@127.0.0.1"),
    ("doctor", "--host", f"ssh://deploy:{SECRET}@127.0.0.1"),
    ("verify", "base", "-t", f"ssh://deploy:{SECRET}@127.0.0.1"),
], ids=["apply --host", "doctor --host", "verify -t"])
def test_old_spellings_refuse_the_same_way(capsys, argv):
    assert_clean(*run(capsys, *argv))


@pytest.mark.parametrize("limit", ["gpu\x1b[2J", f"a,{SECRET}\u202e", "\x00", " , ,"])
def test_hostile_limit_names_are_shown_escaped(capsys, tmp_path, limit):
    inventory = tmp_path / "hosts.yaml"
    inventory.write_text("hosts:\n  gpu01: {address: 127.0.0.1}\n")
    code, text = run(capsys, "verify", "base", "--inventory", str(inventory), "--limit", limit)
    assert code == EXIT_INVALID and "Traceback" not in text
    assert not any(c in text for c in "\x1b\x00\u202e"), repr(text)
