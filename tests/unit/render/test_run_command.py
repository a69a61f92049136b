"""The next step printed after `toolkit build`, for each kind of profile, and the README's copy of it."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render.run_command import docker_run, next_steps

README = Path(__file__).resolve().parents[3] / "README.md"
BUNDLED = ["base", "datascience-cpu", "pytorch-cuda", "tensorflow-cuda"]


def plan_of(name: str, tmp_path: Path | None = None, text: str | None = None):
    if text is not None:
        (tmp_path / "p.yaml").write_text(text)
        name = str(tmp_path / "p.yaml")
    return build_plan(load_profile(name), None)


def test_gpu_profile_gets_gpus_shm_port_and_token():
    argv = docker_run(plan_of("pytorch-cuda"), "t:1")
    assert argv == ["docker", "run", "--rm", "-it", "--gpus", "all", "--shm-size", "1g",
                    "-p", "127.0.0.1:8888:8888", "-e", "JUPYTER_TOKEN=YOUR_TOKEN", "t:1"]


def test_podman_run_line_uses_cdi_for_gpus_and_verifies_a_podman_image():
    plan = plan_of("pytorch-cuda")
    argv = docker_run(plan, "t:1", engine="podman")
    assert argv[:6] == ["podman", "run", "--rm", "-it", "--device", "nvidia.com/gpu=all"]
    lines = next_steps(plan, "t:1", "pytorch-cuda", engine="podman")
    assert any("--target podman-image://t:1" in line for line in lines)


def test_cpu_jupyter_profile_gets_no_gpu_flags():
    argv = docker_run(plan_of("datascience-cpu"), "t:1")
    assert "--gpus" not in argv and "--shm-size" not in argv
    assert argv[-5:] == ["-p", "127.0.0.1:8888:8888", "-e", "JUPYTER_TOKEN=YOUR_TOKEN", "t:1"]


def test_no_jupyter_no_port_and_the_verify_line(tmp_path):
    plan = plan_of("base")
    assert docker_run(plan, "t:1") == ["docker", "run", "--rm", "-it", "t:1"]
    lines = next_steps(plan, "my img:1", "my profile.yaml")
    assert lines[-1].strip() == "verify it:  toolkit verify 'my profile.yaml' --target docker-image://'my img:1'"


def test_port_and_password_auth_follow_the_profile(tmp_path):
    plan = plan_of("", tmp_path, 'name: j\nos: {distro: debian, version: "12"}\n'
                                 'jupyter: {enabled: true, port: 9999, auth: password}\n')
    argv = docker_run(plan, "t:1")
    assert argv[-5:] == ["-p", "127.0.0.1:9999:9999", "-e", "JUPYTER_PASSWORD_HASH='YOUR_HASH'", "t:1"]
    text = "\n".join(next_steps(plan, "t:1", "p.yaml"))
    assert "http://127.0.0.1:9999/" in text and "passwd()" in text


def test_the_run_line_is_valid_shell():
    for name in BUNDLED:
        line = next_steps(plan_of(name), "myteam/x:1", name)[1].split("run it:", 1)[1]
        assert shlex.split(line)[0] == "docker"


@pytest.mark.parametrize("name", BUNDLED)
def test_readme_shows_the_run_line_of_each_bundled_profile(name):
    run = " ".join(docker_run(plan_of(name), f"myteam/{name}:1"))
    assert run in README.read_text(), f"README is missing (or has a stale) run line for {name}:\n{run}"
