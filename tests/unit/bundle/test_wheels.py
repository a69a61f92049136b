"""Wheels fetched from a real index on 127.0.0.1 (tests.indexserver), each checked against the lock's hash."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.indexserver import make_wheel, serve_index
from toolkit.bundle import wheels
from toolkit.lock.model import LockError, PipPackage


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def locked(name: str, path, index: str, *, sha: str | None = None) -> PipPackage:
    digest = sha or hashlib.sha256(path.read_bytes()).hexdigest()
    return PipPackage(name, "1.0", (f"sha256:{digest}",), index, "packages: pip", files=(path.name, f"{name}-1.0.tar.gz"))


def test_wheels_are_fetched_checked_and_kept_once(tmp_path):
    with serve_index(tmp_path / "index") as index:
        a = index.add("alpha", "1.0")
        b = index.add("beta-pkg", "1.0")
        packages = [locked("alpha", a, index.url), locked("beta-pkg", b, index.url)]
        seen = []
        sizes = wheels.collect(packages, tmp_path / "out", proxies={}, progress=lambda *a: seen.append(a))
        assert sizes == {a.name: a.stat().st_size, b.name: b.stat().st_size}
        assert (tmp_path / "out" / a.name).read_bytes() == a.read_bytes()
        assert seen[-1] == (2, 2, sum(sizes.values()))
        asked = len(index.counts.paths)
        wheels.collect(packages, tmp_path / "out", proxies={})          # already there with a locked hash
        assert len(index.counts.paths) == asked


def test_a_file_whose_hash_the_lock_does_not_record_is_not_kept(tmp_path):
    with serve_index(tmp_path / "index") as index:
        a = index.add("alpha", "1.0")
        with pytest.raises(LockError, match="not one the lock records") as exc:
            wheels.collect([locked("alpha", a, index.url, sha="0" * 64)], tmp_path / "out", proxies={})
        assert a.name in exc.value.message
        assert list((tmp_path / "out").iterdir()) == []


def test_a_file_gone_from_the_index_is_named(tmp_path):
    with serve_index(tmp_path / "index") as index:
        index.add("alpha", "1.0")
        other = make_wheel(tmp_path, "alpha", "9.9")
        with pytest.raises(LockError, match="not on"):
            wheels.collect([locked("alpha", other, index.url)], tmp_path / "out", proxies={})


def test_find_links_packages_are_copied_and_checked(tmp_path):
    folder = tmp_path / "links"
    folder.mkdir()
    w = make_wheel(folder, "gamma", "1.0")
    sizes = wheels.collect([locked("gamma", w, f"find-links:{folder}")], tmp_path / "out", proxies={})
    assert sizes == {w.name: w.stat().st_size}


@pytest.mark.parametrize("name", ["../evil.whl", "a/b.whl", "evil.sh", "x.whl\n", "-rf.whl"])
def test_hostile_file_names_in_a_lock_are_refused(name):
    with pytest.raises(LockError):
        wheels.wanted([PipPackage("x", "1", ("sha256:" + "0" * 64,), "https://pypi.org/simple", "s", files=(name,))])


def test_wheels_are_preferred_an_sdist_only_without_one():
    p = PipPackage("x", "1", ("sha256:" + "0" * 64,), "i", "s", files=("x-1-py3-none-any.whl", "x-1.tar.gz"))
    q = PipPackage("y", "1", ("sha256:" + "0" * 64,), "i", "s", files=("y-1.tar.gz",))
    assert [w.filename for w in wheels.wanted([p, q])] == ["x-1-py3-none-any.whl", "y-1.tar.gz"]


def test_pep691_json_and_pep503_html_pages():
    page = json.dumps({"files": [{"filename": "x-1.whl", "url": "../../files/x-1.whl#sha256=ab"}]}).encode()
    assert wheels.file_urls(page, "application/vnd.pypi.simple.v1+json", "https://idx/simple/x/") == {
        "x-1.whl": "https://idx/files/x-1.whl#sha256=ab"}
    html = b'<a href="/f/x%2B1.whl#sha256=cd">x+1.whl</a>'
    assert wheels.file_urls(html, "text/html", "https://idx/simple/x/") == {"x+1.whl": "https://idx/f/x%2B1.whl#sha256=cd"}


def test_transient_failures_are_tried_again_and_answers_are_not():
    import urllib.error

    from toolkit.bundle import wheels

    waits: list[float] = []
    calls = {"n": 0}

    def flaky():
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionResetError("reset by peer")
        return "ok"

    assert wheels.retrying(flaky, sleep=waits.append) == "ok" and waits == [1, 2]

    def gone():
        raise urllib.error.HTTPError("https://x/y.whl", 404, "Not Found", {}, None)

    waits.clear()
    with pytest.raises(urllib.error.HTTPError):
        wheels.retrying(gone, sleep=waits.append)
    assert waits == []                                  # the index's own answer: not retried

    def busy():
        raise urllib.error.HTTPError("https://x/y.whl", 503, "Busy", {}, None)

    with pytest.raises(urllib.error.HTTPError):
        wheels.retrying(busy, sleep=waits.append)
    assert waits == [1, 2, 4]                           # 4 attempts, then the last error
