"""`toolkit build --engine podman` and `verify --target podman-image://` with Debian's real Podman, on the
local Debian 12 base trusting the host CA: a profile builds, verifies green, and a one-package change
rebuilds from the cache like Docker's (docs/benchmarks.md has the ratio, bench/podman_cache.py).

In CI: the bundled datascience-cpu (JupyterLab, NumPy, Pandas: about 2.5 minutes cold plus verify on the
2-core CI machine), as issue 18 asks. A small profile (Debian packages, Git, the user, a venv; about a
minute cold) is the same test marked slow (--run-slow). scripts/ensure-podman.sh installs podman, copies the base image
into its store and writes this machine's container limits (.tools/podman/containers.conf). A skip where
podman cannot run, a failure under CI=true."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from . import images
from .harness import REPO_ROOT, skip_or_fail

CONF = REPO_ROOT / ".tools" / "podman" / "containers.conf"
NO_SUCH_PACKAGE = "toolkit-no-such-package-xyz==1.0"
TAG = "toolkit-test/podman-datascience:latest"
SUMMARY = re.compile(r"^built (\S+) \(image [0-9a-f]{12}, .*\) in .* with Podman; cached (\d+)/(\d+) steps$", re.M)

pytestmark = pytest.mark.docker       # the base image comes from the Docker engine


def podman(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, env=_env())


def _env() -> dict:
    env = dict(os.environ, NO_COLOR="1")
    if CONF.is_file():
        env.setdefault("CONTAINERS_CONF", str(CONF))
    return env


def toolkit(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, cwd=REPO_ROOT,
                          env=_env(), timeout=timeout)


@pytest.fixture(scope="session")
def podman_ready(base_image) -> str:
    if shutil.which("podman") is None or not CONF.is_file():
        skip_or_fail("podman is not set up here: run scripts/ensure-podman.sh")
    res = podman("image", "exists", base_image)
    if res.returncode != 0:
        skip_or_fail(f"{base_image} is not in Podman's store: run scripts/ensure-podman.sh")
    return base_image


def build(profile: Path, tag: str) -> str:
    res = toolkit("build", str(profile), "--engine", "podman", "-t", tag)
    if res.returncode != 0:
        pytest.fail(f"podman build failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}", pytrace=False)
    return res.stdout


def small_profile(work: Path, base: str, ca: Path | None, **overrides) -> Path:
    return images.child_profile(work, "podman-small", None, base, ca, os={"distro": "debian", "version": "12"},
                                **overrides)


def datascience_profile(work: Path, base: str, ca: Path | None, **overrides) -> Path:
    return images.datascience_profile(work, base, ca, name="podman-datascience", **overrides)


PROFILES = [
    pytest.param(small_profile, "toolkit-test/podman-small:latest", id="small", marks=pytest.mark.slow),
    pytest.param(datascience_profile, "toolkit-test/podman-datascience:latest", id="datascience-cpu"),
]


@pytest.mark.parametrize("make, tag", PROFILES)
def test_builds_with_podman_verifies_green_and_a_one_package_rebuild_reuses_the_cache(
        make, tag, podman_ready, host_ca_bundle, tmp_path):
    profile = make(tmp_path / "a", podman_ready, host_ca_bundle)
    name = profile.stem
    output = build(profile, tag)
    assert re.search(rf"^building \S+ from profile {name} with Podman \d", output, re.M), output[:500]
    m = SUMMARY.search(output)
    assert m and m.group(1) == tag, output[-2000:]
    assert f"--target podman-image://{tag}" in output          # the next step it prints
    inspect = podman("image", "inspect", "--format",
                     "{{.Config.User}} {{index .Config.Labels \"org.opencontainers.image.title\"}}", tag)
    assert inspect.stdout.split() == ["1000:1000", name]
    res = toolkit("verify", str(profile), "--target", f"podman-image://{tag}", timeout=600)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    left = podman("ps", "-a", "--filter", "label=dev.toolkit.verify=1", "--format", "{{.Names}}")
    assert left.stdout.strip() == ""                           # verify removed the container it started

    # One more pip package, with a clause new to every session (no old cache answers the pip step).
    six = f"six!=0.0.{uuid.uuid4().int % 10**9}"
    changed = make(tmp_path / "b", podman_ready, host_ca_bundle, packages={"pip": [six]})
    tag_b = f"{tag.rpartition(':')[0]}:six-{uuid.uuid4().hex[:8]}"
    try:
        output = build(changed, tag_b)
        assert SUMMARY.search(output), output[-2000:]
        started = {n: text for n, text in re.findall(r"^\[(\d+)/\d+\] (.*)$", output, re.M)
                   if text != "cached" and not text.startswith(("done in ", "FAILED"))}
        cached = set(re.findall(r"^\[(\d+)/\d+\] cached$", output, re.M))
        ran = set(re.findall(r"^\[(\d+)/\d+\] done in ", output, re.M))
        pip = next(int(n) for n, text in started.items() if "six" in text)
        # every RUN and COPY before it (a USER switch may be new right before the pip step: Buildah counts
        # such instructions as steps, BuildKit does not)
        earlier = {n for n, text in started.items() if int(n) < pip and text.startswith(("RUN", "COPY"))}
        assert earlier and earlier <= cached, (sorted(earlier - cached, key=int), output[-3000:])
        assert str(pip) in ran and str(pip) not in cached
    finally:
        podman("rmi", tag_b)


def test_failing_step_is_named_and_leaves_no_container(podman_ready, host_ca_bundle, tmp_path):
    """A pip package that does not exist: exit 1 naming the step and its last lines; no Buildah working
    container is left behind (--force-rm), and no image is tagged."""
    def external() -> set[str]:
        return set(podman("ps", "-a", "--external", "--format", "{{.ID}}").stdout.split())

    before = external()
    profile = small_profile(tmp_path, podman_ready, host_ca_bundle, packages={"pip": [NO_SUCH_PACKAGE]})
    tag = f"toolkit-test/podman-small:fail-{uuid.uuid4().hex[:8]}"
    res = toolkit("build", str(profile), "--engine", "podman", "-t", tag)
    assert res.returncode == 1, res.stdout[-2000:] + res.stderr[-2000:]
    assert f"building {tag} with Podman failed at step" in res.stderr and "pip install" in res.stderr
    assert NO_SUCH_PACKAGE.split("==")[0] in res.stderr and "Traceback" not in res.stderr
    assert external() <= before
    assert podman("image", "exists", tag).returncode != 0


def test_verify_names_a_missing_podman_image():
    res = toolkit("verify", "datascience-cpu", "--target", "podman-image://toolkit-test/no-such-image:1")
    assert res.returncode == 2, res.stdout + res.stderr
    assert "image toolkit-test/no-such-image:1 not found" in res.stderr and "Traceback" not in res.stderr
