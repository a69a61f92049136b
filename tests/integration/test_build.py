"""`toolkit build` on a real Docker engine: the datascience-cpu image, the layer cache, failures.

Images are shared between tests (session fixtures, reused across sessions by content); the
BuildKit layer cache makes each rebuild here cost only its changed steps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from . import images
from .harness import REPO_ROOT

NO_SUCH_PACKAGE = "toolkit-no-such-package-xyz==1.0"


def toolkit(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, NO_COLOR="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, env=full_env, timeout=timeout)


def remove_image(client, tag: str) -> None:
    from docker.errors import ImageNotFound

    try:
        client.images.remove(tag, force=True)
    except ImageNotFound:
        pass


def test_no_engine_says_how_to_start_one(tmp_path):
    result = toolkit("build", "datascience-cpu", "-t", "toolkit-test/none:1",
                     env={"DOCKER_HOST": "unix:///nonexistent.sock"}, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "cannot reach a Docker engine at unix:///nonexistent.sock" in result.stderr
    assert "sudo systemctl start docker" in result.stderr and "ensure-docker.sh" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_build_arg_is_a_usage_error():
    result = toolkit("build", "datascience-cpu", "-t", "x:1", "--build-arg", "1BAD=http://u:S3cret@h", timeout=60)
    assert result.returncode == 2 and "--build-arg expects NAME=VALUE or NAME" in result.stderr
    assert "S3cret" not in result.stderr


@pytest.mark.docker
def test_datascience_image_runs_as_non_root_with_its_stack(docker_engine, datascience_image):
    script = ("python --version && python -c 'import numpy, pandas, jupyterlab; print(\"imports ok\")' "
              "&& git --version && id -u && whoami")
    output = images.run_in_image(docker_engine, datascience_image, script)
    lines = output.split()
    assert "Python 3.11" in output
    assert "imports ok" in output
    assert "git version" in output
    assert lines[-2:] == ["1000", "dev"]
    labels = docker_engine.images.get(datascience_image).labels
    assert labels.get("org.opencontainers.image.title") == "datascience-test"


@pytest.mark.docker
def test_pip_change_rebuilds_only_from_the_pip_layer(docker_engine, base_image, host_ca_bundle, datascience_image,
                                                     tmp_path):
    # The same context as the fixture again (warms the cache should it have been pruned), then one more package.
    before = images.build_profile_image(docker_engine, images.datascience_profile(tmp_path / "a", base_image,
                                                                                  host_ca_bundle),
                                        tmp_path / "a", base_image, reuse=False)
    # A never-matching clause new to every session, so no cache from an earlier session can answer the pip step.
    six = f"six!=0.0.{uuid.uuid4().int % 10**9}"
    changed = images.datascience_profile(tmp_path / "b", base_image, host_ca_bundle, packages={"pip": [six]})
    after = images.build_profile_image(docker_engine, changed, tmp_path / "b", base_image, reuse=False)
    try:
        steps = sorted(after.result.log.counted, key=lambda s: s.number)
        pip_step = next(s for s in steps if "six" in s.instruction)
        earlier = [s for s in steps if s.number < pip_step.number]
        assert earlier and all(s.cached for s in earlier), [(s.label, s.cached) for s in earlier]
        assert not pip_step.cached
        # One layer more (datascience-cpu's own `packages.pip` is empty, so the change adds that layer), and
        # the steps after the pip step really ran again. (Layer ids are no witness for the cached steps:
        # after --no-cache builds BuildKit holds several equivalent cache records per step and may pick
        # different ones for two builds; the CACHED records above are what the engine reports.)
        layers_before = docker_engine.images.get(before.tag).attrs["RootFS"]["Layers"]
        layers_after = docker_engine.images.get(after.tag).attrs["RootFS"]["Layers"]
        assert len(layers_after) == len(layers_before) + 1 and layers_before != layers_after
        assert all(not s.cached for s in steps if s.number > pip_step.number and s.instruction.startswith("RUN"))
    finally:
        remove_image(docker_engine, after.tag)


@pytest.mark.docker
def test_failing_pip_package_names_the_step(docker_engine, base_image, host_ca_bundle, datascience_image, tmp_path):
    # The base image comes from --base-image here (the profile names none): the FROM override.
    profile = images.child_profile(tmp_path, "datascience-broken", "datascience-cpu", None, host_ca_bundle,
                                   packages={"pip": [NO_SUCH_PACKAGE]})
    result = toolkit("build", str(profile), "-t", "toolkit-test/broken:1", "--base-image", base_image,
                     "--build-arg", "HF_TOKEN=hf_do_not_print_me")
    assert result.returncode == 1, result.stdout + result.stderr
    err = result.stderr
    assert "Traceback" not in err and "Traceback" not in result.stdout
    assert "with BuildKit failed at step" in err
    assert "pip install" in err.split("failed at step", 1)[1].splitlines()[0]
    assert "toolkit-no-such-package-xyz" in err and "last log lines:" in err
    assert "hf_do_not_print_me" not in result.stdout + err
    assert "HF_TOKEN=***" in result.stdout
    assert f"FROM docker.io/{base_image}" in result.stdout


@pytest.mark.docker
def test_legacy_builder_fallback_builds_and_reports(docker_engine, base_image, host_ca_bundle, tmp_path):
    """--no-buildkit: the docker SDK's legacy builder on a small profile (no pip packages, no Jupyter)."""
    profile = images.child_profile(tmp_path, "legacy-small", None, base_image, host_ca_bundle,
                                   os={"distro": "debian", "version": "12"}, git={"enabled": False})
    tag = "toolkit-test/legacy-small:1"
    try:
        result = toolkit("build", str(profile), "-t", tag, "--no-buildkit", "--keep-context", str(tmp_path / "ctx"))
        assert result.returncode == 0, result.stdout + result.stderr
        out = result.stdout
        assert "with the legacy builder (--no-buildkit)" in out
        assert f"] FROM {base_image}" in out
        summary = next(line for line in out.splitlines() if line.startswith("built "))
        assert summary.startswith(f"built {tag} (image ") and "with the legacy builder; cached " in summary
        run_line = next(line for line in out.splitlines() if "run it:" in line)
        assert run_line.split("run it:")[1].split() == ["docker", "run", "--rm", "-it", tag]   # no GPU, no Jupyter
        assert f"toolkit verify {profile} --target docker-image://{tag}" in out
        assert "--mount" not in (tmp_path / "ctx" / "Dockerfile").read_text()
        output = images.run_in_image(docker_engine, tag, "test -x /opt/venv/bin/python && id -u")
        assert output.split()[-1] == "1000"
    finally:
        remove_image(docker_engine, tag)



@pytest.mark.docker
def test_tag_check_agrees_with_the_engine(docker_engine, base_image):
    """Every name the hostile corpus refuses, the engine refuses too; every name it accepts, the engine tags."""
    from tests.unit.hostile.test_image import BAD_TAGS, GOOD_TAGS
    from toolkit.executors.image_tag import tag_problem

    def engine_accepts(tag: str) -> bool:
        res = subprocess.run(["docker", "tag", base_image, tag], capture_output=True, text=True, timeout=60)
        if res.returncode == 0:
            subprocess.run(["docker", "rmi", tag], capture_output=True, timeout=60)
        return res.returncode == 0

    for case, (tag, _) in BAD_TAGS.items():
        if tag and "\n" not in tag:
            assert not engine_accepts(tag), f"{case}: the engine accepts {tag!r}"
    for tag in GOOD_TAGS:
        # IPv6 registry hosts ([::1]:5000/...) joined the reference grammar after engine 20.10 (the CI's).
        assert tag_problem(tag) is None and (tag.startswith("[") or engine_accepts(tag)), tag


def test_invalid_tag_exits_2_before_any_engine_is_asked():
    result = toolkit("build", "datascience-cpu", "-t", "Team/Image:1", env={"DOCKER_HOST": "unix:///nonexistent.sock"},
                     timeout=60)
    assert result.returncode == 2, result.stderr
    assert "-t/--tag: repository name 'Team/Image' must be lowercase" in result.stderr
    assert "cannot reach" not in result.stderr and "Traceback" not in result.stderr
