"""diagnose(): recorded host states -> the findings (and order) people need."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.gpu import Finding, diagnose
from toolkit.gpu.parse import read_facts

FIXTURES = Path(__file__).parent / "fixtures"
KERNEL = "5.15.0-97-generic"
GIB = 1 << 30


def fx(name: str) -> str:
    return (FIXTURES / name).read_text()


def ok(out: str) -> dict:
    return {"rc": 0, "out": out, "err": ""}


def failed(out: str = "", err: str = "", rc: int = 1) -> dict:
    return {"rc": rc, "out": out, "err": err}


def healthy(**changes) -> dict:
    """Ubuntu 22.04, 2x A100, driver 550.54.15 via DKMS, held, Docker with the nvidia runtime."""
    raw = {
        "schema": 1, "kernel": KERNEL, "container": False, "python": None,
        "commands": {
            "lspci": ok(fx("lspci_a100_vm.txt")),
            "nvidia_smi": ok(fx("nvidia_smi_2xa100.csv.txt")),
            "lsmod": ok(fx("lsmod_nvidia.txt")),
            "mokutil": ok(fx("mokutil_disabled.txt")),
            "modinfo": ok(fx("modinfo_nvidia_signed.txt")),
            "dpkg": ok(fx("dpkg_query_ubuntu2204_550_dkms.txt")),
            "dkms": ok(fx("dkms_status_installed.txt")),
            "docker_runtimes": ok(fx("docker_runtimes_nvidia.json")),
            "apt_holds": ok(fx("apt_mark_showhold.txt")),
        },
        "smi_fields": "index,name,pci.bus_id,driver_version,compute_cap,memory.total",
        "files": {"/proc/driver/nvidia/version": fx("proc_driver_nvidia_version_550.txt"),
                  "/proc/modules": None, "/etc/docker/daemon.json": fx("daemon_json_nvidia_ctk.json")},
        "pci_sysfs": [], "dev_nvidia": ["nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm"],
        "env": {"CUDA_VISIBLE_DEVICES": None, "NVIDIA_VISIBLE_DEVICES": None},
        "shm_bytes": 64 * GIB, "secure_boot_efivar": None,
    }
    for key, value in changes.items():
        if key in raw["commands"]:
            raw["commands"][key] = value
        elif key.startswith("/"):
            raw["files"][key] = value
        else:
            raw[key] = value
    return raw


def with_python(torch: dict | None = None, tf: dict | None = None, **changes) -> dict:
    doc = {k: v for k, v in (("torch", torch), ("tensorflow", tf)) if v is not None}
    raw = healthy(python="/opt/venv/bin/python", **changes)
    raw["commands"]["frameworks"] = ok(json.dumps(doc))
    return raw


def codes(findings: list[Finding], severity: str | None = None) -> list[str]:
    return [f.code for f in findings if severity is None or f.severity == severity]


def by_code(findings: list[Finding], code: str) -> Finding:
    return next(f for f in findings if f.code == code)


def test_healthy_host_has_only_ok_findings():
    findings = diagnose(healthy())
    assert codes(findings) == ["driver-ok", "shm-ok", "docker-nvidia-ok", "driver-held"]
    assert {f.severity for f in findings} == {"ok"}
    assert "2 GPU(s)" in findings[0].title and "sm_80" in findings[0].detail


def test_no_gpu_is_info_and_says_driver_steps_are_skipped():
    raw = healthy(lspci=ok(fx("lspci_no_gpu_vm.txt")), nvidia_smi=None, dpkg=failed(), dkms=None)
    findings = diagnose(raw)
    assert codes(findings) == ["no-gpu", "shm-ok"]
    assert findings[0].severity == "info" and findings[0].title == "no NVIDIA GPU"
    assert "skipped" in findings[0].detail


def test_no_lspci_falls_back_to_sysfs_captured_here():
    raw = healthy(lspci=None, nvidia_smi=None, pci_sysfs=json.loads(fx("sysfs_pci_this_machine.json")))
    assert codes(diagnose(raw))[0] == "no-gpu"


def test_container_without_gpu_devices_is_hidden():
    raw = healthy(container=True, dev_nvidia=[], nvidia_smi=None, dpkg=failed(), dkms=None, apt_holds=ok(""))
    findings = diagnose(raw)
    hidden = by_code(findings, "gpu-hidden")
    assert hidden.severity == "error" and "--gpus all" in hidden.fix
    assert codes(findings, "error") == ["gpu-hidden"]


def test_module_loaded_but_nvidia_smi_lists_nothing():
    findings = diagnose(healthy(nvidia_smi=failed(fx("nvidia_smi_no_devices.txt"), rc=6)))
    assert codes(findings, "error") == ["gpu-hidden"]
    assert "No devices were found" in by_code(findings, "gpu-hidden").detail


def test_env_hiding_and_vfio_binding():
    sysfs = [{"slot": "0000:00:04.0", "vendor": "0x10de", "device": "0x20b0", "class": "0x030200",
              "driver": "vfio-pci"}]
    raw = healthy(lspci=None, pci_sysfs=sysfs, env={"CUDA_VISIBLE_DEVICES": "", "NVIDIA_VISIBLE_DEVICES": None})
    found = codes(diagnose(raw))
    assert found[:2] == ["gpu-hidden-env", "gpu-vfio"]


def test_nouveau_loaded_comes_before_the_driver_state():
    raw = healthy(lsmod=None, nvidia_smi=ok(fx("nvidia_smi_no_driver.txt")), modinfo=failed(fx("modinfo_not_found.txt")),
                  **{"/proc/modules": fx("proc_modules_nouveau.txt"), "/proc/driver/nvidia/version": None})
    findings = diagnose(raw)
    assert codes(findings, "error") == ["nouveau-loaded"]
    fix = findings[0].fix
    assert "blacklist nouveau" in fix and "update-initramfs -u" in fix and "reboot" in fix


@pytest.mark.parametrize("modinfo, code", [("modinfo_nvidia_unsigned.txt", "secure-boot-unsigned"),
                                           ("modinfo_nvidia_signed.txt", "secure-boot-rejected")])
def test_secure_boot_blocks_the_module(modinfo, code):
    raw = healthy(mokutil=ok(fx("mokutil_enabled.txt")), modinfo=ok(fx(modinfo)),
                  nvidia_smi=failed(fx("nvidia_smi_no_driver.txt"), rc=9), **{"/proc/driver/nvidia/version": None})
    findings = diagnose(raw)
    assert codes(findings, "error") == [code]
    assert "linux-modules-nvidia-550-server-" + KERNEL in findings[0].fix and "mokutil --import" in findings[0].fix


def test_secure_boot_from_efivar_when_mokutil_is_absent():
    raw = healthy(mokutil=None, secure_boot_efivar=1, modinfo=ok(fx("modinfo_nvidia_unsigned.txt")),
                  nvidia_smi=failed(fx("nvidia_smi_no_driver.txt"), rc=9), **{"/proc/driver/nvidia/version": None})
    assert codes(diagnose(raw), "error") == ["secure-boot-unsigned"]


def test_secure_boot_with_a_loaded_module_is_fine():
    assert codes(diagnose(healthy(mokutil=ok(fx("mokutil_enabled.txt")))), "error") == []


def test_headers_missing_and_dkms_not_built_after_kernel_upgrade():
    raw = healthy(kernel="5.15.0-101-generic", dkms=ok(fx("dkms_status_other_kernel.txt")),
                  modinfo=failed(fx("modinfo_not_found.txt")), nvidia_smi=failed(fx("nvidia_smi_no_driver.txt"), rc=9),
                  **{"/proc/driver/nvidia/version": None})
    findings = diagnose(raw)
    assert codes(findings, "error") == ["headers-missing", "dkms-not-built"]
    assert "linux-headers-5.15.0-101-generic" in findings[0].fix
    assert "dkms autoinstall -k 5.15.0-101-generic" in by_code(findings, "dkms-not-built").fix


def test_precompiled_modules_for_the_running_kernel_skip_dkms_checks():
    dpkg = fx("dpkg_query_ubuntu2204_550_dkms.txt").replace("linux-headers-" + KERNEL, "linux-image-" + KERNEL)
    dpkg += f"ii \tlinux-modules-nvidia-550-server-{KERNEL}\t{KERNEL}\n"
    assert "headers-missing" not in codes(diagnose(healthy(dpkg=ok(dpkg))))


def test_nvml_mismatch_needs_a_reboot():
    raw = healthy(nvidia_smi=failed(fx("nvidia_smi_mismatch.txt"), rc=18))
    findings = diagnose(raw)
    assert codes(findings, "error") == ["driver-mismatch"]
    mismatch = findings[0]
    assert "reboot" in mismatch.title and "sudo reboot" in mismatch.fix
    assert "Driver/library version mismatch" in mismatch.detail and "550.54.15" in mismatch.detail


def test_loaded_module_differs_from_installed_userspace():
    dpkg = fx("dpkg_query_ubuntu2204_550_dkms.txt").replace("550.54.15-0ubuntu", "550.90.07-0ubuntu")
    findings = diagnose(healthy(nvidia_smi=None, dpkg=ok(dpkg)))
    assert codes(findings, "error") == ["driver-mismatch"]
    assert "550.54.15" in findings[0].detail and "550.90.07" in findings[0].detail


def test_driver_missing_and_not_loaded():
    bare = healthy(nvidia_smi=None, lsmod=ok(""), modinfo=None, dpkg=failed(), dkms=None, apt_holds=ok(""),
                   **{"/proc/driver/nvidia/version": None})
    assert codes(diagnose(bare), "error") == ["driver-missing"]
    not_loaded = healthy(nvidia_smi=failed(fx("nvidia_smi_no_driver.txt"), rc=9),
                         **{"/proc/driver/nvidia/version": None})
    assert codes(diagnose(not_loaded), "error") == ["driver-not-loaded"]


TORCH_CU128 = {"version": "2.7.1+cu128", "cuda": "12.8",
               "arch_list": ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120", "compute_120"]}
TORCH_CU130 = {"version": "2.11.0", "cuda": "13.0", "arch_list": ["sm_75", "sm_80", "sm_86", "sm_90", "sm_120"]}
TORCH_CU124 = {"version": "2.5.1+cu124", "cuda": "12.4", "arch_list": ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80",
                                                                      "sm_86", "sm_90"]}


def test_driver_too_old_for_the_torch_wheel_cuda():
    findings = diagnose(with_python(TORCH_CU130))
    too_old = by_code(findings, "driver-too-old")
    assert too_old.severity == "error" and "580" in too_old.detail and "torch 2.11.0" in too_old.title


def test_driver_between_family_floor_and_toolkit_driver_is_a_warning():
    findings = diagnose(with_python(TORCH_CU128))
    assert codes(findings, "error") == []
    assert by_code(findings, "driver-below-toolkit").severity == "warning"
    assert "570.26" in by_code(findings, "driver-below-toolkit").fix


def test_driver_new_enough_and_arch_covered():
    findings = diagnose(with_python(TORCH_CU124))
    assert {"driver-supports-cuda", "arch-ok"} <= set(codes(findings, "ok"))
    assert codes(findings, "error") == codes(findings, "warning") == []


def test_tensorflow_wheel_cuda_is_checked_too():
    tf = {"version": "2.16.1", "cuda": "12.3.2", "arch_list": ["sm_60", "sm_70", "sm_80", "sm_89", "compute_90"]}
    findings = diagnose(with_python(tf=tf))
    assert "tensorflow 2.16.1" in by_code(findings, "driver-supports-cuda").title
    assert "tensorflow 2.16.1 has kernels for sm_80" in by_code(findings, "arch-ok").title


def test_blackwell_gpu_missing_from_an_old_torch_wheel():
    raw = with_python(TORCH_CU124, nvidia_smi=ok(fx("nvidia_smi_rtx5090.csv.txt")),
                      **{"/proc/driver/nvidia/version": fx("proc_driver_nvidia_version_open_570.txt")})
    findings = diagnose(raw)
    missing = by_code(findings, "arch-missing")
    assert missing.severity == "error" and "sm_120" in missing.title and "torch >= 2.7" in missing.fix
    assert "open kernel module" in by_code(findings, "driver-ok").title


def test_ptx_only_is_a_warning():
    torch = dict(TORCH_CU124, arch_list=["sm_70", "compute_70"])
    assert by_code(diagnose(with_python(torch)), "arch-ptx-only").severity == "warning"


def test_arch_specific_cubins_do_not_cover_newer_minors():
    torch = dict(TORCH_CU124, arch_list=["sm_90a"])
    raw = with_python(torch, nvidia_smi=ok(fx("nvidia_smi_2xa100.csv.txt").replace(", 8.0,", ", 9.0,")))
    assert "arch-ok" in codes(diagnose(raw))
    raw = with_python(dict(torch, arch_list=["sm_80a"]), nvidia_smi=ok("0, X, 00000000:01:00.0, 550.54.15, 8.6, 1 MiB"))
    assert "arch-missing" in codes(diagnose(raw))


def test_cpu_only_torch_and_a_broken_python():
    assert by_code(diagnose(with_python({"version": "2.5.1+cpu", "cuda": None, "arch_list": []})),
                   "torch-cpu-build").severity == "error"
    raw = healthy(python="/nope/python")
    assert by_code(diagnose(raw), "python-probe-failed").severity == "warning"


def test_small_shm_is_a_warning_with_docker_fix():
    findings = diagnose(healthy(shm_bytes=64 << 20))
    small = by_code(findings, "shm-small")
    assert small.severity == "warning" and "--shm-size" in small.fix and "--ipc=host" in small.fix


def test_docker_without_nvidia_runtime():
    raw = healthy(docker_runtimes=ok(fx("docker_runtimes_this_machine.json")), **{"/etc/docker/daemon.json": None})
    finding = by_code(diagnose(raw), "docker-no-nvidia-runtime")
    assert finding.severity == "warning"
    assert "nvidia-ctk runtime configure --runtime=docker" in finding.fix and "merges" in finding.fix


def test_driver_packages_not_held():
    finding = by_code(diagnose(healthy(apt_holds=ok(""))), "driver-not-held")
    assert finding.severity == "warning" and finding.fix.startswith("sudo apt-mark hold ")
    assert "nvidia-driver-550" in finding.fix and "nvidia-container-toolkit" not in finding.fix


def test_findings_follow_the_failure_order():
    raw = with_python(TORCH_CU130, shm_bytes=1 << 20, apt_holds=ok(""), lsmod=None,
                      nvidia_smi=failed(fx("nvidia_smi_mismatch.txt"), rc=18),
                      docker_runtimes=ok(fx("docker_runtimes_this_machine.json")),
                      **{"/proc/modules": fx("proc_modules_nouveau.txt") + "nvidia 1 0 - Live 0x0\n",
                         "/etc/docker/daemon.json": None})
    assert codes(diagnose(raw)) == ["nouveau-loaded", "driver-mismatch", "driver-too-old", "shm-small",
                                    "docker-no-nvidia-runtime", "driver-not-held"]


def test_finding_is_frozen_and_validates_severity():
    finding = Finding("x", "ok", "t")
    with pytest.raises(AttributeError):
        finding.code = "y"
    with pytest.raises(ValueError):
        Finding("x", "fatal", "t")
    assert finding.to_dict() == {"code": "x", "severity": "ok", "title": "t", "detail": "", "fix": ""}


# --- format variants seen in public reports, values composed (fixtures/format_*, see README.md) ---


def test_format_mismatch_after_upgrade_without_reboot():
    """nvidia-smi and /proc/driver/nvidia/version composed in the format a host shows after a driver upgrade without reboot."""
    raw = healthy(nvidia_smi=failed(fx("format_nvidia_smi_mismatch_575.txt"), rc=18),
                  **{"/proc/driver/nvidia/version": fx("format_proc_version_575.txt")})
    findings = diagnose(raw)
    assert codes(findings, "error") == ["driver-mismatch"]
    detail = by_code(findings, "driver-mismatch").detail
    assert "Failed to initialize NVML: Driver/library version mismatch" in detail and "575.57.08" in detail


@pytest.mark.parametrize("modinfo, code, says", [
    ("format_modinfo_nvidia_unsigned_akmods_515.txt", "secure-boot-unsigned", "5.19.16-200.fc36.x86_64"),
    ("format_modinfo_nvidia_signed_local_470.txt", "secure-boot-rejected", "Local build for nvidia-gfxG05"),
])
def test_format_secure_boot_enabled_blocks_the_module(modinfo, code, says):
    raw = healthy(mokutil=ok(fx("format_mokutil_enabled.txt")), modinfo=ok(fx(modinfo)),
                  nvidia_smi=failed(fx("nvidia_smi_no_driver.txt"), rc=9), **{"/proc/driver/nvidia/version": None})
    findings = diagnose(raw)
    assert codes(findings, "error") == [code]
    assert says in findings[0].detail


def test_format_secure_boot_disabled_in_setup_mode_is_not_a_finding():
    raw = healthy(mokutil=ok(fx("format_mokutil_disabled_setup_mode.txt")),
                  modinfo=ok(fx("format_modinfo_nvidia_unsigned_akmods_515.txt")),
                  nvidia_smi=failed(fx("nvidia_smi_no_driver.txt"), rc=9), **{"/proc/driver/nvidia/version": None})
    assert not [c for c in codes(diagnose(raw)) if c.startswith("secure-boot")]


def test_format_lspci_a100_with_a_working_driver():
    findings = diagnose(healthy(lspci=ok(fx("format_lspci_a100.txt"))))
    assert codes(findings, "error") == [] and findings[0].code == "driver-ok"


def test_format_lspci_laptop_without_driver_names_both_gpus():
    raw = healthy(lspci=ok(fx("format_lspci_laptop_igpu_two_nvidia.txt")), nvidia_smi=None, dpkg=failed(),
                  dkms=None, modinfo=failed(fx("modinfo_not_found.txt")), **{"/proc/driver/nvidia/version": None})
    missing = by_code(diagnose(raw), "driver-missing")
    assert "GeForce MX130" in missing.detail and "GeForce RTX 2060" in missing.detail


def test_format_precompiled_550_server_modules_need_no_dkms_or_headers():
    raw = healthy(kernel="6.8.0-52-generic", dpkg=ok(fx("format_dpkg_l_550_server_precompiled.txt")),
                  dkms=ok(fx("format_dkms_status_with_errors_570.txt")))
    found = codes(diagnose(raw))
    assert not {"headers-missing", "dkms-not-built", "module-missing"} & set(found)


# ---------------------------------------------------------------- RHEL family (Rocky Linux / AlmaLinux)
# rpm output in the probe's own format (`rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n'`), written by hand from
# NVIDIA's RHEL 9 package names (nvidia-driver module stream 550-dkms); not recorded on a real host.
EL9_KERNEL = "5.14.0-427.13.1.el9_4.x86_64"
EL9_RPMS = ("nvidia-driver\t550.54.15-1.el9\nnvidia-driver-cuda\t550.54.15-1.el9\n"
            "kmod-nvidia-latest-dkms\t550.54.15-1.el9\ndkms\t3.0.13-1.el9\n")


def rhel(**changes) -> dict:
    raw = healthy(kernel=EL9_KERNEL, dpkg=None, apt_holds=None, dkms=ok(
        f"nvidia/550.54.15, {EL9_KERNEL}, x86_64: installed\n"))
    raw["commands"]["rpm"] = ok(EL9_RPMS + f"kernel-devel\t{EL9_KERNEL.rsplit('.', 1)[0]}\n")
    raw["commands"]["dnf_holds"] = ok("nvidia-driver-3:550.54.15-1.el9.*\nnvidia-driver-cuda-3:550.54.15-1.el9.*\n"
                                      "kmod-nvidia-latest-dkms-3:550.54.15-1.el9.*\n")
    for key, value in changes.items():
        raw["commands"][key] = value
    return raw


def test_rhel_host_reads_rpm_and_versionlock():
    host = read_facts(rhel())
    assert host.family == "rhel" and {p.name for p in host.packages} >= {"nvidia-driver", "kmod-nvidia-latest-dkms"}
    assert host.holds == {"nvidia-driver", "nvidia-driver-cuda", "kmod-nvidia-latest-dkms"}
    findings = diagnose(rhel())
    assert "headers-missing" not in codes(findings) and by_code(findings, "driver-held").severity == "ok"


def test_rhel_fixes_speak_dnf():
    no_headers = diagnose(rhel(rpm=ok(EL9_RPMS), dnf_holds=ok("")))
    headers = by_code(no_headers, "headers-missing")
    assert headers.fix.startswith(f"sudo dnf install -y kernel-devel-{EL9_KERNEL} && sudo dkms autoinstall")
    assert by_code(no_headers, "driver-not-held").fix.startswith("sudo dnf versionlock add ")
    nouveau = by_code(diagnose(rhel(lsmod=ok(fx("lsmod_nvidia.txt") + "nouveau 2539520 0\n"))), "nouveau-loaded")
    assert "sudo dracut --force" in nouveau.fix and "update-initramfs" not in nouveau.fix
    every_fix = " ".join(f.fix + f.detail for f in no_headers)
    assert "apt" not in every_fix and "dpkg" not in every_fix
