"""Hostile cases for check kinds: names that look like options or shell, families toolkit cannot
query, kinds it never declared, and suites written by an older toolkit."""

from __future__ import annotations

import shutil

import pytest

from toolkit.model.checks import check, from_dict
from toolkit.verify import facts, probe
from toolkit.verify.evaluate import FAILED, PASSED, evaluate

HOSTILE_NAMES = ["--help", "-W", "$(touch pwned)", "a;touch pwned", "`id`", "git\nbash", "*"]


@pytest.mark.skipif(not shutil.which("dpkg-query"), reason="needs dpkg-query (a Debian/Ubuntu machine)")
@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_package_names_never_reach_a_shell_or_an_option(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    got = probe.dpkg([name])
    assert got == {name: None}                      # not installed, not an option, not a glob match
    assert not (tmp_path / "pwned").exists()
    result = evaluate(check("os_package", "os", "x", name=name, family="debian"), {"dpkg": got, "gpu": {}})
    assert result.status == FAILED and "not installed" in result.found


@pytest.mark.parametrize("family", ["arch", "", "../debian", "Debian", "RHEL", None])
def test_a_family_toolkit_cannot_query_is_a_failed_check_never_a_crash(family):
    c = check("os_package", "os", "x", name="git", family=family)
    assert facts.request_for([c]) == {}
    result = evaluate(c, {"dpkg": {"git": {"status": "ii ", "version": "1"}}, "gpu": {}})
    assert result.status == FAILED and "cannot query OS family" in result.found and result.hint


@pytest.mark.parametrize("kind", ["apt", "os_packages", "OS_PACKAGE", "", "__class__", "os_release "])
def test_a_kind_never_declared_is_refused_by_name(kind):
    data = {"id": "x", "kind": kind, "component": "os", "tier": "cpu", "description": "x", "params": {}}
    with pytest.raises(ValueError, match="unknown check kind"):
        from_dict(data)


def test_an_old_suite_keeps_an_explicit_family_and_still_needs_its_name():
    old = {"id": "apt_package:git", "kind": "apt_package", "component": "os", "tier": "cpu", "description": "x"}
    assert from_dict(dict(old, params={"name": "git", "family": "rhel"})).p["family"] == "rhel"
    with pytest.raises(ValueError, match="missing params"):
        from_dict(dict(old, params={}))
    ok = from_dict(dict(old, params={"name": "git"}))
    assert evaluate(ok, {"dpkg": {"git": {"status": "ii ", "version": "1"}}, "gpu": {}}).status == PASSED
