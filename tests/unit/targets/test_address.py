"""Target addresses in their own home (toolkit.targets.address): the one syntax of --target."""

from __future__ import annotations

import pytest

from toolkit.errors import UsageError
from toolkit.targets.address import Address, parse


@pytest.mark.parametrize("text, address", [
    ("local", Address("local")),
    ("local://", Address("local")),
    ("  local ", Address("local")),
    ("ssh://deploy@127.0.0.1:2222", Address("ssh", "127.0.0.1", "deploy", 2222)),
    ("ssh://gpu01", Address("ssh", "gpu01")),
    ("ssh://root@[::1]:22", Address("ssh", "[::1]", "root", 22)),
    ("docker://abc_1.x", Address("docker", "abc_1.x")),
    ("docker-image://local/debian:12", Address("docker-image", "local/debian:12")),
    ("local/debian:12", Address("docker-image", "local/debian:12")),
    ("podman-image://toolkit-test/ds:latest", Address("podman-image", "toolkit-test/ds:latest")),
])
def test_every_form_parses(text, address):
    assert parse(text) == address


@pytest.mark.parametrize("address, text", [
    (Address("local"), "local"),
    (Address("ssh", "h", "u", 2), "ssh://u@h:2"),
    (Address("ssh", "[::1]"), "ssh://[::1]"),
    (Address("docker", "c1"), "docker://c1"),
    (Address("docker-image", "a/b:1"), "docker-image://a/b:1"),
    (Address("podman-image", "a/b:1"), "podman-image://a/b:1"),
])
def test_an_address_prints_as_it_parses(address, text):
    assert str(address) == text and parse(text) == address


@pytest.mark.parametrize("text, words", [
    ("ftp://host", "unknown target"),
    ("ssh://u:hunter2@host", "password"),
    ("ssh://host/path", "invalid ssh target"),
    ("ssh://host:0", "invalid ssh port"),
    ("ssh://host:99999", "invalid ssh port"),
    ("ssh://ho\nst", "control"),
    ("ssh://-oProxyCommand=x", "invalid ssh target"),
    ("docker://-rm", "invalid container name"),
    ("docker-image://UPPER", "invalid image name"),
    ("docker-image://a b", "invalid image name"),
    ("podman-image://a;rm -rf /", "invalid image name"),
    ("podman-image://UPPER", "invalid image name"),
])
def test_bad_addresses_are_usage_errors_that_never_echo_a_password(text, words):
    with pytest.raises(UsageError) as exc:
        parse(text)
    assert words in exc.value.message
    assert "hunter2" not in exc.value.message + (exc.value.hint or "")


def test_unknown_scheme_with_credentials_is_masked():
    with pytest.raises(UsageError) as exc:
        parse("ftp://bob:s3cret@host")
    assert "s3cret" not in exc.value.message
