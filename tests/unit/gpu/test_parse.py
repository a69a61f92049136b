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


# --- format variants seen in public reports, values composed (fixtures/format_*, see README.md) ---


def test_format_lspci_laptop_with_two_nvidia_gpus_and_intel_igpu():
    devices = parse.parse_lspci(fx("format_lspci_laptop_igpu_two_nvidia.txt"))
    assert len(devices) == 4
    gpus = [(d.slot, d.class_code, d.device, d.name) for d in devices if d.is_nvidia_gpu]
    assert gpus == [("01:00.0", "0302", "174d", "NVIDIA Corporation GM108M [GeForce MX130]"),
                    ("0c:00.0", "0300", "1f08", "NVIDIA Corporation TU106 [GeForce RTX 2060]")]
    assert devices[0] == parse.PciDevice("00:02.0", "0300", "8086", "9bc4", "Intel Corporation Device")


def test_format_lspci_a100_sxm4():
    (gpu,) = parse.parse_lspci(fx("format_lspci_a100.txt"))
    assert gpu == parse.PciDevice("4b:00.0", "0302", "10de", "20b0", "NVIDIA Corporation GA100 [A100 SXM4 40GB]")
    assert gpu.is_nvidia_gpu


def test_format_nvidia_smi_mismatch():
    result = parse.parse_nvidia_smi(fx("format_nvidia_smi_mismatch_575.txt"))
    assert result.mismatch and not result.gpus
    assert result.error.splitlines() == ["Failed to initialize NVML: Driver/library version mismatch",
                                         "NVML library version: 575.64"]


def test_format_nvidia_smi_csv_with_header_and_index_last():
    fields = "compute_cap,compute_mode,driver_version,name,index"
    result = parse.parse_nvidia_smi(fx("format_nvidia_smi_csv_header_index_last.txt"), fields)
    assert result.error is None and not result.mismatch
    assert [(g.index, g.name, g.compute_cap, g.driver_version) for g in result.gpus] == [
        (0, "NVIDIA RTX A6000", "8.6", "560.35.03"), (1, "NVIDIA H100 80GB HBM3", "9.0", "560.35.03")]


@pytest.mark.parametrize("name, module", [
    ("format_proc_version_575.txt", parse.KernelModule("575.57.08", False)),
    ("format_proc_version_390.txt", parse.KernelModule("390.157", False)),
    ("format_proc_version_open_570.txt", parse.KernelModule("570.133.07", True)),
    ("format_proc_version_open_aarch64_jetson.txt", parse.KernelModule("35.4.1", True)),
])
def test_format_proc_driver_version(name, module):
    assert parse.parse_proc_version(fx(name)) == module


def test_format_mokutil():
    assert parse.parse_mokutil(fx("format_mokutil_enabled.txt")) is True
    assert parse.parse_mokutil(fx("format_mokutil_disabled_setup_mode.txt")) is False


def test_format_modinfo_signed_and_unsigned():
    signed = parse.parse_modinfo(fx("format_modinfo_nvidia_signed_local_470.txt"))
    assert signed["signer"] == "Local build for nvidia-gfxG05 470.223.02 on 2023-11-02"
    assert signed["version"] == "470.223.02" and signed["sig_hashalgo"] == "sha256"
    assert signed["signature"].startswith("F5:F7:9F") and "A5:4D:CA" not in signed["signature"]
    unsigned = parse.parse_modinfo(fx("format_modinfo_nvidia_unsigned_akmods_515.txt"))
    assert unsigned["filename"] == "/usr/lib/modules/5.19.16-200.fc36.x86_64/extra/nvidia/nvidia.ko.xz"
    assert unsigned["version"] == "515.76" and "signer" not in unsigned and unsigned["depends"] == ""


def test_format_dpkg_list_output():
    packages = parse.parse_dpkg(fx("format_dpkg_l_with_header_510.txt"))
    assert [(p.name, p.status) for p in packages][:3] == [("libgldispatch0-nvidia", "un"),
                                                          ("libnvidia-cfg1-510", "ii"),
                                                          ("libnvidia-cfg1-any", "un")]
    installed = [(p.name, p.upstream) for p in packages if p.installed]
    assert installed == [("libnvidia-cfg1-510", "510.108.03"), ("libnvidia-common-495", "495.46"),
                         ("libnvidia-common-510", "510.108.03")]  # "rc" (removed, config files left) is not
    assert packages[0].version == "" and packages[-1].status == "rc"


def test_format_dpkg_list_precompiled_550_server():
    packages = parse.parse_dpkg(fx("format_dpkg_l_550_server_precompiled.txt"))
    assert len(packages) == 7 and all(p.installed for p in packages)
    names = {p.name: p.version for p in packages}
    assert names["linux-modules-nvidia-550-server-6.8.0-52-generic"] == "6.8.0-52.53+1"
    assert names["libnvidia-compute-550-server"] == "550.144.03-0ubuntu0.24.04.1"


def test_format_dkms_status_new_and_old_format():
    entries = parse.parse_dkms(fx("format_dkms_status_with_errors_570.txt"))  # its "Error! ..." lines are skipped
    assert [(e.module, e.version, e.kernel, e.state) for e in entries] == [
        ("nvidia", "570.153.02", "6.9.3-76060903-generic", "installed"),
        ("nvidia", "570.153.02", "6.12.10-76061203-generic", "installed")]
    (old,) = parse.parse_dkms(fx("format_dkms_status_old_460.txt"))
    assert old == parse.DkmsEntry("nvidia", "460.106.00", "5.11.0-40-generic", "x86_64", "installed")
