"""Credentials of a private index and a proxy: where they come from, what refuses, what they become."""

from __future__ import annotations

import pytest

from toolkit.errors import UsageError
from toolkit.executors import credentials as cr
from toolkit.model.plan import Plan, Target
from toolkit.model.steps import Environment, PipInstall


def plan(index="http://idx.example:8080/simple", extra=(), proxy="http://proxy.example:3128", build_only=True):
    steps = []
    if proxy:
        steps.append(Environment("network", "proxy settings", build_only=build_only,
                                 variables=(("http_proxy", proxy), ("HTTP_PROXY", proxy), ("no_proxy", "localhost"))))
    steps.append(PipInstall("packages", "pip", venv="/opt/venv", requirements=("x",), index_url=index,
                            extra_index_urls=tuple(extra)))
    return Plan("p", "", "0" * 64, Target("debian", "12", "debian:12", "3.11", "python3", "/opt/venv", "dev", 1000, 1000,
                                               "/home/dev", False),
                tuple(steps), (), ())


ENV = {"TOOLKIT_PIP_INDEX_USERNAME": "iu", "TOOLKIT_PIP_INDEX_PASSWORD": "Ip@ss:w%40rd",
       "TOOLKIT_PROXY_USERNAME": "pu", "TOOLKIT_PROXY_PASSWORD": "Pr@x/y:1"}


def test_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    c = cr.gather(plan(), ENV)
    assert c.netrc_text() == "machine idx.example login iu password Ip@ss:w%40rd\n"
    args = c.proxy_args(cr.proxy_settings(plan()))
    assert args == {"http_proxy": "http://pu:Pr%40x%2Fy%3A1@proxy.example:3128",
                    "HTTP_PROXY": "http://pu:Pr%40x%2Fy%3A1@proxy.example:3128", "no_proxy": "localhost"}
    assert "Ip@ss:w%40rd" in c.secrets() and "Pr%40x%2Fy%3A1" in c.secrets()
    assert not any("Ip@ss" in line or "Pr@x" in line for line in c.describe())
    assert dict(cr.host_files(c)) == {"netrc": c.netrc_text(), "proxy-auth": "pu:Pr%40x%2Fy%3A1\n"}


def test_from_netrc_only_for_the_profiles_hosts(tmp_path):
    rc = tmp_path / "netrc"
    rc.write_text("machine idx.example login a password b1\nmachine other.example login c password d2\n"
                  "machine proxy.example login e password f3\nmachine extra.example login g password h4\n")
    rc.chmod(0o600)
    c = cr.gather(plan(extra=["https://extra.example/simple"]), {}, str(rc))
    assert c.netrc_text() == ("machine idx.example login a password b1\n"
                              "machine extra.example login g password h4\n")
    assert c.proxy_auth() == "e:f3" and "d2" not in c.netrc_text()


def test_nothing_needed_nothing_gathered(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    c = cr.gather(plan(), {})
    assert not c and c.netrc_text() == "" and cr.host_files(c) == ()
    assert c.proxy_args({"http_proxy": "http://p:1"}) == {"http_proxy": "http://p:1"}


@pytest.mark.parametrize("env, needle", [
    ({"TOOLKIT_PIP_INDEX_USERNAME": "u"}, "TOOLKIT_PIP_INDEX_PASSWORD is not set"),
    ({"TOOLKIT_PROXY_PASSWORD": "S3cret-x"}, "TOOLKIT_PROXY_USERNAME is not set"),
])
def test_half_given_is_refused_without_the_secret(env, needle, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(UsageError) as exc:
        cr.gather(plan(), env)
    assert needle in exc.value.render() and "S3cret" not in exc.value.render()


def test_credentials_for_what_the_profile_lacks_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(UsageError, match="no network.pip.index_url"):
        cr.gather(plan(index=None), ENV)
    with pytest.raises(UsageError, match="no network.proxy"):
        cr.gather(plan(proxy=None), {k: v for k, v in ENV.items() if "PROXY" in k})


def test_proxy_credentials_with_keep_in_image_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(UsageError, match="keep_in_image"):
        cr.gather(plan(build_only=False), ENV)


def test_a_broken_netrc_is_named_but_never_quoted(tmp_path):
    rc = tmp_path / "netrc"
    rc.write_text("machine idx.example login a password Very-S3cret extra-token-Hidden\n")
    rc.chmod(0o600)
    with pytest.raises(UsageError) as exc:
        cr.gather(plan(), {}, str(rc))
    text = exc.value.render()
    assert str(rc) in text and "S3cret" not in text and "Hidden" not in text


def test_a_netrc_that_is_not_a_file_is_refused(tmp_path):
    with pytest.raises(UsageError, match="not a regular file"):
        cr.gather(plan(), {}, str(tmp_path))


def test_a_password_a_netrc_cannot_carry_is_refused_without_echo(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    env = {"TOOLKIT_PIP_INDEX_USERNAME": "u", "TOOLKIT_PIP_INDEX_PASSWORD": "has space S3cret"}
    with pytest.raises(UsageError) as exc:
        cr.gather(plan(), env)
    assert "S3cret" not in exc.value.render() and "netrc file cannot carry" in exc.value.render()
    # the proxy's login is percent-encoded into a URL: a space is fine there
    ok = cr.gather(plan(), {"TOOLKIT_PROXY_USERNAME": "u", "TOOLKIT_PROXY_PASSWORD": "a b"})
    assert ok.proxy_auth() == "u:a%20b"
