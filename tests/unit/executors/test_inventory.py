"""Hosts for apply: --host URLs, inventory files, the OpenSSH config, and the errors (exit 2)."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from toolkit.errors import EXIT_INVALID, UsageError
from toolkit.executors import inventory
from toolkit.executors.inventory import LOCAL, Host, resolve

SSH_CONFIG = """\
Host gpu-alias
    HostName 10.1.2.3
    Port 2200
    User ubuntu
    IdentityFile ~/keys/gpu
    UserKnownHostsFile ~/kh/gpu

Host behind
    HostName 10.9.9.9
    ProxyJump admin@bastion:2222

Host chained
    HostName 10.8.8.8
    ProxyJump first,second:23

Host piped
    ProxyCommand nc %h %p
"""


@pytest.fixture
def cfg(tmp_path) -> str:
    path = tmp_path / "ssh_config"
    path.write_text(SSH_CONFIG)
    return str(path)


def inv(tmp_path: Path, text: str, cfg: str | None = None, **kw) -> list[Host]:
    path = tmp_path / "hosts.yaml"
    path.write_text(text)
    return resolve((), str(path), False, ssh_config=cfg or _empty(tmp_path), **kw)


def _empty(tmp_path: Path) -> str:
    path = tmp_path / "empty_config"
    path.touch()
    return str(path)


def test_host_urls_with_and_without_scheme(tmp_path):
    hosts = resolve(("ssh://deploy@127.0.0.1:2222", "root@example.com", "ssh://[::1]:22"), None, False,
                    ssh_config=_empty(tmp_path))
    assert [(h.name, h.hostname, h.port, h.user) for h in hosts] == [
        ("deploy@127.0.0.1:2222", "127.0.0.1", 2222, "deploy"),
        ("root@example.com", "example.com", 22, "root"),
        ("[::1]:22", "::1", 22, getpass.getuser()),
    ]
    assert hosts[1].is_root and str(hosts[2]) == f"{getpass.getuser()}@[::1]:22"


def test_ssh_config_fills_what_the_url_leaves_open(tmp_path, cfg):
    (h,) = resolve(("ssh://gpu-alias",), None, False, ssh_config=cfg)
    assert (h.hostname, h.port, h.user) == ("10.1.2.3", 2200, "ubuntu")
    assert h.identity == str(Path("~/keys/gpu").expanduser())
    assert h.known_hosts == str(Path("~/kh/gpu").expanduser())
    (h,) = resolve(("ssh://admin@gpu-alias:2201",), None, False, ssh_config=cfg, identity="/k/id")
    assert (h.user, h.port, h.identity) == ("admin", 2201, "/k/id")     # explicit beats the config


def test_proxy_jump_single_and_chained(tmp_path, cfg):
    (h,) = resolve(("behind",), None, False, ssh_config=cfg)
    assert h.jump is not None and (h.jump.hostname, h.jump.port, h.jump.user) == ("bastion", 2222, "admin")
    assert str(h.jump) == "admin@bastion:2222"
    (h,) = resolve(("chained",), None, False, ssh_config=cfg)
    assert (h.jump.hostname, h.jump.port) == ("second", 23)
    assert h.jump.jump is not None and h.jump.jump.hostname == "first" and h.jump.jump.jump is None


def test_inventory_defaults_groups_and_hosts(tmp_path, cfg):
    hosts = inv(tmp_path, """
defaults: {user: deploy, identity: /keys/default}
hosts:
  gpu01: {address: 10.0.0.5, port: 2222}
  gpu02:
  gpu-alias: {}
  edge: {address: 10.0.0.7, jump: ops@bastion}
groups:
  a100: {hosts: [gpu01, gpu02], user: ubuntu}
""", cfg)
    by = {h.name: h for h in hosts}
    assert [h.name for h in hosts] == ["gpu01", "gpu02", "gpu-alias", "edge"]
    assert (by["gpu01"].hostname, by["gpu01"].port, by["gpu01"].user) == ("10.0.0.5", 2222, "ubuntu")
    assert (by["gpu02"].hostname, by["gpu02"].user, by["gpu02"].identity) == ("gpu02", "ubuntu", "/keys/default")
    assert (by["gpu-alias"].hostname, by["gpu-alias"].port, by["gpu-alias"].user) == ("10.1.2.3", 2200, "deploy")
    assert str(by["edge"].jump) == "ops@bastion:22"


@pytest.mark.parametrize("text, message", [
    ("hosts: {a: {usr: x}}", "unknown key 'usr'"),
    ("hostz: {}", "unknown key 'hostz'"),
    ("hosts: []", "`hosts` must map host names"),
    ("hosts: {a: {port: 70000}}", "port must be a number from 1 to 65535"),
    ("hosts: {a: {port: yes}}", "port must be a number"),
    ("hosts: {a: {user: 'bad user'}}", "invalid user name"),
    ("hosts: {a: {address: 'x;rm -rf /'}}", "invalid address"),
    ("hosts: {a: {jump: 'https://x'}}", "not an ssh address"),
    ("hosts: {a: {}, b: {address: a}}", "are the same target"),
    ("hosts: {a: {}}\ngroups: {g: {hosts: [b]}}", "unknown host 'b'"),
    ("hosts: {a: {}}\ngroups: {g: {hosts: [a]}, h: {hosts: [a]}}", "is in groups g and h"),
    ("hosts: {a: {}}\ngroups: {g: {hosts: [a], prot: 1}}", "did you mean 'port'"),
    ("hosts: {a: [1]}", "expected a mapping"),
    ("hosts: {a: {}", "not valid YAML"),
])
def test_inventory_mistakes_are_usage_errors(tmp_path, text, message):
    with pytest.raises(UsageError) as info:
        inv(tmp_path, text)
    assert message in f"{info.value.message} {info.value.hint}", info.value.message
    assert info.value.exit_code == EXIT_INVALID


def test_ssh_config_mistakes(tmp_path, cfg):
    with pytest.raises(UsageError, match="ProxyCommand"):
        resolve(("piped",), None, False, ssh_config=cfg)
    with pytest.raises(UsageError, match="not found"):
        resolve(("h",), None, False, ssh_config=str(tmp_path / "missing"))
    with pytest.raises(UsageError, match="invalid ssh"):
        resolve(("ssh://u@h/path",), None, False, ssh_config=cfg)


def test_exactly_one_source_of_hosts(tmp_path):
    with pytest.raises(UsageError, match="exactly one"):
        resolve((), None, False)
    with pytest.raises(UsageError, match="exactly one"):
        resolve(("h",), None, True)
    assert resolve((), None, True) == [LOCAL] and LOCAL.local
    with pytest.raises(UsageError, match="inventory .*missing"):
        resolve((), str(tmp_path / "missing"), False, ssh_config=_empty(tmp_path))


def test_jump_loops_are_refused(tmp_path):
    path = tmp_path / "loop_config"
    path.write_text("Host a\n    ProxyJump b\nHost b\n    ProxyJump a\n")
    with pytest.raises(UsageError, match="jump hosts"):
        inventory.resolve(("a",), None, False, ssh_config=str(path))
