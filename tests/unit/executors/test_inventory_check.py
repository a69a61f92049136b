"""Inventory shape and values, and the ssh config they meet: located errors (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.errors import EXIT_INVALID, UsageError
from toolkit.executors.inventory import resolve
from toolkit.inputs import load_yaml


def refused(tmp_path: Path, text: str, *, cfg: str = "", urls: tuple[str, ...] = (), **kw) -> str:
    (tmp_path / "cfg").write_text(cfg)
    inventory = None
    if not urls:
        inventory = tmp_path / "hosts.yaml"
        inventory.write_text(text)
    with pytest.raises(UsageError) as info:
        resolve(urls, str(inventory) if inventory else None, False, ssh_config=str(tmp_path / "cfg"), **kw)
    msg = info.value.render()
    assert info.value.exit_code == EXIT_INVALID and all(c.isprintable() or c == "\n" for c in msg), msg
    return msg


@pytest.mark.parametrize("text, where", [
    ("hosts:\n  a:\ngroups:\n  g:\n    hosts: [a, [b]]\n", ":5: groups.g.hosts[1]: a member must be a host name, got list"),
    ("hosts:\n  a:\ngroups:\n  g:\n    hosts:\n      - {a: 1}\n", ":6: groups.g.hosts[0]: a member must be a host name, got dict"),
    ("hosts:\n  a:\ngroups:\n  g:\n    hosts: a\n", ":5: groups.g.hosts: hosts must be a list"),
    ("hosts:\n  a:\ngroups: [a]\n", ":3: groups: `groups` must map"),
    ("hosts:\n  a:\ngroups:\n  g: [a]\n", ":4: groups.g: expected a mapping"),
    ("hosts:\n  a: {port: 0}\n", ":2: hosts.a.port: port must be a number from 1 to 65535, got 0"),
    ("hosts:\n  a:\n    port: 65536\n", ":3: hosts.a.port:"),
    ("hosts:\n  a: {port: '22'}\n", "hosts.a.port: port must be a number"),
    ("hosts:\n  a: {port: 22.5}\n", "hosts.a.port:"),
    ("hosts:\n  a: {user: [x]}\n", "hosts.a.user: user must be text, got list"),
    ("hosts:\n  a: {identity: {k: v}}\n", "hosts.a.identity: identity must be text, got dict"),
    ("hosts:\n  a: {jump: ','}\n", "hosts.a.jump: jump ',' has an empty hop"),
    ("hosts:\n  a: {jump: 'u@h:99999'}\n", "hosts.a.jump: jump: invalid ssh port"),
    ("hosts:\n  a: {adress: h}\n", ":2: hosts.a.adress: unknown key 'adress'"),
    ("hosts:\n  a:\ndefualts: {}\n", ":3: defualts: unknown key 'defualts'"),
    ("defaults: [user]\nhosts: {a: }\n", ":1: defaults: expected a mapping"),
    ("defaults: {user: x, portt: 1}\nhosts: {a: }\n", "did you mean 'port'?"),
    ("hosts:\n  a:\n  b:\ngroups:\n  g: {hosts: [a], user: x}\n  h: {hosts: [a], user: y}\n",
     ":6: groups.h.hosts[0]: host a is in groups g and h"),
    ("hosts:\n", "`hosts` must map host names"),
    ("hosts: {}\n", "`hosts` must map host names"),
    ("", "the inventory is empty"),
    ("- a\n- b\n", "(document): expected a mapping"),
    ("just text\n", ":1: [ungrouped] just: expected key=value after the host: word 2 has no '='"),   # read as INI
    ("hosts:\n  123: {}\n", ":2:3: not valid YAML: key 123 is read as int, not text"),
    ("hosts:\n  ~: {}\n", ":2:3: not valid YAML: key ~ is read as null, not text"),
    ("hosts:\n  a:\ngroups:\n  7: {hosts: [a]}\n", ":4:3: not valid YAML: key 7 is read as int, not text"),
    ("hosts:\n  'a b': {}\n", "invalid host name 'a b'"),
    ("hosts:\n  a:\ngroups:\n  'g;x': {hosts: [a]}\n", "invalid group name"),
])
def test_shapes_and_values_name_file_line_and_field(tmp_path, text, where):
    assert where in refused(tmp_path, text)


@pytest.mark.parametrize("name", ["gpu\x1b[2J01", "gpu\x07", "gpu\r01", "\u202egpu", "gpu\u200b"])
def test_control_characters_in_host_and_group_names_and_users(tmp_path, name):
    yaml_name = name.encode("unicode_escape").decode()
    assert "control or invisible" in refused(tmp_path, f'hosts:\n  "{yaml_name}": {{}}\n')
    assert "control or invisible" in refused(tmp_path, f'hosts:\n  a:\ngroups:\n  "{yaml_name}": {{hosts: [a]}}\n')
    assert "invalid user name" in refused(tmp_path, f'hosts:\n  a: {{user: "{yaml_name}"}}\n')
    assert "invalid address" in refused(tmp_path, f'hosts:\n  a: {{address: "{yaml_name}"}}\n')
    assert "control or invisible" in refused(tmp_path, "", urls=(f"ssh://{name}",))


@pytest.mark.parametrize("cfg, where", [
    ("Host a\n  HostName 10.0.0.1\nHost\n  User x\n", "cfg:3: 'Host' has no value"),
    ("Host a\n  Port\n", "cfg:2: 'Port' has no value"),
    ('Host "a\n', "cfg:1: 'Host': a quote is not closed"),
    ('Match host "a\n', "cfg:1: 'Match': a quote is not closed"),
    ("Host a\n  ProxyJump ,\n", "ProxyJump ',' has an empty hop"),
    ("Host a\n  ProxyJump u@h:0\n", "invalid ssh port"),
    ("Host a\n  Port 0\n", "invalid Port '0'"),
    ("Host a\n  Port 99999\n", "invalid Port '99999'"),
    ("Host a\n  HostName %q\n", "invalid HostName '%q'"),
    ("Host a\n  User %u%x\n", "invalid User"),
    ("Host a\n  IdentityFile /k/{{x}}\n", "IdentityFile: '/k/{{x}}' contains"),
    ("Host a\n  UserKnownHostsFile /kh/{%x%}\n", "UserKnownHostsFile: '/kh/{%x%}' contains"),
])
def test_ssh_config_mistakes_name_file_line_and_keyword(tmp_path, cfg, where):
    assert where in refused(tmp_path, "", cfg=cfg, urls=("a",))


def test_identity_from_the_command_line_is_checked(tmp_path):
    assert "--identity: " in refused(tmp_path, "", urls=("a",), identity="/k/{{ lookup('pipe','id') }}")


def test_errors_are_located_through_the_loaded_document(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("hosts:\n  a: {port: 1}\ngroups:\n  g:\n    hosts:\n      - a\n      - b\n")
    doc = load_yaml(path, what="inventory")
    assert doc.position(("hosts", "a", "port"))[0] == 2
    assert doc.position(("groups", "g", "hosts", 1))[0] == 7
    assert "hosts.yaml:7: groups.g.hosts[1]: unknown host" in refused(tmp_path, path.read_text())
