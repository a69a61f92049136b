"""setup.sh of a Debian 12 GPU profile (driver install auto, Container Toolkit) on a host without an
NVIDIA GPU: the driver steps are skipped with the reason, nothing is installed, the script exits 0.

A container sees the host's /sys/bus/pci, so this runs only where the host has no NVIDIA GPU. The
plan keeps the GPU host steps and the metadata file only (no apt or pip downloads): fast.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import uuid

import pytest

from toolkit.model import host_probes
from toolkit.model.steps import ContainerToolkit, Metadata, NvidiaDriver
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import script

from . import harness
from .test_script_idempotent import put_script, run

pytestmark = pytest.mark.docker

PROFILE = """\
name: driver-no-gpu
os:
  distro: debian
  version: "12"
  base_image: nvidia/cuda:12.4.1-runtime-ubuntu22.04
gpu:
  enabled: true
  cuda: "12.4"
  container_toolkit: true
  driver:
    install: auto
user: {create: false}
git: {enabled: false}
"""
SKIPPED = "[skipped] no NVIDIA GPU (driver steps skipped)"


@pytest.fixture
def plan(tmp_path):
    (tmp_path / "profile.yaml").write_text(PROFILE)
    full = build_plan(load_profile(tmp_path / "profile.yaml"))
    keep = (NvidiaDriver, ContainerToolkit, Metadata)
    return dataclasses.replace(full, steps=tuple(s for s in full.steps if isinstance(s, keep)))


@pytest.fixture
def container(docker_engine, base_image):
    if subprocess.run(["sh", "-c", host_probes.HAS_GPU + "has_nvidia_gpu"], check=False).returncode == 0:
        pytest.skip("this host has an NVIDIA GPU, which containers see on the PCI bus")
    c = docker_engine.containers.run(base_image, ["sleep", "infinity"], detach=True,
                                     name=f"toolkit-test-driver-{uuid.uuid4().hex[:8]}",
                                     labels={harness.TEST_LABEL: "1"})
    yield c
    harness.remove_container(c)


def test_driver_steps_skipped_without_gpu(plan, container):
    kinds = [s.kind for s in plan.steps]
    assert kinds == ["NvidiaDriver", "ContainerToolkit", "Metadata"], kinds
    put_script(container, script.render(plan).files["setup.sh"])
    for attempt in ("first", "second"):
        rc, out, _ = run(container)
        assert rc == 0, f"{attempt} run:\n{out[-4000:]}"
        assert out.count(SKIPPED) == 2, out
        assert "[failed]" not in out and "[reboot-required]" not in out, out
    rc, dry, _ = run(container, "--dry-run")
    assert rc == 0 and dry.count(SKIPPED) == 2 and "[would change]" not in dry, dry

    _, state = container.exec_run(["cat", "/var/lib/toolkit/state.json"])
    outcomes = {s["kind"]: s["outcome"] for s in json.loads(state)["steps"]}
    assert outcomes == {"NvidiaDriver": "skipped", "ContainerToolkit": "skipped", "Metadata": "unchanged"}
    # Nothing of the driver reached the host: no keyring, no packages, no nouveau blacklist, no reboot flag.
    check = ("dpkg-query -W cuda-keyring cuda-drivers-550 nvidia-container-toolkit; "
             "ls /etc/modprobe.d/blacklist-nouveau.conf /var/run/reboot-required")
    rc, out = container.exec_run(["sh", "-c", check])
    text = out.decode()
    assert "no packages found matching" in text and "No such file" in text, text
    for probe in (plan.steps[0].probe(), plan.steps[1].probe()):
        assert container.exec_run(list(probe)).exit_code == 0     # probes agree: nothing to do here


REPO = "https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/"
OWN_LIST = "/etc/apt/sources.list.d/toolkit-cuda.list"


@pytest.mark.parametrize("path, text, configured", [
    (None, None, False),
    ("/etc/apt/sources.list.d/cuda-debian12-x86_64.list", f"deb [signed-by=/usr/share/keyrings/cuda.gpg] {REPO} /", True),
    ("/etc/apt/sources.list.d/nvidia.sources", f"Types: deb\nURIs: {REPO[:-1]}\nSuites: /\n", True),
    ("/etc/apt/sources.list", f"# deb {REPO} /", False),                       # commented out
    ("/etc/apt/sources.list.d/cuda.list.save", f"deb {REPO} /", False),       # apt does not read it
    (OWN_LIST, f"deb [signed-by=/usr/share/keyrings/toolkit-cuda-archive.asc] {REPO} /", False),  # toolkit's own
])
def test_repo_configured_sees_the_hosts_own_apt_sources(container, path, text, configured):
    """A host that already set up NVIDIA's repository keeps it (a second entry with another signed-by
    would make apt refuse both); only sources apt reads, and not toolkit's own list, count."""
    if path:
        assert container.exec_run(["sh", "-c", 'printf "%s\\n" "$2" >"$1"', "put", path, text]).exit_code == 0
    found = container.exec_run(["sh", "-c", host_probes.REPO_CONFIGURED + 'repo_configured "$1" "$2"', "probe",
                                REPO, OWN_LIST])
    assert (found.exit_code == 0) is configured, found.output.decode()
