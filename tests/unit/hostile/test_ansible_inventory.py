"""Hostile Ansible inventories (INI and YAML), through the CLI: `toolkit apply --dry-run --inventory`
with either engine, and verify. Each must end with exit 2 before any connection or ansible-playbook run,
name the file and line, print no traceback and no raw control character, echo no secret, and write
no marker file.

Classes: Jinja in every connection variable, at host and group level; newline, quote and control
characters in names and values; ssh arguments that would run a program or weaken host-key checks
(ProxyCommand, LocalCommand, Include, -F, StrictHostKeyChecking); host-range and size bombs; group
loops; secrets in malformed lines; hostile --limit patterns.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.hostile.test_remote import PROFILE, jinja
from toolkit.cli import main

SECRET = "hunter2-Zq9"
USED = ["ansible_host", "ansible_ssh_host", "ansible_user", "ansible_ssh_user", "ansible_port", "ansible_ssh_port",
        "ansible_ssh_private_key_file", "ansible_private_key_file", "ansible_ssh_common_args",
        "ansible_ssh_extra_args", "ansible_connection"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("TOOLKIT_SUDO_PASSWORD", raising=False)
    (tmp_path / "profile.yaml").write_text(PROFILE)
    (tmp_path / "empty_config").write_text("")
    return tmp_path


def refused(capsys, tmp: Path, name: str, text: str, *extra: str, engine: str = "native",
            command: str = "apply", line: bool = True) -> str:
    (tmp / name).write_text(text, encoding="utf-8")
    argv = [command, str(tmp / "profile.yaml"), "--inventory", str(tmp / name), "--ssh-config", str(tmp / "empty_config"),
            *extra]
    if command == "apply":
        argv += ["--dry-run", "--engine", engine, "--log-dir", str(tmp / "logs")]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    text = out + err
    assert exc.value.code == 2, text
    assert "Traceback" not in text and "PLAY" not in text, text
    assert re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069\u2028]", text) is None, repr(text)
    assert SECRET not in text, text
    if line:
        assert re.search(re.escape(name) + r":\d+: ", text), text
    return text


@pytest.mark.parametrize("engine", ["native", "ansible"])
@pytest.mark.parametrize("var", USED)
def test_jinja_in_every_connection_variable(env, capsys, engine, var):
    marker = env / "PWNED"
    for j in jinja(marker):
        quoted = j.replace("'", '"')
        refused(capsys, env, "hosts.ini", f"[g]\nh1 ansible_host=127.0.0.1 {var}='{quoted}'\n", engine=engine)
        refused(capsys, env, "hosts.ini", f"[g]\nh1 ansible_host=127.0.0.1\n[g:vars]\n{var}={j}\n", engine=engine)
        yaml_value = j.replace("\\", "\\\\").replace('"', '\\"')
        refused(capsys, env, "hosts.yml", f'all:\n  hosts:\n    h1:\n      {var}: "{yaml_value}"\n', engine=engine)
    assert not marker.exists()


NL = "\\nProxyCommand touch {M}"
INJECTIONS = [   # YAML values holding a newline or a quote: each would add a line to an ssh config
    "ansible_host: \"127.0.0.1" + NL + "\"",
    "ansible_user: \"deploy" + NL + "\"",
    "ansible_user: \"deploy\\n\"",
    "ansible_port: \"22" + NL + "\"",
    "ansible_ssh_private_key_file: \"/k/id\\\"" + NL + "\"",
    "ansible_ssh_private_key_file: \"/k/id\\r" + NL + "\"",
    "ansible_ssh_common_args: \"-o ProxyJump=ops@bastion" + NL + "\"",
    "ansible_ssh_common_args: \"-J ops@bastion\\\" -oProxyCommand=x\"",
    "ansible_ssh_common_args: \"-J 'ops@bastion -oProxyCommand=touch {M}'\"",
]


@pytest.mark.parametrize("value", INJECTIONS, ids=range(len(INJECTIONS)))
def test_newline_and_quote_injection_in_yaml_values(env, capsys, value):
    marker = env / "PWNED"
    text = f"all:\n  hosts:\n    h1:\n      {value.format(M=marker)}\n"
    for engine in ("native", "ansible"):
        refused(capsys, env, "hosts.yml", text, engine=engine)
    assert not marker.exists()


SSH_ARGS = ["-o ProxyCommand='touch {M}'", "-oProxyCommand=touch", "-o 'ProxyCommand touch {M}'",
            "-o proxycommand=x", "-o PermitLocalCommand=yes -o LocalCommand='touch {M}'", "-o Include=/tmp/x",
            "-F /tmp/cfg", "-E /tmp/log", "-S /tmp/sock", "-o StrictHostKeyChecking=no",
            "-o UserKnownHostsFile=/dev/null", "-o KnownHostsCommand='touch {M}'", "-W h:22", "-L 1:h:2", "-o",
            "-J", "-J -oProxyCommand=x", "'-o ProxyJump=a' '-o ProxyCommand=x'", "-o ProxyJump=-oProxyCommand=x"]


@pytest.mark.parametrize("args", SSH_ARGS)
def test_ssh_arguments_that_run_programs_or_weaken_checks(env, capsys, args):
    marker = env / "PWNED"
    value = args.format(M=marker)
    text = f'[g]\nh1 ansible_host=127.0.0.1\n[g:vars]\nansible_ssh_common_args="{value}"\n'
    out = refused(capsys, env, "hosts.ini", text, engine="ansible")
    assert "ansible_ssh_common_args" in out
    refused(capsys, env, "hosts.ini", text)
    assert not marker.exists()


CONTROLS = ["\x1b[2J\x1b[31m", "\x07", "\u202e", "\x7f", "\u200b", "\x00"]


@pytest.mark.parametrize("char", CONTROLS, ids=[f"U+{ord(c[0]):04X}" for c in CONTROLS])
def test_control_characters_in_names_and_values(env, capsys, char):
    for text in (f"[g{char}]\nh1\n", f"[g]\nh{char}1\n", f"[g]\nh1 ansible_user=de{char}ploy\n",
                 f"[g]\nh1\n[g:vars]\nansible_host=h{char}x\n", f"[g:children]\nc{char}\n[g]\nh\n",
                 f"[g]\nh1 ansible_ssh_common_args='-J a@b{char}'\n"):
        refused(capsys, env, "hosts.ini", text)
    esc = char.encode("unicode_escape").decode()
    for text in (f'all:\n  hosts:\n    "h{esc}1":\n', f'all:\n  children:\n    "g{esc}": {{hosts: {{h: }}}}\n',
                 f'all:\n  hosts:\n    h1: {{ansible_user: "de{esc}ploy"}}\n'):
        refused(capsys, env, "hosts.yml", text)


SHAPES = [
    ("hosts.ini", "[g]\ng[0:99999999]\n"),
    ("hosts.ini", "[g]\na[0:999]b[0:999]\n"),
    ("hosts.ini", "[g]\n" + "".join(f"h{n}[0:999]\n" for n in range(11))),
    ("hosts.ini", "[g]\nh[0:10:0]\n"),
    ("hosts.ini", "[g]\nh" + "[0:0]" * 5000 + "\n"),
    ("hosts.ini", "[g]\nh[" + "9" * 5000 + ":" + "9" * 5001 + "]\n"),
    ("hosts.ini", "[g]\n-oProxyCommand=x\n"),
    ("hosts.ini", "[g]\nh1 ansible_port=22 =x\n"),
    ("hosts.ini", "[a:children]\nb\n[b:children]\nc\n[c:children]\na\n[d]\nh\n"),
    ("hosts.ini", "[g:vars]\nansible_user=x\n[h]\nh1\n"),
    ("hosts.ini", "[g]\nh1 ansible_host='unterminated\n"),
    ("hosts.ini", "[g]\nh1 ansible_port=0\n"),
    ("hosts.ini", "[g]\nh1 ansible_port=99999999999999999999999\n"),
    ("hosts.ini", "[g]\nh1 ansible_port=-1\n"),
    ("hosts.ini", "[g]\nh1 ansible_port=" + "9" * 5000 + "\n"),
    ("hosts.ini", "[g]\nh1:" + "9" * 5000 + "\n"),
    ("hosts.ini", "[g]\nh1 ansible_port=\u0662\u0662\n"),
    ("hosts.ini", "[g]\nh1:\u0662\u0662\n"),
    ("hosts.ini", "[g]\nh1\n[g:vars]\nansible_group_priority=" + "9" * 5000 + "\nansible_port=0\n"),
    ("hosts.ini", "[g]\nh1 ansible_connection=local\n"),
    ("hosts.yml", "all:\n  hosts:\n    h1: {ansible_port: 22.0}\n"),
    ("hosts.yml", "all:\n  hosts:\n    h1: {ansible_port: 100000000000000000000000}\n"),
    ("hosts.yml", "all:\n  hosts:\n    h1: {ansible_host: {a: 1}}\n"),
    ("hosts.yml", "all:\n  hosts:\n    h1: {ansible_ssh_common_args: [-J, a@b]}\n"),
    ("hosts.yml", "all:\n  hosts:\n    '-oProxyCommand=x':\n"),
    ("hosts.yml", "all:\n  children:\n    all: {hosts: {h: }}\n"),
    ("hosts.yml", "all:\n  children:\n    a: {children: {b: {children: {a: }}}, hosts: {h: }}\n"),
    ("hosts.yml", "all:\n  hosts:\n    'g[0:99999999]':\n"),
    ("hosts.yml", "all:\n  hosts: [h1, h2]\n"),
    ("hosts.yml", "all:\n  hostz: {h1: }\n"),
]


@pytest.mark.parametrize("name, text", SHAPES, ids=range(len(SHAPES)))
def test_malformed_and_oversized_inventories(env, capsys, name, text):
    refused(capsys, env, name, text)


def test_secrets_in_inventories_are_never_echoed(env, capsys):
    for text in (f"[g]\nh1 {SECRET}\n", f"[g]\nh1 ansible_password={SECRET} ansible_port=0\n",
                 f"[g]\nh1\n[g:vars]\n{SECRET}\n", f"[g:children]\n{SECRET} x\n[g]\nh\n",
                 f"[g]\nh1 ansible_become_password={SECRET} ansible_user='a b'\n"):
        refused(capsys, env, "hosts.ini", text)
    # accepted: the password is ignored with a note that names the variable, never its value
    (env / "ok.ini").write_text(f"h1 ansible_host=127.0.0.1 ansible_port=1 ansible_password={SECRET}\n")
    with pytest.raises(SystemExit):
        main(["apply", str(env / "profile.yaml"), "--inventory", str(env / "ok.ini"), "--ssh-config",
              str(env / "empty_config"), "--dry-run", "--log-dir", str(env / "logs")])
    out, err = capsys.readouterr()
    assert "ansible_password ignored" in err and SECRET not in out + err


@pytest.mark.parametrize("limit", ["gpu\x1b[2J", f"a,{SECRET}\u202e", "\x00", " , ,", "!", "&", "a:!:&",
                                   "[0:99999999]", "~(a+)+$", "@retry.txt"])
@pytest.mark.parametrize("command", ["apply", "verify"])
def test_hostile_limit_patterns(env, capsys, limit, command):
    text = refused(capsys, env, "hosts.ini", "[gpu]\nh1 ansible_host=127.0.0.1\n", "--limit", limit,
                   command=command, line=False)
    assert "--limit" in text
