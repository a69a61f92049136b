"""Target addresses: parsing, refusals, and the strict ssh config."""

from __future__ import annotations

import urllib.parse

import pytest

from toolkit.errors import UsageError
from toolkit.targets.address import Address, parse
from toolkit.targets.reach import ssh_hostspec, strict_ssh_config


@pytest.mark.parametrize("text,address", [
    ("local", Address("local")),
    ("local://", Address("local")),
    ("docker-image://toolkit/datascience-cpu:1.0", Address("docker-image", "toolkit/datascience-cpu:1.0")),
    ("toolkit/datascience-cpu", Address("docker-image", "toolkit/datascience-cpu")),
    ("local/debian:12", Address("docker-image", "local/debian:12")),
    ("registry.example.com:5000/team/img:v2", Address("docker-image", "registry.example.com:5000/team/img:v2")),
    ("img@sha256:" + "a" * 64, Address("docker-image", "img@sha256:" + "a" * 64)),
    ("docker://ds-verify_1", Address("docker", "ds-verify_1")),
    ("docker://0123456789ab", Address("docker", "0123456789ab")),
    ("ssh://deploy@127.0.0.1:2222", Address("ssh", "127.0.0.1", "deploy", 2222)),
    ("ssh://gpu-box", Address("ssh", "gpu-box", None, None)),
    ("ssh://root@[::1]:22", Address("ssh", "[::1]", "root", 22)),
])
def test_parse(text, address):
    assert parse(text) == address


@pytest.mark.parametrize("text", [
    "ftp://host", "docker://", "docker://name;rm -rf /", "docker-image://UPPER/Case",
    "docker-image://img:tag with space", "ssh://user@host:notaport", "ssh://user@host/path",
    "ssh://user:secret@host", "ssh://-oProxyCommand=evil", "ssh://us$er@host", "$(reboot)",
])
def test_refused(text):
    with pytest.raises(UsageError) as exc:
        parse(text)
    assert exc.value.exit_code == 2


def test_strict_config_wins_over_the_users_and_includes_it(tmp_path):
    user = tmp_path / "user_config"
    user.write_text("Host *\n    StrictHostKeyChecking no\n")
    path = strict_ssh_config(tmp_path / "wrapper", str(user))
    lines = path.read_text().splitlines()
    assert lines[:2] == ["StrictHostKeyChecking yes", "BatchMode yes"]   # first value wins in OpenSSH
    assert lines[2] == f'Include "{user.resolve()}"'


def test_missing_explicit_ssh_config_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        strict_ssh_config(tmp_path / "wrapper", str(tmp_path / "nope"))


def test_ssh_hostspec_for_testinfra(tmp_path):
    spec = ssh_hostspec(Address("ssh", "127.0.0.1", "deploy", 2222), tmp_path / "cfg")
    url = urllib.parse.urlsplit(spec)
    assert (url.scheme, url.netloc) == ("ssh", "deploy@127.0.0.1:2222")
    assert urllib.parse.parse_qs(url.query)["ssh_config"] == [str(tmp_path / "cfg")]
