"""Hostile input to the remote paths, through the CLI: `toolkit apply --dry-run` with an inventory, an
ssh config or path options built to run a command on this machine (Jinja for Ansible, a ProxyCommand
smuggled into an ssh config), to break the inventory's shape, or to write control characters to the
terminal. Each must end with exit 2 before any connection or ansible-playbook run, no traceback, no
raw control character in the output, and no marker file written.

Classes: Jinja in every inventory field and path option (both engines); ssh config newline and quote
injection through identity/user/host/port/jump; malformed inventory and ssh config shapes; control
characters in names and users.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.cli import main

PROFILE = "name: hostile-remote\ndescription: hostile remote input\nos: {distro: debian, version: '12'}\n"
REPO = Path(__file__).resolve().parents[3]


def jinja(marker: Path) -> list[str]:
    """Three ways Jinja runs a command (expression, statement, and a comment that hides the end)."""
    return [f"{{{{ lookup('pipe', 'touch {marker}') }}}}",
            f"{{% set x = lookup('pipe', 'touch {marker}') %}}",
            f"{{# #}}{{{{ query('pipe', 'touch {marker}') }}}}"]


# (case id, inventory YAML with {J} where the hostile value goes)
JINJA_FIELDS = [
    ("host-name", "hosts:\n  '{J}': {{}}\n"),
    ("address", "hosts:\n  a: {{address: \"{J}\"}}\n"),
    ("user", "hosts:\n  a: {{user: \"{J}\"}}\n"),
    ("port", "hosts:\n  a: {{port: \"{J}\"}}\n"),
    ("identity", "hosts:\n  a: {{address: 127.0.0.1, identity: \"/k/{J}\"}}\n"),
    ("jump", "hosts:\n  a: {{jump: \"{J}@bastion\"}}\n"),
    ("group-name", "hosts:\n  a:\ngroups:\n  '{J}': {{hosts: [a]}}\n"),
    ("group-user", "hosts:\n  a:\ngroups:\n  g: {{hosts: [a], user: \"{J}\"}}\n"),
    ("group-identity", "hosts:\n  a:\ngroups:\n  g: {{hosts: [a], identity: \"/k/{J}\"}}\n"),
    ("group-member", "hosts:\n  a:\ngroups:\n  g: {{hosts: [a, \"{J}\"]}}\n"),
    ("defaults-user", "defaults: {{user: \"{J}\"}}\nhosts:\n  a:\n"),
    ("defaults-identity", "defaults: {{identity: \"/k/{J}\"}}\nhosts:\n  a: {{address: 127.0.0.1}}\n"),
    ("defaults-jump", "defaults: {{jump: \"ops@{J}\"}}\nhosts:\n  a:\n"),
]
SSH_CONFIG_JINJA = ["  IdentityFile /k/{J}\n", "  UserKnownHostsFile /kh/{J}\n", "  HostName {J}\n",
                    "  User {J}\n", "  ProxyJump {J}\n", "  Port {J}\n"]
NL = "\\nProxyCommand touch {M}"
INJECTIONS = [   # a quote and a newline: each would add a ProxyCommand line to the ssh config of verify
    ("identity", "hosts:\n  a: {{address: 127.0.0.1, identity: \"/k/id\\\"" + NL + "\"}}\n"),
    ("identity-cr", "hosts:\n  a: {{identity: \"/k/id\\r" + NL + "\"}}\n"),
    ("user", "hosts:\n  a: {{user: \"deploy" + NL + "\"}}\n"),
    ("user-trailing-newline", "hosts:\n  a: {{user: \"deploy\\n\"}}\n"),
    ("host", "hosts:\n  a: {{address: \"127.0.0.1" + NL + "\"}}\n"),
    ("host-name", "hosts:\n  \"a" + NL + "\": {{}}\n"),
    ("port", "hosts:\n  a: {{port: \"22" + NL + "\"}}\n"),
    ("jump", "hosts:\n  a: {{jump: \"ops@bastion" + NL + "\"}}\n"),
    ("jump-quote", "hosts:\n  a: {{jump: \"ops@bastion\\\" -oProxyCommand=x\"}}\n"),
    ("defaults-identity", "defaults: {{identity: \"/k/\\\"" + NL + "\"}}\nhosts:\n  a:\n"),
]
SHAPES = [
    ("member-list", "hosts:\n  a:\ngroups:\n  g: {hosts: [[a]]}\n"),
    ("member-mapping", "hosts:\n  a:\ngroups:\n  g:\n    hosts:\n      - {a: 1}\n"),
    ("member-null", "hosts:\n  a:\ngroups:\n  g: {hosts: [~]}\n"),
    ("members-string", "hosts:\n  a:\ngroups:\n  g: {hosts: a}\n"),
    ("group-list", "hosts:\n  a:\ngroups:\n  g: [a]\n"),
    ("groups-list", "hosts:\n  a:\ngroups: [g]\n"),
    ("hosts-list", "hosts: [a, b]\n"),
    ("hosts-null", "hosts:\n"),
    ("host-list", "hosts:\n  a: [1]\n"),
    ("host-string", "hosts:\n  a: user@host\n"),
    ("host-number-name", "hosts:\n  12: {}\n"),
    ("defaults-list", "defaults: [a]\nhosts: {a: }\n"),
    ("document-list", "- hosts\n"),
    ("document-empty", ""),
    ("port-zero", "hosts:\n  a: {port: 0}\n"),
    ("port-high", "hosts:\n  a: {port: 65536}\n"),
    ("port-negative", "hosts:\n  a: {port: -1}\n"),
    ("port-bool", "hosts:\n  a: {port: true}\n"),
    ("port-float", "hosts:\n  a: {port: 22.0}\n"),
    ("port-huge", "hosts:\n  a: {port: 100000000000000000000000}\n"),
    ("user-number", "hosts:\n  a: {user: 1000}\n"),
    ("jump-empty-hop", "hosts:\n  a: {jump: 'a,,b'}\n"),
    ("jump-comma", "hosts:\n  a: {jump: ','}\n"),
    ("jump-scheme", "hosts:\n  a: {jump: 'https://bastion'}\n"),
    ("two-groups-conflicting", "hosts:\n  a:\ngroups:\n  g: {hosts: [a], user: x}\n  h: {hosts: [a], user: y}\n"),
    ("unknown-key", "hosts:\n  a: {usre: x}\n"),
    ("unknown-top-key", "hosts:\n  a:\nvars: {x: 1}\n"),
    ("same-target", "hosts:\n  a: {address: 127.0.0.1}\n  b: {address: 127.0.0.1}\n"),
    ("bad-yaml", "hosts: {a: \n"),
]
SSH_CONFIG_SHAPES = ["Host\n  HostName 127.0.0.1\n", "Host a\n  Port\n", 'Host "a\n', "Host a\n  ProxyJump ,\n",
                     "Host a\n  Port 70000\n", "Host a\n  ProxyCommand nc %h %p\n", "Host a\n  HostName -oProxyCommand=x\n"]
CONTROLS = ["\x1b[2J\x1b[31m", "\x07", "\r", "\u202e", "\x00", "\x7f", "\u2028"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))     # no ~/.ssh of the machine running the tests
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("TOOLKIT_SUDO_PASSWORD", raising=False)
    (tmp_path / "profile.yaml").write_text(PROFILE)
    (tmp_path / "empty_config").write_text("")
    return tmp_path


def apply(capsys, tmp: Path, *args: str, engine: str = "native") -> str:
    argv = ["apply", str(tmp / "profile.yaml"), "--dry-run", "--engine", engine, "--log-dir", str(tmp / "logs"), *args]
    if "--ssh-config" not in args:
        argv += ["--ssh-config", str(tmp / "empty_config")]
    with pytest.raises(SystemExit) as exc:
        main(argv)            # a bug would raise its own exception here, with its traceback
    out, err = capsys.readouterr()
    text = out + err
    assert exc.value.code == 2, text
    assert "Traceback" not in text and "PLAY" not in text, text   # PLAY: ansible-playbook started
    assert all(c.isprintable() or c == "\n" for c in text), f"raw control character in {text!r}"
    return text


def inventory(tmp: Path, text: str) -> str:
    (tmp / "hosts.yaml").write_text(text, encoding="utf-8")
    return str(tmp / "hosts.yaml")


@pytest.mark.parametrize("engine", ["ansible", "native"])
@pytest.mark.parametrize("case, template", JINJA_FIELDS, ids=[c for c, _ in JINJA_FIELDS])
def test_jinja_in_every_inventory_field(env, capsys, engine, case, template):
    marker = env / "PWNED"
    for j in jinja(marker):
        text = template.format(J=j.replace('"', '\\"'))
        apply(capsys, env, "--inventory", inventory(env, text), engine=engine)
    assert not marker.exists()


@pytest.mark.parametrize("engine", ["ansible", "native"])
@pytest.mark.parametrize("line", SSH_CONFIG_JINJA)
def test_jinja_in_the_ssh_config(env, capsys, engine, line):
    marker = env / "PWNED"
    for j in jinja(marker):
        (env / "ssh_config").write_text("Host a\n" + line.format(J=j) + "  HostName 127.0.0.1\n")  # first wins
        apply(capsys, env, "--host", "a", "--ssh-config", str(env / "ssh_config"), engine=engine)
    assert not marker.exists()


@pytest.mark.parametrize("option", ["--identity", "--known-hosts", "--ssh-config"])
def test_jinja_in_path_options(env, capsys, option):
    marker = env / "PWNED"
    for n, j in enumerate(jinja(Path("PWNED"))):    # a file name holds no '/': touch runs in the cwd
        path = env / f"f{n}{j}"
        path.write_text("")
        out = apply(capsys, env, "--host", "deploy@127.0.0.1:1", option, str(path), engine="ansible")
        assert option in out
    assert not marker.exists() and not Path("PWNED").exists()


@pytest.mark.parametrize("case, text", INJECTIONS, ids=[c for c, _ in INJECTIONS])
def test_newline_and_quote_injection_into_the_ssh_config(env, capsys, case, text):
    marker = env / "PWNED"
    for engine in ("native", "ansible"):
        apply(capsys, env, "--inventory", inventory(env, text.format(M=marker)), engine=engine)
    assert not marker.exists()


def test_newline_and_quote_in_identity_and_known_hosts_options(env, capsys):
    key = env / 'id"\nProxyCommand touch PWNED'
    key.write_text("")
    for option in ("--identity", "--known-hosts"):
        apply(capsys, env, "--host", "deploy@127.0.0.1:1", option, str(key))


@pytest.mark.parametrize("case, text", SHAPES, ids=[c for c, _ in SHAPES])
def test_malformed_inventories(env, capsys, case, text):
    out = apply(capsys, env, "--inventory", inventory(env, text))
    assert "hosts.yaml" in out


@pytest.mark.parametrize("cfg", SSH_CONFIG_SHAPES)
def test_malformed_ssh_configs(env, capsys, cfg):
    (env / "ssh_config").write_text(cfg)
    apply(capsys, env, "--host", "a", "--ssh-config", str(env / "ssh_config"))


@pytest.mark.parametrize("char", CONTROLS, ids=[f"U+{ord(c[0]):04X}" for c in CONTROLS])
def test_control_characters_in_names_and_users(env, capsys, char):
    esc = char.encode("unicode_escape").decode()
    for text in (f'hosts:\n  "gpu{esc}01": {{}}\n', f'hosts:\n  a:\ngroups:\n  "g{esc}": {{hosts: [a]}}\n',
                 f'hosts:\n  a: {{user: "dep{esc}loy"}}\n', f'hosts:\n  a: {{address: "h{esc}x"}}\n',
                 f'defaults: {{user: "{esc}"}}\nhosts:\n  a:\n'):
        apply(capsys, env, "--inventory", inventory(env, text))
    if char != "\x00":      # argv cannot hold NUL
        apply(capsys, env, "--host", f"ssh://dep{char}loy@127.0.0.1")


@pytest.mark.process
def test_through_a_real_process_no_traceback(tmp_path):
    (tmp_path / "profile.yaml").write_text(PROFILE)
    (tmp_path / "cfg").write_text("Host\n")
    inv = inventory(tmp_path, "hosts:\n  a:\ngroups:\n  g: {hosts: [[a]]}\n")
    env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1", HOME=str(tmp_path))
    for extra in (["--inventory", inv], ["--host", "a", "--ssh-config", str(tmp_path / "cfg")]):
        proc = subprocess.run([sys.executable, "-m", "toolkit", "apply", str(tmp_path / "profile.yaml"), "--dry-run",
                               "--engine", "ansible", *extra], capture_output=True, text=True, timeout=120, env=env)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr and "error:" in proc.stderr, proc.stderr
