"""toolkit.redact: the credential part of every URL shape, secret-looking names, known values."""

from __future__ import annotations

import pytest

from toolkit import redact

PASSWORDS = ["pass", "p@ss", "p:ss", "p%40ss", "p@ss@w:rd", "pa/ss", "p%2Fss:x@y", "hunter2", ":", "@@"]
SCHEMES = ["http", "https", "socks5h", "git+https", "ftp"]


@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_credentials_of_every_url_shape_are_masked(scheme, password):
    for tail in ("host", "host:3128", "host/simple/", "host:8080/a/b?x=1#f", "127.0.0.1:9", "[::1]:3128/x"):
        url = f"{scheme}://user:{password}@{tail}"
        masked = redact.url(f"see {url} now")
        assert masked == f"see {scheme}://***@{tail} now"
        assert redact.value(url) == f"{scheme}://***@{tail}"


def test_user_only_and_empty_user_are_masked():
    assert redact.url("https://ghp_token123@github.com/x") == "https://***@github.com/x"
    assert redact.url("http://:pw@h") == "http://***@h"


@pytest.mark.parametrize("text", [
    "https://pypi.org/simple/pkg@1.0", "http://host:8080/p@1", "plain text a@b.com", "http://host/x",
    "no url at all", "ssh://host",
])
def test_urls_without_credentials_are_unchanged(text):
    assert redact.url(text) == text and not redact.has_credentials(text)


def test_several_urls_in_one_line_and_quotes_end_a_url():
    line = "proxy='http://a:b@p:1' index=\"https://c:d@i/simple\" <http://e:f@g>"
    assert redact.url(line) == "proxy='http://***@p:1' index=\"https://***@i/simple\" <http://***@g>"


def test_whole_values_mask_quotes_spaces_and_schemeless_proxies():
    assert redact.value("http://u:it's a@h:1") == "http://***@h:1"
    assert redact.value("user:pass@proxy:3128") == "***@proxy:3128"
    assert redact.value("dev@example.com") == "dev@example.com"


@pytest.mark.parametrize("name", ["HF_TOKEN", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "API_KEY", "MY_PASSWD",
                                  "GITHUB_PAT", "NPM_AUTH", "PASS", "SSH_PASSPHRASE", "netrc", "session_cookie"])
def test_secret_looking_names(name):
    assert redact.is_secret_name(name)
    assert redact.mapping({name: "value-123"}) == {name: "***"}


@pytest.mark.parametrize("name", ["PATH", "http_proxy", "PYTHONUNBUFFERED", "VERSION", "COMPASS"])
def test_ordinary_names(name):
    assert not redact.is_secret_name(name)


def test_mapping_masks_url_credentials_in_ordinary_names():
    assert redact.mapping({"http_proxy": "http://u:p@ss@h:1", "X": "1"}) == {"http_proxy": "http://***@h:1", "X": "1"}


def test_known_secret_values_are_masked_longest_first():
    assert redact.text("a s3cret and s3cret-longer", ["s3cret", "s3cret-longer"]) == "a *** and ***"
    assert redact.text("abc", ["abc"]) == "abc"          # too short to search free text for
