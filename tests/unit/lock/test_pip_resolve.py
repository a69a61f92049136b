"""toolkit.lock.pip_resolve against real uv and a real PEP 503 index on 127.0.0.1."""

from __future__ import annotations

import hashlib
import sys

import pytest

from tests.indexserver import make_wheel, serve_index
from toolkit.lock.model import LockError, PipRequest, PipTarget
from toolkit.lock.pip_resolve import explanation, resolve, uv_environment

DEBIAN12 = PipTarget("3.11", "x86_64-manylinux_2_36")


def pins(packages):
    return {p.name: p.version for p in packages}


def by_step(packages):
    out: dict[str, set[str]] = {}
    for p in packages:
        out.setdefault(p.step, set()).add(p.name)
    return out


def test_each_package_goes_to_the_first_step_whose_closure_needs_it(index, uv_env):
    index.add("testpkg", "1.0", requires=["testdep>=1"])
    index.add("testdep", "1.0")
    index.add("leaf", "1.0")
    index.add("app", "2.0", requires=["testpkg", "leaf"])
    steps = [PipRequest("packages: base", ("testpkg",), index_url=index.url),
             PipRequest("packages: pip", ("app", "testdep"), index_url=index.url)]
    locked = resolve(steps, DEBIAN12, env=uv_env)
    assert by_step(locked) == {"packages: base": {"testpkg", "testdep"}, "packages: pip": {"app", "leaf"}}
    assert [p.step for p in locked] == ["packages: base"] * 2 + ["packages: pip"] * 2   # step order, then name
    assert [p.name for p in locked] == ["testdep", "testpkg", "app", "leaf"]


def test_every_package_has_the_sha256_of_the_file_the_index_serves(index, uv_env):
    wheels = {"testpkg": index.add("testpkg", "1.0", requires=["testdep"]), "testdep": index.add("testdep", "1.0")}
    locked = resolve([PipRequest("s", ("testpkg",), index_url=index.url)], DEBIAN12, env=uv_env)
    for p in locked:
        wheel = wheels[p.name]
        assert p.hashes == (f"sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}",)
        assert p.files == (wheel.name,)
        assert p.index == index.url


def test_an_index_without_hashes_gets_them_computed_from_the_download(tmp_path, uv_env):
    with serve_index(tmp_path / "nohash", hashes=False) as index:
        wheel = index.add("torchy", "1.0")
        page = index.page("torchy") or b""
        assert b"sha256" not in page
        (p,) = resolve([PipRequest("pytorch: torch", ("torchy",), index_url=index.url)], DEBIAN12, env=uv_env)
    assert p.hashes == (f"sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}",)


def test_markers_are_evaluated_for_the_target_not_this_machine(index, uv_env):
    index.add("testpkg", "1.0", requires=['winonly; sys_platform == "win32"', 'backport; python_version < "3.12"'])
    for name in ("winonly", "backport"):
        index.add(name, "1.0")
    step = [PipRequest("s", ("testpkg",), index_url=index.url)]
    assert set(pins(resolve(step, PipTarget("3.11", "x86_64-manylinux_2_36"), env=uv_env))) == {"testpkg", "backport"}
    assert set(pins(resolve(step, PipTarget("3.12", "x86_64-manylinux_2_39"), env=uv_env))) == {"testpkg"}
    assert set(pins(resolve(step, PipTarget("3.12", "x86_64-pc-windows-msvc"), env=uv_env))) == {"testpkg", "winonly"}
    here = sys.version_info[:2]
    other = "3.12" if here < (3, 12) else "3.11"   # resolving for another Python than the controller's
    expected = {"testpkg", "backport"} if other == "3.11" else {"testpkg"}
    assert set(pins(resolve(step, PipTarget(other, "x86_64-manylinux_2_36"), env=uv_env))) == expected


def test_only_the_targets_wheels_are_hashed_and_its_glibc_is_respected(index, uv_env):
    files = {}
    for tag in ("cp311-cp311-manylinux_2_28_x86_64", "cp311-cp311-manylinux_2_28_aarch64", "cp311-cp311-win_amd64",
                "cp312-cp312-manylinux_2_28_x86_64"):
        files[tag] = index.add("native", "1.0", tag=tag)
    index.add("newglibc", "1.0", tag="cp311-cp311-manylinux_2_39_x86_64")
    (native,) = resolve([PipRequest("s", ("native",), index_url=index.url)], DEBIAN12, env=uv_env)
    wheel = files["cp311-cp311-manylinux_2_28_x86_64"]
    assert native.files == (wheel.name,)
    assert native.hashes == (f"sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}",)
    (arm,) = resolve([PipRequest("s", ("native",), index_url=index.url)], PipTarget("3.11", "aarch64-manylinux_2_36"),
                     env=uv_env)
    assert arm.files == (files["cp311-cp311-manylinux_2_28_aarch64"].name,)
    # a wheel for glibc 2.39: Ubuntu 24.04 runs it, Debian 12 (glibc 2.36) does not
    step = [PipRequest("s", ("newglibc",), index_url=index.url)]
    assert pins(resolve(step, PipTarget("3.11", "x86_64-manylinux_2_39"), env=uv_env)) == {"newglibc": "1.0"}
    with pytest.raises(LockError, match="newglibc"):
        resolve(step, DEBIAN12, env=uv_env)


def test_previous_pins_are_kept_until_an_upgrade_is_asked_for(index, uv_env):
    index.add("testpkg", "1.0", requires=["testdep"])
    index.add("testdep", "1.0")
    step = [PipRequest("packages: pip", ("testpkg",), index_url=index.url)]
    first = resolve(step, DEBIAN12, env=uv_env)
    assert pins(first) == {"testpkg": "1.0", "testdep": "1.0"}
    index.add("testpkg", "1.1", requires=["testdep"])     # a month later
    index.add("testdep", "1.1")
    assert pins(resolve(step, DEBIAN12, previous=first, env=uv_env)) == {"testpkg": "1.0", "testdep": "1.0"}
    assert pins(resolve(step, DEBIAN12, previous=first, upgrade_packages=["testpkg"], env=uv_env)) == {
        "testpkg": "1.1", "testdep": "1.0"}
    assert pins(resolve(step, DEBIAN12, previous=first, upgrade=True, env=uv_env)) == {"testpkg": "1.1", "testdep": "1.1"}
    assert pins(resolve(step, DEBIAN12, env=uv_env)) == {"testpkg": "1.1", "testdep": "1.1"}   # no lock yet


def test_a_step_index_is_searched_before_the_default_and_find_links_are_named(tmp_path, index, uv_env):
    """PyTorch's case: the torch step has its own index_url, the others use the default one."""
    index.add("torchy", "9.0")              # the default index also has a torchy, a newer one
    index.add("numpyish", "1.0")
    wheelhouse = tmp_path / "wheelhouse"
    make_wheel(wheelhouse, "localpkg", "2.0")
    with serve_index(tmp_path / "torch-index") as torch_index:
        torch_index.add("torchy", "1.0", requires=["numpyish"])
        steps = [PipRequest("pytorch: torch", ("torchy",), index_url=torch_index.url),
                 PipRequest("packages: base", ("numpyish",), index_url=index.url),
                 PipRequest("packages: pip", ("localpkg",), index_url=index.url, find_links=str(wheelhouse))]
        locked = {p.name: p for p in resolve(steps, DEBIAN12, env=uv_env)}
    assert (locked["torchy"].version, locked["torchy"].index) == ("1.0", torch_index.url)
    assert (locked["numpyish"].index, locked["numpyish"].step) == (index.url, "pytorch: torch")
    assert locked["localpkg"].index == f"find-links:{wheelhouse}"


def test_no_index_resolves_from_the_wheelhouse_alone(tmp_path, index, uv_env, monkeypatch):
    index.add("localpkg", "3.0")
    make_wheel(tmp_path / "wheelhouse", "localpkg", "2.0")
    monkeypatch.chdir(tmp_path)             # a folder relative to where toolkit runs
    step = [PipRequest("s", ("localpkg",), index_url=index.url, find_links="wheelhouse", no_index=True)]
    (p,) = resolve(step, DEBIAN12, env=uv_env)
    assert (p.version, p.index) == ("2.0", "find-links:wheelhouse")


def test_each_venv_is_resolved_on_its_own(index, uv_env):
    index.add("tool", "1.0")
    index.add("tool", "2.0")
    steps = [PipRequest("python: uv", ("tool<2",), index_url=index.url, venv="/opt/toolkit/bootstrap"),
             PipRequest("packages: pip", ("tool",), index_url=index.url, venv="/opt/venv")]
    locked = resolve(steps, DEBIAN12, env=uv_env)
    assert [(p.step, p.version) for p in locked] == [("python: uv", "1.0"), ("packages: pip", "2.0")]


def test_conflicts_are_a_lock_error_naming_the_steps(index, uv_env):
    index.add("testpkg", "1.0")
    index.add("testpkg", "2.0")
    steps = [PipRequest("packages: base", ("testpkg<2",), index_url=index.url),
             PipRequest("packages: pip", ("testpkg>=2",), index_url=index.url)]
    with pytest.raises(LockError) as err:
        resolve(steps, DEBIAN12, env=uv_env)
    assert "Python 3.11 on x86_64-manylinux_2_36" in err.value.message
    assert "testpkg" in err.value.message and "step-0" not in err.value.message
    assert "loosen" in (err.value.hint or "")


def test_an_unreachable_index_is_a_lock_error_with_a_hint(tmp_path, uv_env):
    with serve_index(tmp_path / "gone") as gone:
        gone.add("testpkg", "1.0")
    with pytest.raises(LockError) as err:      # the server has stopped: nothing listens on its port
        resolve([PipRequest("s", ("testpkg",), index_url=gone.url)], DEBIAN12, env=uv_env)
    assert gone.url in err.value.message
    assert "could not be reached" in (err.value.hint or "")


def test_credentials_never_reach_the_lock_or_an_error(tmp_path, uv_env):
    secret = "S3cr3t@pass:w0rd"
    with serve_index(tmp_path / "private", auth=("alice", secret)) as index:
        index.add("testpkg", "1.0")
        (p,) = resolve([PipRequest("s", ("testpkg",), index_url=f"http://alice:{secret}@127.0.0.1:{index.port}/simple")],
                       DEBIAN12, env=uv_env)
        assert p.index == index.url
        netrc = tmp_path / "netrc"
        netrc.write_text(f"machine 127.0.0.1 login alice password {secret}\n")
        (p,) = resolve([PipRequest("s", ("testpkg",), index_url=index.url)], DEBIAN12,
                       env={**uv_env, "NETRC": str(netrc)})
        assert p.version == "1.0" and index.counts.refused >= 1
        wrong = "Wr0ng-pass-xyz"
        with pytest.raises(LockError) as err:
            resolve([PipRequest("s", ("testpkg",), index_url=f"http://alice:{wrong}@127.0.0.1:{index.port}/simple")],
                    DEBIAN12, env=uv_env)
    shown = f"{err.value.message}\n{err.value.hint}"
    assert "testpkg" in shown and wrong not in shown and secret not in shown


def test_the_callers_uv_settings_do_not_change_the_resolution(tmp_path, index, uv_env):
    index.add("testpkg", "1.0")
    with serve_index(tmp_path / "other") as other:
        other.add("testpkg", "9.0")
        env = {**uv_env, "UV_INDEX_URL": other.url, "UV_EXTRA_INDEX_URL": other.url, "UV_INDEX": other.url,
               "UV_INDEX_STRATEGY": "unsafe-best-match"}
        (p,) = resolve([PipRequest("s", ("testpkg",), index_url=index.url)], DEBIAN12, env=env)
    assert (p.version, p.index) == ("1.0", index.url)
    clean = uv_environment({"UV_INDEX_URL": "x", "UV_CACHE_DIR": "/c", "HTTPS_PROXY": "http://p:3128"})
    assert clean == {"UV_CACHE_DIR": "/c", "HTTPS_PROXY": "http://p:3128", "UV_SYSTEM_CERTS": "1"}


@pytest.mark.parametrize("requirement", ["-r /etc/passwd", "--index-url=http://evil/simple", "pkg @ https://h/p.whl",
                                         "pkg==${HOME}", "pkg\n-e .", "not a requirement", ""])
def test_what_is_not_a_plain_requirement_is_refused(requirement, index, uv_env):
    with pytest.raises(LockError, match="packages: pip"):
        resolve([PipRequest("packages: pip", (requirement,), index_url=index.url)], DEBIAN12, env=uv_env)


def test_progress_reports_what_is_resolved(index, uv_env):
    index.add("testpkg", "1.0")
    said: list[str] = []
    resolve([PipRequest("s", ("testpkg",), index_url=index.url)], DEBIAN12, env=uv_env, progress=said.append)
    assert said[0].startswith("pip: resolving 1 requirements of 1 steps for Python 3.11 on x86_64-manylinux_2_36")
    assert said[-1] == "pip: 1 packages pinned, 1 artifacts hashed"


def test_explanations_are_trimmed_masked_and_name_steps():
    text = explanation("warning: something deprecated\nerror: Failed to fetch http://u:pw@h/simple/x/\x1b[31m\n"
                       "  cause: Because you require x (from -r step-02.in)\n" + "more\n" * 2000,
                       {"step-02.in": "packages: pip"})
    assert "deprecated" not in text and "pw" not in text and "\x1b" not in text
    assert "step 'packages: pip'" in text and text.endswith("...")


def test_no_interpreter_is_looked_for_or_downloaded_for_the_target_version(tmp_path, index, uv_env):
    index.add("testpkg", "1.0")
    pythons = tmp_path / "uv-pythons"
    env = {**uv_env, "UV_PYTHON_INSTALL_DIR": str(pythons), "UV_PYTHON_DOWNLOADS": "automatic"}
    (p,) = resolve([PipRequest("s", ("testpkg",), index_url=index.url)], PipTarget("3.9", "x86_64-manylinux_2_31"),
                   env=env)
    assert p.version == "1.0"
    assert not pythons.exists() or not any(pythons.iterdir())
