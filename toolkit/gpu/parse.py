"""Pure parsers: raw command outputs gathered by toolkit.gpu.probe -> typed values.

Every function takes text (or None for an absent command/file) and never raises on
unexpected input: what it cannot read it leaves out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from toolkit.model.host_probes import GPU_CLASSES, NVIDIA_VENDOR  # noqa: F401 - re-exported

NVML_MISMATCH = "Driver/library version mismatch"

_LSPCI = re.compile(r"^(?P<slot>\S+)\s+(?P<kind>.*?)\s+\[(?P<cls>[0-9a-f]{4})\]:\s+(?P<name>.*?)\s*"
                    r"\[(?P<vendor>[0-9a-f]{4}):(?P<device>[0-9a-f]{4})\]", re.IGNORECASE)
_PROC_VERSION = re.compile(r"^NVRM version:(?P<head>.*?Kernel Module.*?)\s+(?P<version>\d+\.\d+(?:\.\d+)?)\s",
                           re.MULTILINE)
_VERSION_PREFIX = re.compile(r"^(?:\d+:)?(\d+\.\d+(?:\.\d+)?)")
# `dpkg -l` rows ("ii  libnvidia-cfg1-510:amd64  510.47.03-0ubuntu1  amd64  ..."), as people paste them
_DPKG_LIST = re.compile(r"^(?P<status>[uihrp][ncHUFWti]R?)\s+(?P<name>[^\s:]+)(?::\S+)?\s+(?P<version>\S+)\s")


@dataclass(frozen=True)
class PciDevice:
    slot: str
    class_code: str  # 4 hex digits, e.g. "0302"
    vendor: str      # 4 hex digits, e.g. "10de"
    device: str
    name: str = ""
    driver: str | None = None  # kernel driver bound to it (sysfs only)

    @property
    def is_nvidia_gpu(self) -> bool:
        return self.vendor == NVIDIA_VENDOR and self.class_code in GPU_CLASSES


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    bus_id: str
    driver_version: str
    compute_cap: str | None  # "8.0"; None when the driver cannot report it
    memory: str


@dataclass(frozen=True)
class SmiResult:
    gpus: tuple[Gpu, ...] = ()
    error: str | None = None  # nvidia-smi's own message when it failed

    @property
    def mismatch(self) -> bool:
        return bool(self.error and NVML_MISMATCH in self.error)


@dataclass(frozen=True)
class KernelModule:
    version: str
    open: bool  # the open GPU kernel modules (Turing and newer only)


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    status: str = "ii"  # dpkg's db:Status-Abbrev (first letter "h" = held)

    @property
    def installed(self) -> bool:
        return len(self.status) > 1 and self.status[1] in "iWt"  # installed (maybe triggers pending)

    @property
    def held(self) -> bool:
        return self.status[:1] == "h"

    @property
    def upstream(self) -> str | None:
        """"550.54.15-0ubuntu0.22.04.1" -> "550.54.15"."""
        m = _VERSION_PREFIX.match(self.version)
        return m.group(1) if m else None


@dataclass(frozen=True)
class DkmsEntry:
    module: str
    version: str
    kernel: str | None
    arch: str | None
    state: str  # "installed", "built", "added", possibly with a WARNING/error suffix


def parse_lspci(text: str | None) -> tuple[PciDevice, ...]:
    """`lspci -nn` lines -> devices (all vendors; filter with .is_nvidia_gpu)."""
    devices = []
    for line in (text or "").splitlines():
        m = _LSPCI.match(line)
        if m:
            devices.append(PciDevice(m["slot"], m["cls"].lower(), m["vendor"].lower(), m["device"].lower(),
                                     m["name"]))
    return tuple(devices)


def parse_sysfs_pci(entries: list[dict] | None) -> tuple[PciDevice, ...]:
    """/sys/bus/pci/devices/*/{vendor,device,class} ("0x10de", "0x030200") -> devices."""
    devices = []
    for e in entries or ():
        vendor, device, cls = (str(e.get(k) or "").lower().removeprefix("0x") for k in ("vendor", "device", "class"))
        if len(vendor) == 4 and len(cls) >= 4:
            devices.append(PciDevice(str(e.get("slot", "")), cls[:4], vendor, device, driver=e.get("driver")))
    return tuple(devices)


def parse_nvidia_smi(text: str | None, fields: str = "") -> SmiResult:
    """`nvidia-smi --query-gpu=... --format=csv,noheader` output (or its error) -> SmiResult."""
    names = [f.strip() for f in (fields or "index,name,pci.bus_id,driver_version,compute_cap,memory.total").split(",")]
    gpus, other = [], []
    for line in (text or "").splitlines():
        cells = [c.strip() for c in line.split(",")]
        row = dict(zip(names, cells, strict=False))
        if len(cells) == len(names) and row.get("index", "").isdigit():  # any column order; skips a csv header
            cc = row.get("compute_cap")
            gpus.append(Gpu(int(row["index"]), row.get("name", ""), row.get("pci.bus_id", ""),
                            row.get("driver_version", ""), cc if cc and cc[0].isdigit() else None,
                            row.get("memory.total", "")))
        elif line.strip():
            other.append(line.strip())
    return SmiResult(tuple(gpus), "\n".join(other) if other and not gpus else None)


def parse_proc_version(text: str | None) -> KernelModule | None:
    """/proc/driver/nvidia/version -> the loaded kernel module's version and flavour."""
    m = _PROC_VERSION.search(text or "")
    return KernelModule(m["version"], "Open Kernel Module" in m["head"]) if m else None


def parse_modinfo(text: str | None) -> dict[str, str]:
    """`modinfo nvidia` -> {field: first value}; signature continuation lines are dropped."""
    fields: dict[str, str] = {}
    for line in (text or "").splitlines():
        if line[:1].isspace() or ":" not in line:
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields if "filename" in fields else {}


def parse_mokutil(text: str | None) -> bool | None:
    """`mokutil --sb-state` -> True (enabled), False (disabled or no Secure Boot), None (unknown)."""
    for line in (text or "").splitlines():
        line = line.strip().lower()
        if line.startswith("secureboot enabled"):
            return True
        if line.startswith("secureboot disabled") or "doesn't support secure boot" in line:
            return False
    return None


def parse_dpkg(text: str | None) -> tuple[Package, ...]:
    """`dpkg-query -W -f='${db:Status-Abbrev}\\t${Package}\\t${Version}\\n'` (or plain -W, or `dpkg -l`) lines."""
    packages = []
    for line in (text or "").splitlines():
        cells = line.split("\t")
        listed = _DPKG_LIST.match(line) if len(cells) == 1 else None
        if listed:
            version = listed["version"]
            packages.append(Package(listed["name"], "" if version == "<none>" else version, listed["status"]))
            continue
        if len(cells) == 3 and cells[1]:
            packages.append(Package(cells[1].strip(), cells[2].strip(), cells[0].strip()))
        elif len(cells) == 2 and cells[0]:
            version = cells[1].strip()
            packages.append(Package(cells[0].strip(), version, "ii" if version else "un"))
    return tuple(packages)


def parse_rpm(text: str | None) -> tuple[Package, ...]:
    """`rpm -qa --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\n'` lines (every one installed)."""
    packages = []
    for line in (text or "").splitlines():
        name, sep, version = line.partition("\t")
        if sep and name.strip():
            packages.append(Package(name.strip(), version.strip()))
    return tuple(packages)


def parse_versionlock(text: str | None) -> frozenset[str]:
    """`dnf versionlock list` ("nvidia-driver-3:550.54.15-1.el9.*") -> locked package names."""
    names = set()
    for line in (text or "").splitlines():
        m = re.match(r"^(?:!)?(?P<name>.+?)-(?:\d+:)?[^-]+-[^-]+$", line.strip())
        if m:
            names.add(m["name"])
    return frozenset(names)


def parse_dkms(text: str | None) -> tuple[DkmsEntry, ...]:
    """`dkms status`, both "nvidia/550.54.15, 6.5.0-21-generic, x86_64: installed" (dkms >= 2.8)
    and "nvidia, 470.82.00, 5.4.0-91-generic, x86_64: installed" (older)."""
    entries = []
    for line in (text or "").splitlines():
        left, sep, state = line.partition(": ")
        if not sep:
            continue
        parts = [p.strip() for p in left.split(",")]
        if "/" in parts[0]:
            parts = parts[0].split("/", 1) + parts[1:]
        if len(parts) >= 2:
            padded: list[str | None] = [*parts, None, None]   # kernel and arch may be absent
            entries.append(DkmsEntry(parts[0], parts[1], padded[2], padded[3], state.strip()))
    return tuple(entries)


def parse_modules(text: str | None) -> frozenset[str]:
    """/proc/modules or `lsmod` -> loaded module names."""
    names = (line.split()[0] for line in (text or "").splitlines() if line.strip())
    return frozenset(n for n in names if n != "Module")


def parse_holds(text: str | None) -> frozenset[str]:
    """`apt-mark showhold` -> held package names."""
    return frozenset(line.strip() for line in (text or "").splitlines() if line.strip())


def parse_docker_runtimes(info_json: str | None, daemon_json: str | None) -> frozenset[str] | None:
    """Runtime names from `docker info --format '{{json .Runtimes}}'` and daemon.json's
    "runtimes"; None when neither could be read (no Docker)."""
    names: set[str] = set()
    seen = False
    for text, pick in ((info_json, lambda d: d), (daemon_json, lambda d: d.get("runtimes"))):
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            continue
        if isinstance(doc, dict):
            seen = True
            runtimes = pick(doc)
            names.update(runtimes if isinstance(runtimes, dict) else ())
    return frozenset(names) if seen else None


@dataclass(frozen=True)
class Host:
    """The parsed view of one probe run (toolkit.gpu.probe.gather)."""

    kernel: str
    container: bool
    gpus_pci: tuple[PciDevice, ...]      # NVIDIA GPUs on the PCI bus
    smi: SmiResult | None                # None: nvidia-smi is not installed
    module: KernelModule | None          # None: the nvidia kernel module is not loaded
    modules: frozenset[str]
    modinfo: dict[str, str]
    secure_boot: bool | None
    packages: tuple[Package, ...] | None  # installed only; None: neither dpkg nor rpm
    dkms: tuple[DkmsEntry, ...] | None    # None: no dkms
    runtimes: frozenset[str] | None
    holds: frozenset[str]
    dev_nvidia: tuple[str, ...]
    env: dict[str, str | None]
    shm_bytes: int | None
    python: str | None
    frameworks: dict[str, dict]           # "torch"/"tensorflow" -> {version, cuda, arch_list} or {error}
    frameworks_error: str | None = None
    family: str = "debian"                # the package database that answered: "debian" (dpkg) or "rhel" (rpm)


def _out(raw: dict, name: str, ok_only: bool = True) -> str | None:
    result = (raw.get("commands") or {}).get(name)
    if result is None or (ok_only and result.get("rc") != 0):
        return None
    return (result.get("out") or "") + ("" if ok_only else result.get("err") or "")


def _frameworks(raw: dict) -> tuple[dict, str | None]:
    """The --python interpreter's report: ({name: info}, None) or ({}, why it failed)."""
    fw = (raw.get("commands") or {}).get("frameworks")
    if not raw.get("python"):
        return {}, None
    if fw is None:
        return {}, f"{raw['python']}: not found"
    try:
        doc = json.loads(fw.get("out") or "") if fw.get("rc") == 0 else None
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        return doc, None
    return {}, (fw.get("err") or fw.get("out") or "").strip()[-500:] or f"exit status {fw.get('rc')}"


def read_facts(raw: dict) -> Host:
    """Raw probe output -> Host. lspci is preferred; sysfs is the fallback without it."""
    files, cmds = raw.get("files") or {}, raw.get("commands") or {}
    lspci = _out(raw, "lspci")
    sysfs = parse_sysfs_pci(raw.get("pci_sysfs"))
    pci = parse_lspci(lspci) if lspci is not None else sysfs
    smi_text = _out(raw, "nvidia_smi", ok_only=False)
    secure_boot = parse_mokutil(_out(raw, "mokutil", ok_only=False))
    if secure_boot is None and raw.get("secure_boot_efivar") is not None:
        secure_boot = raw["secure_boot_efivar"] == 1
    dpkg, rpm = cmds.get("dpkg"), cmds.get("rpm")
    frameworks, fw_error = _frameworks(raw)
    family = "rhel" if dpkg is None and rpm is not None else "debian"
    if family == "rhel":
        packages: tuple[Package, ...] | None = parse_rpm(_out(raw, "rpm"))
        holds = parse_versionlock(_out(raw, "dnf_holds"))
    else:
        packages = tuple(p for p in parse_dpkg(dpkg.get("out")) if p.installed) if dpkg else None
        holds = parse_holds(_out(raw, "apt_holds"))
    return Host(
        kernel=str(raw.get("kernel") or ""),
        container=bool(raw.get("container")),
        gpus_pci=tuple(d for d in pci if d.is_nvidia_gpu),
        smi=parse_nvidia_smi(smi_text, raw.get("smi_fields") or "") if smi_text is not None else None,
        module=parse_proc_version(files.get("/proc/driver/nvidia/version")),
        modules=parse_modules(files.get("/proc/modules") or _out(raw, "lsmod")),
        modinfo=parse_modinfo(_out(raw, "modinfo")),
        secure_boot=secure_boot,
        packages=packages,
        dkms=parse_dkms(_out(raw, "dkms")) if cmds.get("dkms") else None,
        runtimes=parse_docker_runtimes(_out(raw, "docker_runtimes"), files.get("/etc/docker/daemon.json")),
        holds=holds,
        dev_nvidia=tuple(raw.get("dev_nvidia") or ()),
        env=dict(raw.get("env") or {}),
        shm_bytes=raw.get("shm_bytes"),
        python=raw.get("python"),
        frameworks=frameworks,
        frameworks_error=fw_error,
        family=family,
    )
