"""The pure parts of toolkit/lock/apt_resolve.py: which previous pins stay, which proxy values are secrets.
Resolving against a real archive is tested in tests/integration/test_lock_apt.py."""

from __future__ import annotations

from toolkit.lock import apt_resolve
from toolkit.lock.model import AptRequest, OsPackage

PREVIOUS = [OsPackage("git", "1:2.39.2-1.1", "amd64", "git: Git"), OsPackage("less", "590-2", "amd64", "git: Git"),
            OsPackage("curl", "7.88.1-10", "amd64", "os: OS packages")]
REQUESTS = [AptRequest("os: OS packages", ("curl=7.88.1-10+deb12u5",)), AptRequest("git: Git", ("git",))]


def test_previous_pins_stay_unless_upgraded_or_named_by_the_step():
    assert apt_resolve._pins(REQUESTS, PREVIOUS, False, ()) == {"git": "1:2.39.2-1.1", "less": "590-2"}
    assert apt_resolve._pins(REQUESTS, PREVIOUS, False, ("less",)) == {"git": "1:2.39.2-1.1"}
    assert apt_resolve._pins(REQUESTS, PREVIOUS, True, ()) == {}
    assert apt_resolve._pins(REQUESTS, (), False, ()) == {}


def test_proxy_variables_pass_and_their_credentials_are_secrets():
    env = {"http_proxy": "http://alice:s3cret@proxy.example:3128", "HTTPS_PROXY": "proxy.example:3128",
           "NO_PROXY": "localhost", "HOME": "/root", "PIP_INDEX_URL": "https://u:p@idx"}
    proxies, secrets = apt_resolve._proxies(env)
    assert proxies == {"http_proxy": env["http_proxy"], "HTTP_PROXY": env["http_proxy"],
                       "https_proxy": "proxy.example:3128", "HTTPS_PROXY": "proxy.example:3128",
                       "no_proxy": "localhost", "NO_PROXY": "localhost"}
    assert secrets[:2] == ["alice", "s3cret"]
    assert apt_resolve._proxies({"http_proxy": "http://a:b@lower", "HTTP_PROXY": "http://upper"})[0]["http_proxy"] == "http://a:b@lower"
