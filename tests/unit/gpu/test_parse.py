"""Parsers against recorded command outputs (tests/unit/gpu/fixtures, see README.md there)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.gpu import parse

FIXTURES = Path(__file__).parent / "fixtures"


def fx(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_lspci_finds_the_a100_among_virtio_devices():
    devices = parse.parse_lspci(fx("lspci_a100_vm.txt"))
    assert len(devices) == 7
    gpus = [d for d in devices if d.is_nvidia_gpu]
    assert gpus == [parse.PciDevice("00:04.0", "0302", "10de", "20b0", "NVIDIA Corporation GA100 [A100 SXM4 40GB]")]


def test_lspci_vga_gpu_counts_and_its_audio_function_does_not():
    devices = parse.parse_lspci(fx("lspci_rtx4090_workstation.txt"))
    nvidia = [d for d in devices if d.vendor == "10de"]
    assert [(d.slot, d.class_code, d.is_nvidia_gpu) for d in nvidia] == [("01:00.0", "0300", True),
                                                                         ("01:00.1", "0403", False)]
    assert "GeForce RTX 4090" in nvidia[0].name


@pytest.mark.parametrize("text", [fx("lspci_no_gpu_vm.txt"), "", None, "garbage line\n"])
def test_lspci_without_nvidia(text):
    assert not [d for d in parse.parse_lspci(text) if d.is_nvidia_gpu]


def test_sysfs_of_this_machine_has_no_nvidia_gpu():
    devices = parse.parse_sysfs_pci(json.loads(fx("sysfs_pci_this_machine.json")))
    assert devices and not [d for d in devices if d.is_nvidia_gpu]


def test_sysfs_entry_of_an_nvidia_3d_controller():
    entry = {"slot": "0000:00:04.0", "vendor": "0x10de", "device": "0x20b0", "class": "0x030200", "driver": "vfio-pci"}
    (device,) = parse.parse_sysfs_pci([entry])
    assert device.is_nvidia_gpu and device.driver == "vfio-pci" and device.class_code == "0302"


def test_nvidia_smi_csv():
    result = parse.parse_nvidia_smi(fx("nvidia_smi_2xa100.csv.txt"))
    assert result.error is None and not result.mismatch
    assert [(g.index, g.bus_id, g.compute_cap) for g in result.gpus] == [(0, "00000000:07:00.0", "8.0"),
                                                                          (1, "00000000:0F:00.0", "8.0")]
    assert result.gpus[0].name == "NVIDIA A100-SXM4-80GB" and result.gpus[0].driver_version == "550.54.15"
    assert result.gpus[0].memory == "81920 MiB"


def test_nvidia_smi_without_compute_cap_field():
    result = parse.parse_nvidia_smi("0, Tesla V100-SXM2-16GB, 00000000:00:1E.0, 470.82.01, 16160 MiB\n",
                                    "index,name,pci.bus_id,driver_version,memory.total")
    assert result.gpus[0].compute_cap is None and result.gpus[0].driver_version == "470.82.01"


def test_nvidia_smi_mismatch_and_other_errors():
    mismatch = parse.parse_nvidia_smi(fx("nvidia_smi_mismatch.txt"))
    assert mismatch.mismatch and not mismatch.gpus
    assert mismatch.error.startswith("Failed to initialize NVML: Driver/library version mismatch")
    for name in ("nvidia_smi_no_driver.txt", "nvidia_smi_no_devices.txt"):
        result = parse.parse_nvidia_smi(fx(name))
        assert result.error and not result.mismatch and not result.gpus


def test_proc_driver_version_proprietary_and_open():
    assert parse.parse_proc_version(fx("proc_driver_nvidia_version_550.txt")) == parse.KernelModule("550.54.15", False)
    assert parse.parse_proc_version(fx("proc_driver_nvidia_version_open_570.txt")) == parse.KernelModule(
        "570.124.06", True)
    assert parse.parse_proc_version(None) is None


def test_modinfo_signed_unsigned_missing():
    signed = parse.parse_modinfo(fx("modinfo_nvidia_signed.txt"))
    assert signed["version"] == "550.54.15"
    assert signed["signer"] == "gpu01 Secure Boot Module Signature key"
    assert signed["filename"].endswith("/updates/dkms/nvidia.ko")
    assert "signer" not in parse.parse_modinfo(fx("modinfo_nvidia_unsigned.txt"))
    assert parse.parse_modinfo(fx("modinfo_not_found.txt")) == {}


@pytest.mark.parametrize("name, expected", [("mokutil_enabled.txt", True), ("mokutil_disabled.txt", False),
                                            ("mokutil_unsupported.txt", False)])
def test_mokutil(name, expected):
    assert parse.parse_mokutil(fx(name)) is expected


def test_mokutil_unknown():
    assert parse.parse_mokutil("EFI variables are not supported on this system\n") is None
    assert parse.parse_mokutil(None) is None


def test_dpkg_query_status_and_upstream_version():
    packages = {p.name: p for p in parse.parse_dpkg(fx("dpkg_query_ubuntu2204_550_dkms.txt"))}
    assert packages["nvidia-driver-550"].installed
    assert packages["nvidia-driver-550"].upstream == "550.54.15"
    assert not packages["nvidia-driver-535"].installed
    assert packages["linux-headers-5.15.0-97-generic"].installed
    held = parse.parse_dpkg("hi \tnvidia-driver-550\t550.54.15-0ubuntu0.22.04.1\n")[0]
    assert held.held and held.installed


def test_dpkg_query_default_format():
    (pkg,) = parse.parse_dpkg("nvidia-driver-550\t550.54.15-0ubuntu1\n")
    assert pkg.installed and pkg.version == "550.54.15-0ubuntu1"


def test_dkms_status_formats():
    (new,) = parse.parse_dkms(fx("dkms_status_installed.txt"))
    assert new == parse.DkmsEntry("nvidia", "550.54.15", "5.15.0-97-generic", "x86_64", "installed")
    added = parse.parse_dkms(fx("dkms_status_other_kernel.txt"))[1]
    assert (added.kernel, added.state) == (None, "added")
    (old,) = parse.parse_dkms(fx("dkms_status_old_format.txt"))
    assert (old.module, old.version, old.kernel) == ("nvidia", "470.82.00", "5.4.0-91-generic")


def test_modules_from_proc_and_lsmod():
    assert "nouveau" in parse.parse_modules(fx("proc_modules_nouveau.txt"))
    loaded = parse.parse_modules(fx("lsmod_nvidia.txt"))
    assert {"nvidia", "nvidia_uvm"} <= loaded and "Module" not in loaded


def test_docker_runtimes():
    assert "nvidia" not in parse.parse_docker_runtimes(fx("docker_runtimes_this_machine.json"), None)
    assert "nvidia" in parse.parse_docker_runtimes(fx("docker_runtimes_nvidia.json"), None)
    assert parse.parse_docker_runtimes(None, fx("daemon_json_nvidia_ctk.json")) == {"nvidia"}
    assert parse.parse_docker_runtimes(None, None) is None
    assert parse.parse_docker_runtimes("not json", None) is None


def test_holds():
    assert "nvidia-driver-550" in parse.parse_holds(fx("apt_mark_showhold.txt"))
    assert parse.parse_holds("") == frozenset()
