"""`toolkit verify` against real targets: the built datascience image, a broken child of it,
sshd containers over OpenSSH, and this machine. No mocks of Docker, SSH or testinfra."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from toolkit.commands.verify_cmd import run_plan
from toolkit.errors import EXIT_INVALID, EXIT_VERIFY_FAILED, UsageError, VerificationFailed
from toolkit.model.checks import check
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render.testinfra import render, suite_path

from . import images
from .harness import TEST_LABEL

REPO = Path(__file__).resolve().parents[2]
PY = "/opt/venv/bin/python"
GPU_CHECKS = (
    check("gpu_driver", "gpu", "NVIDIA driver loaded", tier="gpu"),
    check("gpu_inventory", "gpu", "nvidia-smi lists the GPUs", tier="gpu"),
    check("torch_gpu", "pytorch", "torch sees every GPU", tier="gpu", python=PY),
    check("torch_matmul", "pytorch", "a matmul on every GPU matches the CPU", tier="gpu", python=PY),
)


def toolkit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, env=env,
                          cwd=cwd or REPO, timeout=600, check=False)


@pytest.fixture(scope="module")
def ds_profile(tmp_path_factory, base_image, host_ca_bundle) -> Path:
    """The same child profile the datascience_image fixture builds from."""
    return images.datascience_profile(tmp_path_factory.mktemp("verify-profile"), base_image, host_ca_bundle)


@pytest.fixture(scope="module")
def ds_plan(ds_profile):
    return build_plan(load_profile(ds_profile))


@pytest.fixture
def running(docker_engine, datascience_image):
    """A running container of the datascience image (removed afterwards)."""
    started = []

    def start(image: str = datascience_image):
        c = docker_engine.containers.run(image, ["sleep", "infinity"], entrypoint=[], detach=True, shm_size="1g",
                                         labels={TEST_LABEL: "1"})
        started.append(c)
        return c

    yield start
    for c in started:
        c.remove(force=True)


@pytest.fixture(scope="module")
def without_pandas(docker_engine, datascience_image):
    """A child image of the datascience image with pandas uninstalled (docker commit)."""
    c = docker_engine.containers.run(datascience_image, ["/opt/venv/bin/python", "-m", "pip", "uninstall", "-y",
                                                         "pandas"], entrypoint=[], user="root", detach=True,
                                     labels={TEST_LABEL: "1"})
    try:
        assert c.wait(timeout=120)["StatusCode"] == 0, c.logs().decode()
        image = c.commit(repository="toolkit-test/datascience-no-pandas", tag="latest",
                         conf={"Labels": {TEST_LABEL: "1"}})
    finally:
        c.remove(force=True)
    yield "toolkit-test/datascience-no-pandas:latest"
    docker_engine.images.remove(image.id, force=True)


def _leftovers(docker_engine) -> list:
    return docker_engine.containers.list(all=True, filters={"label": "dev.toolkit.verify=1"})


# ------------------------------------------------------------------------------------ docker
@pytest.mark.docker
def test_datascience_image_verifies_green(docker_engine, datascience_image, ds_profile, tmp_path):
    junit = tmp_path / "report.xml"
    res = toolkit("verify", str(ds_profile), "--target", f"docker-image://{datascience_image}", "--junit", str(junit))
    assert res.returncode == 0, res.stdout + res.stderr
    plan = build_plan(load_profile(ds_profile))
    for c in plan.checks:
        assert f"PASS  {c.id}" in res.stdout
    assert f"{len(plan.checks)} passed, 0 failed" in res.stdout
    assert not _leftovers(docker_engine), "the verification container was not removed"

    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    names = [case.get("name") for case in cases]
    assert len(cases) == len(plan.checks)
    # Stable across runs: the target kind, never the container id (CI keeps one history per check).
    assert sorted(names) == sorted(f"test_check[docker-image-{c.id}]" for c in plan.checks)
    assert {case.get("classname") for case in cases} == {"tests.test_datascience_test"}
    props = [p for case in cases for p in case.iter("property") if p.get("name") == "toolkit.result"]
    assert {json.loads(p.get("value"))["id"] for p in props} == {c.id for c in plan.checks}


@pytest.mark.docker
def test_a_removed_package_fails_and_is_named(docker_engine, without_pandas, ds_profile):
    res = toolkit("verify", str(ds_profile), "--target", without_pandas, "--json")
    assert res.returncode == EXIT_VERIFY_FAILED, res.stdout + res.stderr
    doc = json.loads(res.stdout)
    failed = {c["id"]: c for c in doc["checks"] if c["status"] == "failed"}
    assert set(failed) == {"pip_package:pandas"}, failed
    pandas = failed["pip_package:pandas"]
    assert "pandas is not installed in /opt/venv" in pandas["found"]
    assert "pip install pandas in /opt/venv" in pandas["hint"]
    assert {"id", "kind", "tier", "status", "duration", "expected", "found", "hint"} <= set(pandas)
    assert "1 of" in res.stderr and "checks failed" in res.stderr
    assert not _leftovers(docker_engine)


@pytest.mark.docker
def test_running_container_and_keyword_selection(running, ds_profile):
    c = running()
    res = toolkit("verify", str(ds_profile), "--target", f"docker://{c.id}", "-k", "pip_package or os_package",
                  "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    ids = {r["id"] for r in json.loads(res.stdout)["checks"]}
    assert ids and all(i.startswith(("pip_package:", "os_package:")) for i in ids)


@pytest.mark.docker
def test_gpu_checks_skip_with_a_reason_and_fail_with_require_gpu(running, ds_plan, tmp_path, capsys):
    plan = dataclasses.replace(ds_plan, checks=ds_plan.checks + GPU_CHECKS)
    target = f"docker://{running().id}"

    run = run_plan(plan, target)
    skipped = {r.id: r for r in run.results if r.status == "skipped"}
    assert set(skipped) == {c.id for c in GPU_CHECKS}
    assert all("no GPU visible" in r.found for r in skipped.values())
    assert not run.failed
    assert "SKIP  torch_matmul" in capsys.readouterr().out

    with pytest.raises(VerificationFailed) as exc:
        run_plan(plan, target, require_gpu=True, junit=str(tmp_path / "gpu.xml"))
    assert exc.value.exit_code == EXIT_VERIFY_FAILED
    text = capsys.readouterr().out
    for c in GPU_CHECKS:
        assert f"FAIL  {c.id}" in text
    assert f"{len(ds_plan.checks)} passed, {len(GPU_CHECKS)} failed, 0 skipped" in text


@pytest.mark.docker
def test_generated_suite_runs_with_plain_pytest(running, ds_plan, tmp_path):
    """The rendered module is a standalone testinfra suite: pytest --hosts=docker://CID works."""
    plan = dataclasses.replace(ds_plan, checks=ds_plan.checks + GPU_CHECKS[:1])
    render(plan).write(tmp_path)
    cid = running().id
    cmd = [sys.executable, "-m", "pytest", suite_path(plan), f"--hosts=docker://{cid}", "-p", "no:cacheprovider",
           "-rs", "-q"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"{len(ds_plan.checks)} passed, 1 skipped" in res.stdout
    assert "no GPU visible" in res.stdout
    strict = subprocess.run(cmd + ["--require-gpu"], cwd=tmp_path, capture_output=True, text=True,
                            env=env, timeout=300, check=False)
    assert strict.returncode == 1 and "1 failed" in strict.stdout, strict.stdout
    by_env = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
                            env=dict(env, TOOLKIT_REQUIRE_GPU="1"))
    assert by_env.returncode == 1 and "1 failed" in by_env.stdout, by_env.stdout


@pytest.mark.docker
def test_missing_image_and_stopped_container_are_usage_errors(ds_profile, docker_engine, base_image):
    res = toolkit("verify", str(ds_profile), "--target", "docker-image://toolkit-test/no-such-image:0")
    assert res.returncode == EXIT_INVALID and "not found" in res.stderr
    c = docker_engine.containers.create(base_image, ["true"], labels={TEST_LABEL: "1"})
    try:
        res = toolkit("verify", str(ds_profile), "--target", f"docker://{c.id}")
        assert res.returncode == EXIT_INVALID and "not running" in res.stderr
    finally:
        c.remove(force=True)


@pytest.fixture(scope="module")
def root_owned_cache(docker_engine, datascience_image):
    """A child of the datascience image whose ~/.cache belongs to root (what BuildKit's pip cache mount left
    in images before the fix): the image's user cannot create ~/.cache/huggingface there."""
    c = docker_engine.containers.run(datascience_image, ["chown", "-R", "root:root", "/home/dev/.cache"],
                                     entrypoint=[], user="root", detach=True, labels={TEST_LABEL: "1"})
    try:
        assert c.wait(timeout=120)["StatusCode"] == 0, c.logs().decode()
        image = c.commit(repository="toolkit-test/datascience-root-cache", tag="latest",
                         conf={"Labels": {TEST_LABEL: "1"}})
    finally:
        c.remove(force=True)
    yield "toolkit-test/datascience-root-cache:latest"
    docker_engine.images.remove(image.id, force=True)


@pytest.mark.docker
def test_the_built_image_lets_its_user_write_home_and_caches(docker_engine, datascience_image):
    script = ("mkdir -p ~/.cache/huggingface/hub ~/.cache/torch && touch ~/.cache/torch/x && "
              "find /home/dev ! -user dev | wc -l")
    assert images.run_in_image(docker_engine, datascience_image, script).split()[-1] == "0"


@pytest.mark.docker
def test_a_root_owned_cache_fails_verify_naming_the_check(docker_engine, root_owned_cache, ds_profile):
    res = toolkit("verify", str(ds_profile), "--target", f"docker-image://{root_owned_cache}", "--json")
    assert res.returncode == EXIT_VERIFY_FAILED, res.stdout + res.stderr
    failed = {c["id"]: c for c in json.loads(res.stdout)["checks"] if c["status"] == "failed"}
    assert set(failed) == {"writable:dev"}, failed
    assert "/home/dev/.cache is owned by root:root" in failed["writable:dev"]["found"]
    assert "chown -R dev:" in failed["writable:dev"]["hint"]
    # The same image verified as root (docker exec -u root): the probe drops to dev and still fails.
    c = docker_engine.containers.run(root_owned_cache, ["sleep", "infinity"], entrypoint=[], user="root",
                                     detach=True, labels={TEST_LABEL: "1"})
    try:
        res = toolkit("verify", str(ds_profile), "--target", f"docker://{c.id}", "-k", "writable", "--json")
        assert res.returncode == EXIT_VERIFY_FAILED, res.stdout + res.stderr
        doc = {r["id"]: r for r in json.loads(res.stdout)["checks"]}
        assert doc["writable:dev"]["status"] == "failed" and "root dropped to uid 1000" in doc["writable:dev"]["found"]
        assert doc["writable:/opt/venv"]["status"] == "passed"
    finally:
        c.remove(force=True)


def _verify_containers(client, image: str) -> dict[str, list[str]]:
    """Containers verify started from image (named toolkit-verify-* or labelled), read without inspecting each:
    other tests on a shared engine remove theirs at any moment."""
    return {c["Id"]: c["Names"] for c in client.api.containers(all=True)
            if c.get("Image") == image and (any(n.lstrip("/").startswith("toolkit-verify-") for n in c["Names"])
                                            or (c.get("Labels") or {}).get("dev.toolkit.verify") == "1")}


@pytest.mark.docker
def test_ctrl_c_removes_the_container_and_exits_130(docker_engine, datascience_image, ds_profile):
    before = set(_verify_containers(docker_engine, datascience_image))
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO))
    # Its own process group, as a terminal's foreground job: Ctrl-C reaches toolkit and its docker children.
    proc = subprocess.Popen([sys.executable, "-m", "toolkit", "verify", str(ds_profile), "--target",
                             f"docker-image://{datascience_image}"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not set(_verify_containers(docker_engine, datascience_image)) - before and time.monotonic() < deadline:
            time.sleep(0.1)
        started = set(_verify_containers(docker_engine, datascience_image)) - before
        assert started, "verify never started its container"
        time.sleep(1.0)                      # inside the checks (the probe is running)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:      # the test itself failed: SIGKILL leaves the container, so remove it here
            proc.kill()
            proc.wait()
            for cid in set(_verify_containers(docker_engine, datascience_image)) - before:
                docker_engine.api.remove_container(cid, force=True)
    assert proc.returncode == 130, out + err
    assert "interrupted" in err and "Traceback" not in err
    left = set(_verify_containers(docker_engine, datascience_image)) & started
    assert not left, f"verify left its container behind: {left}"


def test_engine_down_says_so_not_image_not_found(tmp_path, ds_profile_text_only):
    sock_path = tmp_path / "closed.sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    sock.close()                         # the file stays, nothing listens: connection refused
    for target in ("docker-image://toolkit-test/anything:1", "docker://some-container"):
        env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO), DOCKER_HOST=f"unix://{sock_path}")
        res = subprocess.run([sys.executable, "-m", "toolkit", "verify", str(ds_profile_text_only), "--target",
                              target], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
        assert res.returncode == EXIT_INVALID, res.stderr
        assert f"cannot reach the Docker engine at unix://{sock_path}" in res.stderr
        assert "not found" not in res.stderr.split("hint:")[0] and "no container" not in res.stderr
        assert "systemctl start docker" in res.stderr and "Traceback" not in res.stderr


@pytest.fixture
def ds_profile_text_only(tmp_path) -> Path:
    return images.datascience_profile(tmp_path / "p", "debian:12", None)


# ------------------------------------------------------------------------------------ ssh
SSH_PROFILE = """\
name: ssh-min
description: checks that fit the harness sshd container
os: {distro: debian, version: "12"}
python: {version: system}
user: {name: deploy, uid: 1001, gid: 1001, sudo: true}
git: {enabled: false}
"""


def _sshd_plan(plan):
    """The checks an sshd container (python3, no venv) can pass."""
    extra = (check("os_package", "os", "openssh-server installed", ident="os_package:openssh-server",
                   name="openssh-server", family="debian"),
             check("file", "ssh", "sshd config", ident="file:/etc/ssh/sshd_config", path="/etc/ssh/sshd_config"),
             check("file", "ssh", "deploy's ssh folder", ident="file:/home/deploy/.ssh", path="/home/deploy/.ssh"),
             check("python_version", "python", "system Python 3.11", python="/usr/bin/python3", version="3.11"))
    kept = tuple(c for c in plan.checks if c.kind in ("os_release", "user", "os_package"))
    return dataclasses.replace(plan, checks=kept + extra)


@pytest.mark.ssh
def test_verify_over_ssh_with_strict_host_keys(sshd_container, tmp_path, capsys):
    target = sshd_container("verify")
    profile = tmp_path / "ssh-min.yaml"
    profile.write_text(SSH_PROFILE)
    plan = _sshd_plan(build_plan(load_profile(profile)))
    run = run_plan(plan, f"ssh://{target.alias}", ssh_config=str(target.ssh_config_path))
    assert {r.status for r in run.results} == {"passed"}, capsys.readouterr().out
    assert {r.id for r in run.results} == {c.id for c in plan.checks}
    assert "user:deploy" in {r.id for r in run.results}

    # The CLI end to end, with -k, and a check that fails there (no venv on the sshd host).
    res = toolkit("verify", str(profile), "--target", f"ssh://{target.alias}", "--ssh-config",
                  str(target.ssh_config_path), "-k", "os_release or user or venv")
    assert res.returncode == EXIT_VERIFY_FAILED, res.stdout + res.stderr
    assert "PASS  user:deploy" in res.stdout and "FAIL  venv" in res.stdout


@pytest.mark.ssh
def test_ssh_with_user_host_port_and_an_unknown_host_key_is_refused(sshd_container, tmp_path):
    target = sshd_container("hostkey")
    config = tmp_path / "config"
    empty_known = tmp_path / "known_hosts"
    empty_known.write_text("")
    config.write_text(f"Host 127.0.0.1\n    IdentityFile {target.key_path}\n    IdentitiesOnly yes\n"
                      f"    UserKnownHostsFile {empty_known}\n    GlobalKnownHostsFile /dev/null\n"
                      "    StrictHostKeyChecking no\n")   # the user's "no" must not win
    plan = dataclasses.replace(build_plan(load_profile(_write(tmp_path, SSH_PROFILE))),
                               checks=(check("os_release", "os", "debian", distro="debian", version="12"),))
    with pytest.raises(UsageError) as exc:
        run_plan(plan, f"ssh://{target.user}@{target.host}:{target.port}", ssh_config=str(config))
    assert "cannot reach the target" in exc.value.message
    assert "Host key verification failed" in exc.value.message

    empty_known.write_text(target.known_hosts_path.read_text())
    run = run_plan(plan, f"ssh://{target.user}@{target.host}:{target.port}", ssh_config=str(config))
    assert [r.status for r in run.results] == ["passed"]


def _write(directory: Path, text: str) -> Path:
    path = directory / "profile.yaml"
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------------ local
def test_verify_this_machine(tmp_path, capsys):
    os_release = Path("/etc/os-release").read_text() if Path("/etc/os-release").exists() else ""
    if 'VERSION_ID="12"' not in os_release or "ID=debian" not in os_release:
        pytest.skip("this machine is not Debian 12")
    plan = dataclasses.replace(
        build_plan(load_profile(_write(tmp_path, SSH_PROFILE))),
        checks=(check("os_release", "os", "Debian 12", distro="debian", version="12"),
                check("python_version", "python", "this Python", python=sys.executable,
                      version="{}.{}".format(*sys.version_info[:2])),
                check("pip_package", "python", "pytest importable", ident="pip_package:pytest",
                      python=sys.executable, name="pytest", specifier=">=8", import_name=None),
                check("pip_package", "python", "PyYAML importable as yaml", ident="pip_package:pyyaml",
                      python=sys.executable, name="PyYAML", specifier=">=6", import_name=None),
                check("command", "checks", "python3 runs", ident="command:python3",
                      argv=(sys.executable, "-c", "print('ok')"), expect="ok")))
    run = run_plan(plan, "local", as_json=True)
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] and doc["counts"] == {"passed": 5, "failed": 0, "skipped": 0}
    pyyaml = next(r for r in run.results if r.id == "pip_package:pyyaml")
    assert "import yaml ok" in pyyaml.found   # derived from the distribution's top_level.txt
