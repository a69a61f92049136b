"""Locking OS packages against the real archive (toolkit/lock/apt_resolve.py, base_image.py): a real engine,
the local Debian 12 base image and deb.debian.org over http. Previous pins are tested against a flat apt
repository written into the resolver's container (two versions of one package; a simulation needs only its
Packages index), so "the archive moved on" is under the test's control."""

from __future__ import annotations

import platform
import subprocess

import pytest

from toolkit.lock import apt_resolve
from toolkit.lock.base_image import base_image as lock_base_image
from toolkit.lock.container import LABEL
from toolkit.lock.model import AptRequest, LockError, OsPackage
from toolkit.model.osfamily import DEBIAN

from . import credservers, harness

pytestmark = pytest.mark.docker

LABELS = {harness.TEST_LABEL: "1"}
PROBE = "toolkit-lock-probe"
PROBE_PACKAGES = f"""\
Package: {PROBE}
Version: 1.0
Architecture: all
Depends: git
Filename: ./{PROBE}_1.0_all.deb
Size: 1000
Description: a package the test archive has in two versions

Package: {PROBE}
Version: 1.1
Architecture: all
Depends: git, less
Filename: ./{PROBE}_1.1_all.deb
Size: 1000
Description: a package the test archive has in two versions
"""
# Beside the image's own sources: a flat repository in the container (apt trusts it without a key).
PROBE_SOURCES = ((("/etc/apt/sources.list.d/toolkit-lock-probe.list", "deb [trusted=yes] file:/srv/toolkit-lock-probe ./\n"),
                  ("/srv/toolkit-lock-probe/Packages", PROBE_PACKAGES)), ())
PYTHON_GIT = [AptRequest("os: OS packages", ("python3-venv",)), AptRequest("git: Git", ("git",))]


def lock_containers(client) -> list:
    return client.containers.list(all=True, filters={"label": f"{LABEL}=1"})


@pytest.fixture
def image(docker_engine, base_image):
    before = {c.id for c in lock_containers(docker_engine)}
    yield lock_base_image(docker_engine, base_image)
    left = [c.name for c in lock_containers(docker_engine) if c.id not in before]
    assert not left, f"resolver containers left behind: {left}"


def by_name(resolution) -> dict[str, OsPackage]:
    return {p.name: p for p in resolution.packages}


def test_two_steps_each_package_in_the_first_step_that_pulls_it(docker_engine, image):
    said: list[str] = []
    res = apt_resolve.resolve(docker_engine, image, PYTHON_GIT, labels=LABELS, progress=said.append)
    got = by_name(res)
    assert res.release == "debian 12 (bookworm)"
    assert res.arch == {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), res.arch) and res.arch
    for name in ("python3-venv", "python3.11", "libpython3.11-stdlib"):
        assert got[name].step == "os: OS packages", got[name]
    for name in ("git", "git-man", "perl", "libcurl3-gnutls"):
        assert got[name].step == "git: Git", got[name]
    # git needs libexpat1 and libssl3 (through libcurl) too, but Python's step already pulls them in
    assert got["libexpat1"].step == got["libssl3"].step == "os: OS packages"
    steps = [p.step for p in res.packages]
    assert steps == sorted(steps, key=["os: OS packages", "git: Git"].index)
    assert all(p.version and p.arch in ("all", res.arch) for p in res.packages)
    assert any("apt-get update" in s for s in said) and any("git: Git" in s for s in said)
    python = apt_resolve.interpreter(res, "3.11")
    assert python and python.version.startswith("3.11.") and got["python3.11"].version in python.source


def test_an_unknown_package_is_named(docker_engine, image):
    with pytest.raises(LockError) as caught:
        apt_resolve.resolve(docker_engine, image, [AptRequest("os: OS packages", ("git", "no-such-toolkit-pkg"))],
                            labels=LABELS)
    assert "Unable to locate package no-such-toolkit-pkg" in caught.value.message
    assert "os: OS packages" in caught.value.message and caught.value.hint


def test_a_package_name_never_reaches_a_shell(docker_engine, image):
    """The profile's pattern refuses such names; the resolver hands apt argv anyway, so apt sees the text."""
    hostile = "x$(touch${IFS}/tmp/pwned);touch /tmp/pwned2"
    with pytest.raises(LockError) as caught:
        apt_resolve.resolve(docker_engine, image, [AptRequest("os: OS packages", (hostile,))], labels=LABELS)
    assert "x$(touch${IFS}/tmp/pwned)" in caught.value.message


def test_previous_pins_are_kept_until_upgraded(docker_engine, image):
    requests = [AptRequest("tools: probe", (PROBE,))]

    def lock(**kw):
        return by_name(apt_resolve.resolve(docker_engine, image, requests, mirror_sources=PROBE_SOURCES,
                                           labels=LABELS, **kw))

    fresh = lock()
    assert fresh[PROBE].version == "1.1" and "less" in fresh
    previous = [OsPackage(PROBE, "1.0", "all", "tools: probe"), OsPackage("gone-from-the-plan", "9", "all", "x")]
    kept = lock(previous=previous)
    assert kept[PROBE].version == "1.0"
    assert "less" not in kept and "git" in kept           # 1.0's own dependencies, not 1.1's
    assert "gone-from-the-plan" not in kept               # a pin installs nothing by itself
    assert lock(previous=previous, upgrade_packages=[PROBE])[PROBE].version == "1.1"
    assert lock(previous=previous, upgrade=True)[PROBE].version == "1.1"
    explicit = [AptRequest("tools: probe", (f"{PROBE}=1.1",))]
    assert by_name(apt_resolve.resolve(docker_engine, image, explicit, previous=previous, mirror_sources=PROBE_SOURCES,
                                       labels=LABELS))[PROBE].version == "1.1"


def test_a_pin_the_archive_no_longer_has_is_refused(docker_engine, image):
    previous = [OsPackage(PROBE, "0.9", "all", "tools: probe")]
    with pytest.raises(LockError) as caught:
        apt_resolve.resolve(docker_engine, image, [AptRequest("tools: probe", (PROBE,))], previous=previous,
                            mirror_sources=PROBE_SOURCES, labels=LABELS)
    assert f"{PROBE} 0.9 (the archive has 1.1, 1.0)" in caught.value.message
    assert f"--upgrade-package {PROBE}" in (caught.value.hint or "") and "snapshot.debian.org" in (caught.value.hint or "")


def test_the_family_mirror_files_are_used(docker_engine, image):
    sources = DEBIAN.mirror_files("debian", "12", "http://deb.debian.org/debian")
    res = apt_resolve.resolve(docker_engine, image, [AptRequest("git: Git", ("git",))], mirror_sources=sources,
                              labels=LABELS)
    assert by_name(res)["git"].step == "git: Git"
    broken = DEBIAN.mirror_files("debian", "12", "http://127.0.0.1:9/debian")
    with pytest.raises(LockError) as caught:
        apt_resolve.resolve(docker_engine, image, [AptRequest("git: Git", ("git",))], mirror_sources=broken, labels=LABELS)
    assert "127.0.0.1:9" in caught.value.message and "refresh the package lists" in caught.value.message


def test_an_https_mirror_needs_the_ca_given(docker_engine, image, host_ca_bundle):
    sources = DEBIAN.mirror_files("debian", "12", "https://deb.debian.org/debian")
    request = [AptRequest("git: Git", ("git",))]
    with pytest.raises(LockError) as caught:
        apt_resolve.resolve(docker_engine, image, request, mirror_sources=sources, labels=LABELS)
    assert "certificate" in caught.value.message.lower()
    if host_ca_bundle is None:
        pytest.skip("no host CA bundle to hand the resolver")
    res = apt_resolve.resolve(docker_engine, image, request, mirror_sources=sources, labels=LABELS,
                              ca_pem=host_ca_bundle.read_text())
    assert "git" in by_name(res)


def test_the_proxy_of_env_reaches_apt_and_its_password_no_message(docker_engine, image):
    """A proxy on the controller's 127.0.0.1 that demands credentials: apt goes through it (network host);
    with a wrong password the error names the proxy's refusal but never the password."""
    request = [AptRequest("git: Git", ("git",))]
    with credservers.auth_proxy("lockuser", "proxy-pw-right") as (port, counts):
        env = {"http_proxy": f"http://lockuser:proxy-pw-right@127.0.0.1:{port}", "PATH": "/nowhere"}
        res = apt_resolve.resolve(docker_engine, image, request, env=env, network="host", labels=LABELS)
        assert "git" in by_name(res) and counts.allowed > 0 and counts.refused == 0
        with pytest.raises(LockError) as caught:
            apt_resolve.resolve(docker_engine, image, request, network="host", labels=LABELS,
                                env={"HTTP_PROXY": f"http://lockuser:proxy-pw-wrong@127.0.0.1:{port}"})
        assert counts.refused > 0
    text = f"{caught.value.message} {caught.value.hint}"
    assert "407" in text and "proxy-pw-wrong" not in text and "lockuser" not in text


def test_ctrl_c_removes_the_container(docker_engine, image):
    def interrupt(_message: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        apt_resolve.resolve(docker_engine, image, PYTHON_GIT, labels=LABELS, progress=interrupt)
    # the `image` fixture asserts that no resolver container is left


def test_base_image_of_a_local_image_is_its_id(docker_engine, base_image):
    got = lock_base_image(docker_engine, base_image)
    inspected = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", base_image],
                               capture_output=True, text=True, check=True).stdout.strip()
    assert (got.kind, got.digest, got.pinned) == ("image-id", inspected, base_image)
    with pytest.raises(LockError) as caught:
        lock_base_image(docker_engine, "local/toolkit-no-such-image:1")
    assert "docker pull local/toolkit-no-such-image:1" in (caught.value.hint or "")
    assert "--base-image" in (caught.value.hint or "")


def test_a_locked_install_installs_exactly_the_locked_versions(docker_engine, image):
    """apt-get install name=version, step by step, of the locked set in a fresh container of the same image:
    every locked package at its version, and nothing else new or changed."""
    res = apt_resolve.resolve(docker_engine, image, PYTHON_GIT, labels=LABELS)
    container = docker_engine.containers.run(image.digest, ["infinity"], entrypoint=["sleep"], detach=True,
                                             labels=LABELS)
    env = dict(DEBIAN.environment)
    try:
        def run(argv):
            rc, out = container.exec_run(argv, environment=env)
            assert rc == 0, out.decode(errors="replace")[-3000:]
            return out.decode()

        query = ["dpkg-query", "-W", "-f", "${Package} ${Version}\n"]
        before = set(run(query).splitlines())
        run(list(DEBIAN.update_lists))
        for step in dict.fromkeys(p.step for p in res.packages):
            run([*DEBIAN.install, *apt_resolve.pinned([p for p in res.packages if p.step == step])])
        changed = set(run(query).splitlines()) - before
    finally:
        harness.remove_container(container)
    assert changed == {f"{p.name} {p.version}" for p in res.packages}
