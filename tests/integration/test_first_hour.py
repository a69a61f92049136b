"""What a new user meets in the first hour, against real sshd containers (Debian 12 hosts):

- an Ubuntu profile applied to a Debian host is refused before anything changes (exit 2), allowed with
  --allow-os-mismatch, and only warned about when just the release differs;
- `apply --dry-run` on a terminal (a pty) lists the steps that would change, and --json carries them.
"""

from __future__ import annotations

import json
import os

import pytest

from ..tty import run_in_pty
from .test_apply import REPO, Apply, row, sh
from .test_script_idempotent import PROFILE

pytestmark = [pytest.mark.docker, pytest.mark.ssh]

UBUNTU = PROFILE.replace('distro: debian\n  version: "12"', 'distro: ubuntu\n  version: "22.04"')
DEBIAN_11 = PROFILE.replace('version: "12"', 'version: "11"')


def make(tmp_path, ssh_keypair, text: str) -> Apply:
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return Apply(path, tmp_path, ssh_keypair[0])


def untouched(host) -> bool:
    return "/usr/bin/jq" not in sh(host, "command -v jq || true") and "no such" in sh(
        host, "id alice 2>&1; ls /var/lib/toolkit 2>&1").lower()


def test_ubuntu_profile_on_a_debian_host_is_refused_before_any_change(tmp_path, ssh_keypair, sshd_container):
    assert UBUNTU != PROFILE
    host = sshd_container("osmismatch")
    apply = make(tmp_path, ssh_keypair, UBUNTU)
    apply.trust(host)
    for extra in ((), ("--dry-run",)):
        res = apply.run(host, extra=extra)
        assert res.returncode == 2, res.stdout + res.stderr
        text = res.stdout + res.stderr
        assert "runs debian 12, but the profile is for ubuntu 22.04" in text
        assert "--allow-os-mismatch" in res.stderr
        assert "Traceback" not in text
    assert untouched(host)
    res = apply.run(host, extra=("--dry-run", "--allow-os-mismatch"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "would-change" in row(res.stdout, host)
    assert "warning: deploy@127.0.0.1" in res.stderr and "applying anyway (--allow-os-mismatch)" in res.stderr


def test_the_ansible_engine_refuses_another_os_too(tmp_path, ssh_keypair, sshd_container):
    host = sshd_container("osansible")
    apply = make(tmp_path, ssh_keypair, UBUNTU)
    apply.trust(host)
    for extra in (("--engine", "ansible"), ("--engine", "ansible", "--dry-run")):
        res = apply.run(host, extra=extra)
        text = res.stdout + res.stderr
        assert res.returncode == 2, text
        assert "the host runs Debian 12" in text and "the profile is for ubuntu 22.04" in text
        assert "--allow-os-mismatch" in res.stderr and "Traceback" not in text
    assert untouched(host)
    res = apply.run(host, extra=("--engine", "ansible", "--dry-run", "--allow-os-mismatch"))
    text = res.stdout + res.stderr
    assert res.returncode == 0, text
    assert "warning: the host runs Debian 12" in text and "applying anyway" in text


def test_another_release_of_the_same_family_is_a_warning(tmp_path, ssh_keypair, sshd_container):
    host = sshd_container("osrelease")
    apply = make(tmp_path, ssh_keypair, DEBIAN_11)
    apply.trust(host)
    res = apply.run(host, extra=("--dry-run", "--json"))
    assert res.returncode == 0, res.stdout + res.stderr
    (result,) = json.loads(res.stdout)
    assert result["warnings"] == [f"deploy@127.0.0.1:{host.port} runs debian 12, the profile is for debian 11; "
                                  "applying anyway"]
    assert "warning:" in res.stderr
    assert any(step.endswith("os: OS packages") for step in result["would_change"]), result
    assert untouched(host)


def test_dry_run_on_a_terminal_lists_the_steps_that_would_change(tmp_path, ssh_keypair, sshd_container):
    host = sshd_container("drytty")
    apply = make(tmp_path, ssh_keypair, PROFILE)
    apply.trust(host)
    env = {k: v for k, v in apply.env().items() if k != "NO_COLOR"}
    env.update(TERM="xterm", COLUMNS="200")
    rc, text = run_in_pty(apply.argv(host, extra=("--dry-run",)), env)
    assert rc == 0, text
    assert "step(s) would change" in text, text
    for title in ("os: OS packages", "user: user alice", "python: virtual environment /opt/venv"):
        assert "would change  step " in text and title in text, text
    assert "\x1b[" in text              # a terminal: the live display and colour
    assert untouched(host)


# ---- build: what happens next, and what went wrong ----

def toolkit_cli(*args: str, timeout: int = 600):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, cwd=REPO,
                          env=dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO)), timeout=timeout, check=False)


def test_missing_base_image_is_named_before_the_build_with_how_to_get_it(docker_engine):
    res = toolkit_cli("build", "datascience-cpu", "-t", "toolkit-test/nobase:1", "--base-image",
                      "local/toolkit-no-such-base:1")
    assert res.returncode == 1, res.stdout + res.stderr
    warning, rest = res.stderr.split("\n", 1)
    assert "base image local/toolkit-no-such-base:1 is not present locally" in warning
    assert "docker load -i" in warning and "scripts/ensure-base-image.sh" in warning
    assert "building" in res.stdout          # the warning came before the build started
    assert "hint: the base image (FROM) is not on this engine" in rest, res.stderr
    assert "Traceback" not in res.stderr


def test_pip_behind_an_intercepting_proxy_points_at_ca_certificates(docker_engine, base_image, host_ca_bundle,
                                                                     tmp_path):
    from . import images

    if host_ca_bundle is None:
        pytest.skip("HTTPS is not intercepted on this machine: no TLS failure to provoke")
    profile = images.child_profile(tmp_path, "no-ca", None, base_image, None, os={"distro": "debian", "version": "12"},
                                   git={"enabled": False}, packages={"pip": ["six==1.16.0"]})
    res = toolkit_cli("build", str(profile), "-t", "toolkit-test/no-ca:1")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in res.stderr or "ssl certificate" in res.stderr
    hint = res.stderr.split("hint:", 1)[1]
    assert "(pip)" in hint and "ca_certificates" in hint and "network.proxy" in hint
    assert "rerun with -v" not in hint


@pytest.mark.slow
def test_readme_quick_start_on_a_bare_debian_12_container(docker_engine, base_image, host_ca_bundle, tmp_path):
    """The README's quick start, as a new user runs it on bare Debian 12 (about 3 minutes: opt-in)."""
    import subprocess

    src = tmp_path / "src"
    src.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    ca = ["-v", f"{host_ca_bundle}:/host-ca.crt:ro"] if host_ca_bundle else []
    script = ("set -e; cp -r /src /home/toolkit && cd /home/toolkit; "
              "if python3 -m venv .venv; then echo UNEXPECTED; fi; "
              "apt-get update -qq && apt-get install -y -qq python3-venv git >/dev/null; "
              + ("export PIP_CERT=/host-ca.crt; " if host_ca_bundle else "") +
              "python3 -m venv .venv && .venv/bin/pip install -q -e . && "
              ".venv/bin/toolkit render profiles/pytorch-cuda.yaml --format all -o out/pytorch-cuda && "
              "test -s out/pytorch-cuda/Dockerfile && echo QUICKSTART-OK")
    res = subprocess.run(["docker", "run", "--rm", "--label", "toolkit-test=1", "-v", f"{src}:/src:ro", *ca,
                          base_image, "bash", "-c", script], capture_output=True, text=True, timeout=900)
    assert res.returncode == 0 and "QUICKSTART-OK" in res.stdout, res.stdout + res.stderr
    assert "UNEXPECTED" not in res.stdout      # the bare image really lacks what the README says it lacks
