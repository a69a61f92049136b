"""`toolkit build --engine podman` and `verify --target podman-image://` with Debian's real Podman:
the datascience-cpu profile (on the local Debian 12 base, trusting the host CA) builds, verifies green,
and a one-package change rebuilds from the cache like Docker's (docs/benchmarks.md has the ratio,
bench/podman_cache.py). scripts/ensure-podman.sh installs podman, copies the base image into its store and
writes this machine's container limits (.tools/podman/containers.conf). A skip where podman cannot run,
a failure under CI=true."""

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


@pytest.fixture(scope="session")
def podman_datascience(podman_ready, host_ca_bundle, tmp_path_factory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("podman-ds")
    profile = images.datascience_profile(work, podman_ready, host_ca_bundle, name="podman-datascience")
    res = toolkit("build", str(profile), "--engine", "podman", "-t", TAG)
    if res.returncode != 0:
        pytest.fail(f"podman build failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}", pytrace=False)
    return profile, res.stdout


def test_datascience_builds_with_podman_and_verifies_green(podman_datascience):
    profile, output = podman_datascience
    assert re.search(r"^building \S+ from profile podman-datascience with Podman \d", output, re.M), output[:500]
    m = SUMMARY.search(output)
    assert m and m.group(1) == TAG, output[-2000:]
    assert f"--target podman-image://{TAG}" in output          # the next step it prints
    inspect = podman("image", "inspect", "--format", "{{.Config.User}} {{index .Config.Labels \"org.opencontainers.image.title\"}}", TAG)
    assert inspect.stdout.split() == ["1000:1000", "podman-datascience"]
    res = toolkit("verify", str(profile), "--target", f"podman-image://{TAG}", timeout=600)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    # verify removed the container it started
    left = podman("ps", "-a", "--filter", "label=dev.toolkit.verify=1", "--format", "{{.Names}}")
    assert left.stdout.strip() == ""


def test_one_package_rebuild_reuses_the_cache(podman_datascience, podman_ready, host_ca_bundle, tmp_path):
    six = f"six!=0.0.{uuid.uuid4().int % 10**9}"      # new to every session: no old cache answers the pip step
    profile = images.datascience_profile(tmp_path, podman_ready, host_ca_bundle, name="podman-datascience",
                                         packages={"pip": [six]})
    tag = f"toolkit-test/podman-datascience:six-{uuid.uuid4().hex[:8]}"
    res = toolkit("build", str(profile), "--engine", "podman", "-t", tag)
    try:
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        assert SUMMARY.search(res.stdout), res.stdout[-2000:]
        started = {n: text for n, text in re.findall(r"^\[(\d+)/\d+\] (.*)$", res.stdout, re.M)
                   if text != "cached" and not text.startswith(("done in ", "FAILED"))}
        cached = set(re.findall(r"^\[(\d+)/\d+\] cached$", res.stdout, re.M))
        ran = set(re.findall(r"^\[(\d+)/\d+\] done in ", res.stdout, re.M))
        pip = next(int(n) for n, text in started.items() if "six" in text)
        earlier = {n for n in started if 1 < int(n) < pip}             # step 1 is FROM
        assert earlier and earlier <= cached, (sorted(earlier - cached, key=int), res.stdout[-3000:])
        assert str(pip) in ran and str(pip) not in cached
    finally:
        podman("rmi", tag)


def test_verify_names_a_missing_podman_image():
    res = toolkit("verify", "datascience-cpu", "--target", "podman-image://toolkit-test/no-such-image:1")
    assert res.returncode == 2, res.stdout + res.stderr
    assert "image toolkit-test/no-such-image:1 not found" in res.stderr and "Traceback" not in res.stderr
