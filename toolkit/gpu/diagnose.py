"""Pure diagnosis: probe facts -> ordered findings, in the order GPU hosts fail in the field.

PCI device -> visibility -> nouveau -> Secure Boot -> headers/DKMS -> driver/library mismatch ->
driver state -> driver vs framework CUDA -> GPU architecture vs wheel -> /dev/shm -> Docker
runtime -> package holds. Every non-ok finding says what to do next in ``fix``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import asdict, dataclass

from toolkit import compat

from .parse import Host, read_facts

SEVERITIES = ("error", "warning", "info", "ok")
SHM_MIN = 1 << 30
DRIVER_PREFIXES = ("nvidia-driver", "nvidia-headless", "nvidia-dkms", "nvidia-kernel", "nvidia-utils",
                   "nvidia-open", "libnvidia-compute", "linux-modules-nvidia", "cuda-drivers", "kmod-nvidia")
USERSPACE_PREFIXES = ("libnvidia-compute", "nvidia-utils")
_ARCH = re.compile(r"^(sm|compute)_(\d+)(\d)([a-z]?)$")
REBOOT_FIX = ("reboot (sudo reboot). Without a reboot, once no process uses the GPU: "
              "sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && sudo modprobe nvidia")


@dataclass(frozen=True)
class Commands:
    """What a fix tells the user to run, in the host's package manager's terms."""

    install: str          # followed by package names
    hold: str             # followed by package names
    initramfs: str        # rebuild the initramfs (after a modprobe.d change)
    headers: str          # the kernel headers package, {kernel} filled in
    smi: str              # the package with nvidia-smi, {branch} filled in
    module_fix: str       # no module for the running kernel, {branch} and {kernel} filled in
    signed_fix: str       # Secure Boot refuses the module, {branch} and {kernel} filled in
    ctk_repo: str         # NVIDIA's container toolkit repository for this family
    upgrader: str         # what upgrades packages behind the user's back


COMMANDS = {
    "debian": Commands(
        install="sudo apt-get install", hold="sudo apt-mark hold", initramfs="sudo update-initramfs -u",
        headers="linux-headers-{kernel}", smi="nvidia-utils-{branch}-server",
        module_fix="sudo apt-get install linux-modules-nvidia-{branch}-server-{kernel}, or boot the previous kernel",
        signed_fix=("use Canonical's signed precompiled module: sudo apt-get install "
                    "linux-modules-nvidia-{branch}-server-{kernel}; or enroll the DKMS signing key: "
                    "sudo mokutil --import /var/lib/shim-signed/mok/MOK.der, reboot and confirm it at the "
                    "MOK manager on the console; or turn Secure Boot off in the firmware"),
        ctk_repo="nvidia.github.io/libnvidia-container/stable/deb", upgrader="unattended-upgrades"),
    # Rocky Linux / AlmaLinux 8 and 9: NVIDIA's CUDA repository with the nvidia-driver module streams.
    "rhel": Commands(
        install="sudo dnf install -y", hold="sudo dnf versionlock add", initramfs="sudo dracut --force",
        headers="kernel-devel-{kernel}", smi="nvidia-driver-cuda",
        module_fix=("sudo dnf module install nvidia-driver:{branch}-open (precompiled modules where NVIDIA "
                    "built them for this kernel) or nvidia-driver:{branch}-dkms with kernel-devel-{kernel} "
                    "(EPEL's dkms), or boot the previous kernel"),
        signed_fix=("enroll the DKMS signing key: sudo mokutil --import /var/lib/dkms/mok.pub, reboot and "
                    "confirm it at the MOK manager on the console (NVIDIA's precompiled kmods need NVIDIA's "
                    "key enrolled the same way); or turn Secure Boot off in the firmware"),
        ctk_repo="nvidia.github.io/libnvidia-container/stable/rpm", upgrader="dnf-automatic or a dnf upgrade"),
}


def _cmd(host: Host) -> Commands:
    return COMMANDS.get(host.family, COMMANDS["debian"])


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "error" | "warning" | "info" | "ok"
    title: str
    detail: str = ""
    fix: str = ""

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")

    def to_dict(self) -> dict:
        return asdict(self)


def diagnose(raw: dict) -> list[Finding]:
    """Facts gathered by toolkit.gpu.probe.gather -> findings, earliest failure first."""
    host = read_facts(raw)
    if not host.gpus_pci:
        return [Finding("no-gpu", "info", "no NVIDIA GPU",
                        "no PCI device of vendor 10de with a display/3D class; driver, CUDA and "
                        "container-runtime checks are skipped and toolkit installs no driver here")] + _shm(host)
    found = _visibility(host) + _nouveau(host) + _secure_boot(host) + _kernel_build(host) + _mismatch(host)
    found += _driver_state(host, blocked=any(f.severity == "error" for f in found))
    for name, info in host.frameworks.items():
        found += _framework(host, name, info)
    if host.frameworks_error:
        found.append(Finding("python-probe-failed", "warning", f"could not inspect {host.python}",
                             host.frameworks_error, "give --python the venv's interpreter, e.g. /opt/venv/bin/python"))
    return found + _shm(host) + _docker(host) + _holds(host)


def _driver_version(host: Host) -> str | None:
    if host.smi and host.smi.gpus:
        return host.smi.gpus[0].driver_version
    return host.module.version if host.module else None


def _vt(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))


def _installed(host: Host, prefixes: tuple[str, ...]) -> list:
    return [p for p in host.packages or () if p.name.startswith(prefixes)]


def _visibility(host: Host) -> list[Finding]:
    found = []
    hiding = {k: v for k, v in host.env.items() if v is not None and v.strip().lower() in ("", "-1", "none", "void")}
    if hiding:
        found.append(Finding("gpu-hidden-env", "warning", "GPUs hidden by the environment",
                             ", ".join(f"{k}={v!r}" for k, v in hiding.items()) + " hides every GPU from CUDA",
                             "unset it (check ~/.bashrc, /etc/environment and sshd's SetEnv/AcceptEnv)"))
    vfio = [d.slot for d in host.gpus_pci if d.driver == "vfio-pci"]
    if vfio:
        found.append(Finding("gpu-vfio", "error", "GPU bound to vfio-pci (passthrough)",
                             f"{', '.join(vfio)} belongs to vfio-pci, so the nvidia driver cannot use it",
                             "remove the GPU's ids from vfio-pci.ids on the kernel command line / "
                             f"modprobe.d, {_cmd(host).initramfs.removeprefix('sudo ')} and reboot"))
    if host.container and not host.dev_nvidia:
        found.append(Finding("gpu-hidden", "error", "GPU present but hidden from this container",
                             "the PCI bus shows an NVIDIA GPU, but there is no /dev/nvidia* device here",
                             "start the container with GPU access: docker run --gpus all ... "
                             "(or --device nvidia.com/gpu=all with CDI); the host needs nvidia-container-toolkit"))
    elif host.module and host.smi and not host.smi.gpus and not host.smi.mismatch:
        found.append(Finding("gpu-hidden", "error", "GPU present but nvidia-smi lists none",
                             f"the driver is loaded, yet nvidia-smi says: {host.smi.error or 'no GPUs'}",
                             "look for NVRM/Xid errors: sudo dmesg | grep -i -e nvrm -e xid (Xid 79: fallen off "
                             "the bus); a pre-Turing GPU needs the proprietary module, not nvidia-open"))
    return found


def _nouveau(host: Host) -> list[Finding]:
    if "nouveau" not in host.modules:
        return []
    return [Finding("nouveau-loaded", "error", "nouveau is loaded",
                    "the open-source nouveau driver holds the GPU, so the nvidia module cannot bind to it",
                    "printf 'blacklist nouveau\\noptions nouveau modeset=0\\n' | sudo tee "
                    f"/etc/modprobe.d/blacklist-nouveau.conf && {_cmd(host).initramfs} && sudo reboot")]


def _secure_boot(host: Host) -> list[Finding]:
    if not host.secure_boot or host.module or not host.modinfo:
        return []
    signer = host.modinfo.get("signer")
    branch = _branch(host) or "<branch>"
    signed_fix = _cmd(host).signed_fix.format(branch=branch, kernel=host.kernel)
    if not signer:
        return [Finding("secure-boot-unsigned", "error", "Secure Boot is on and the nvidia module is unsigned",
                        f"{host.modinfo.get('filename', 'nvidia.ko')} has no signature, so the kernel refuses "
                        "it ('Key was rejected by service')", signed_fix)]
    return [Finding("secure-boot-rejected", "error", "Secure Boot is on and the nvidia module is not loaded",
                    f"the module is signed by {signer!r}; that key is probably not enrolled (mokutil --list-enrolled)",
                    signed_fix)]


def _branch(host: Host) -> str | None:
    for p in _installed(host, DRIVER_PREFIXES):
        m = re.search(r"-(\d{3})(?:-|$)", p.name)
        if m:
            return m.group(1)
    if host.family == "rhel":   # NVIDIA's RPMs name no branch: the driver package's version does
        return next((p.version[:3] for p in _installed(host, ("nvidia-driver",)) if p.version[:3].isdigit()), None)
    return None


def _kernel_build(host: Host) -> list[Finding]:
    if host.container or host.packages is None:
        return []
    kernel, names, cmd = host.kernel, {p.name for p in host.packages}, _cmd(host)
    uses_dkms = any(n.startswith("nvidia-dkms") or n == "nvidia-kernel-dkms" or
                    (n.startswith("kmod-nvidia") and n.endswith("-dkms")) for n in names) or any(
        e.module == "nvidia" for e in host.dkms or ())
    if any(n.startswith("linux-modules-nvidia") and n.endswith(kernel) for n in names):
        return []  # precompiled modules for the running kernel: DKMS does not matter
    if host.family == "rhel" and any(n.startswith("kmod-nvidia") and not n.endswith("-dkms") and
                                     kernel.rsplit(".", 1)[0] in n for n in names):
        return []  # NVIDIA's precompiled kmod for the running kernel
    found = []
    headers = cmd.headers.format(kernel=kernel)
    have_headers = headers in names or (host.family == "rhel" and any(
        p.name == "kernel-devel" and kernel.startswith(p.version) for p in host.packages))
    if uses_dkms and not have_headers:
        found.append(Finding("headers-missing", "error", f"kernel headers for {kernel} are not installed",
                             f"DKMS builds the nvidia module against {cmd.headers.format(kernel='<running kernel>')}",
                             f"{cmd.install} {shlex.quote(headers)} && "
                             f"sudo dkms autoinstall -k {shlex.quote(kernel)}"))
    if uses_dkms and host.dkms is not None:
        mine = [e for e in host.dkms if e.module == "nvidia"]
        if not any(e.kernel == kernel and e.state.startswith("installed") for e in mine):
            states = "; ".join(f"{e.version} {e.kernel or ''}: {e.state}" for e in mine) or "no nvidia entry"
            found.append(Finding("dkms-not-built", "error", f"DKMS has no nvidia module built for {kernel}",
                                 f"dkms status: {states}",
                                 f"sudo dkms autoinstall -k {shlex.quote(kernel)}; if it fails, read "
                                 "/var/lib/dkms/nvidia/<version>/build/make.log"))
    elif not uses_dkms and not host.module and not host.modinfo and _installed(host, DRIVER_PREFIXES):
        found.append(Finding("module-missing", "error", f"no nvidia kernel module for {kernel}",
                             "driver packages are installed, but none provides a module for the running kernel "
                             "(typical after a kernel upgrade with precompiled modules)",
                             cmd.module_fix.format(branch=_branch(host) or "<branch>", kernel=kernel)))
    return found


def _mismatch(host: Host) -> list[Finding]:
    loaded = host.module.version if host.module else None
    user = next((p.upstream for p in _installed(host, USERSPACE_PREFIXES) if p.upstream), None)
    if host.smi and host.smi.gpus:
        user = host.smi.gpus[0].driver_version
    smi_says = host.smi.error.splitlines()[0] if host.smi and host.smi.error and host.smi.mismatch else None
    if not smi_says and not (loaded and user and loaded != user):
        return []
    detail = "; ".join(filter(None, [f"nvidia-smi: {smi_says}" if smi_says else None,
                                     f"loaded kernel module {loaded}, user-space driver {user}" if loaded and user
                                     else None]))
    return [Finding("driver-mismatch", "error", "driver/library version mismatch: reboot needed",
                    detail + f"; the driver was upgraded (often by {_cmd(host).upgrader}) without a reboot",
                    REBOOT_FIX + f"; then hold the driver packages ({_cmd(host).hold.removeprefix('sudo ')})")]


def _driver_state(host: Host, blocked: bool) -> list[Finding]:
    if host.smi and host.smi.gpus:
        kind = " (open kernel module)" if host.module and host.module.open else ""
        lines = [f"{g.index}: {g.name} (sm_{(g.compute_cap or '?').replace('.', '')}, {g.memory}) at {g.bus_id}"
                 for g in host.smi.gpus]
        return [Finding("driver-ok", "ok", f"NVIDIA driver {host.smi.gpus[0].driver_version}{kind}, "
                        f"{len(host.smi.gpus)} GPU(s)", "\n".join(lines))]
    if blocked:
        return []
    if not host.module and host.smi is None and not _installed(host, DRIVER_PREFIXES):
        return [Finding("driver-missing", "error", "NVIDIA GPU without a driver",
                        ", ".join(d.name or d.device for d in host.gpus_pci) + ": no nvidia module, nvidia-smi or "
                        "driver package", "install the NVIDIA driver for this GPU (toolkit's driver step), then reboot")]
    if not host.module:
        return [Finding("driver-not-loaded", "error", "the nvidia kernel module is not loaded",
                        "the driver is installed, but /proc/driver/nvidia/version does not exist",
                        "sudo modprobe nvidia, then read why it fails: sudo dmesg | grep -i -e nvrm -e nvidia")]
    if host.smi is None:
        return [Finding("nvidia-smi-missing", "warning", f"driver {host.module.version} loaded, nvidia-smi missing",
                        "the user-space driver utilities are not installed",
                        f"{_cmd(host).install} {_cmd(host).smi.format(branch=_branch(host) or '<branch>')}")]
    return [Finding("nvidia-smi-failed", "error", "nvidia-smi failed", host.smi.error or "",
                    "sudo dmesg | grep -i -e nvrm -e xid")]


def _framework(host: Host, name: str, info: dict) -> list[Finding]:
    label = f"{name} {info.get('version', '?')}"
    if "error" in info:
        return [Finding(f"{name}-import-failed", "warning", f"{name} does not import", str(info["error"]),
                        f"reinstall {name} in {host.python}")]
    cuda, driver = info.get("cuda"), _driver_version(host)
    if not cuda:
        return [Finding(f"{name}-cpu-build", "error", f"{label} is a CPU-only build", "it cannot use the GPU",
                        "pip install torch --index-url https://download.pytorch.org/whl/cu<XYZ>" if name == "torch"
                        else "pip install 'tensorflow[and-cuda]'")]
    found = []
    if driver:
        found += _driver_vs_cuda(label, str(cuda), driver)
    found += _arch(host, label, [str(a) for a in info.get("arch_list") or ()])
    return found


def _driver_vs_cuda(label: str, cuda: str, driver: str) -> list[Finding]:
    major_minor = ".".join(cuda.split(".")[:2])
    try:
        floor = compat.family_floor(major_minor)
        best = compat.toolkit_driver(cuda if cuda.count(".") == 2 else f"{major_minor}.0")
    except ValueError as exc:
        return [Finding("cuda-unknown", "info", f"no driver rule for CUDA {cuda} ({label})", str(exc))]
    if _vt(driver) < _vt(floor):
        return [Finding("driver-too-old", "error", f"driver {driver} is too old for {label} (CUDA {cuda})",
                        f"CUDA {cuda.split('.')[0]}.x needs driver >= {floor}; it fails with 'The NVIDIA driver "
                        "on your system is too old'",
                        f"upgrade the driver to >= {best or floor}, or install a build for an older CUDA")]
    if best and _vt(driver) < _vt(best):
        return [Finding("driver-below-toolkit", "warning", f"driver {driver} is below CUDA {major_minor}'s "
                        f"toolkit driver {best}", f"{label} runs by minor-version compatibility, but PTX newer "
                        "than the driver cannot be JIT-compiled (torch.compile/Triton, GPUs without SASS)",
                        f"upgrade the driver to >= {best}")]
    return [Finding("driver-supports-cuda", "ok", f"driver {driver} supports {label} (CUDA {cuda})")]


def _arch(host: Host, label: str, arch_list: list[str]) -> list[Finding]:
    gpus = [g for g in (host.smi.gpus if host.smi else ()) if g.compute_cap]
    if not arch_list or not gpus:
        return []
    found, ok = [], []
    for cc in sorted({g.compute_cap for g in gpus if g.compute_cap}):
        sm, names = "sm_" + cc.replace(".", ""), ", ".join(sorted({g.name for g in gpus if g.compute_cap == cc}))
        cover = _coverage(cc, arch_list)
        if cover == "sass":
            ok.append(sm)
        elif cover == "ptx":
            found.append(Finding("arch-ptx-only", "warning", f"{names} ({sm}) only has PTX in {label}",
                                 f"kernels are JIT-compiled at first use; built for {' '.join(arch_list)}",
                                 f"install a {label.split()[0]} build that lists {sm}"))
        else:
            found.append(Finding("arch-missing", "error", f"{names} ({sm}) has no kernels in {label}",
                                 f"built for {' '.join(arch_list)}",
                                 "Blackwell needs torch >= 2.7 with cu128 or newer" if _vt(cc) >= (10,)
                                 else f"install a {label.split()[0]} build that lists {sm} "
                                 "(torch cu126 is the last variant with sm_50-sm_70)"))
    if ok:
        found.append(Finding("arch-ok", "ok", f"{label} has kernels for {', '.join(ok)}"))
    return found


def _coverage(cc: str, arch_list: list[str]) -> str | None:
    """"sass" if a cubin runs on compute capability cc, "ptx" if only PTX can be JIT-compiled, else None."""
    major, minor = _vt(cc)[:2]
    ptx = False
    for entry in arch_list:
        m = _ARCH.match(entry.strip().lower())
        if not m:
            continue
        a_major, a_minor, suffix = int(m[2]), int(m[3]), m[4]
        if m[1] == "sm" and a_major == major and (a_minor == minor or (a_minor < minor and suffix != "a")):
            return "sass"
        ptx = ptx or (m[1] == "compute" and (a_major, a_minor) <= (major, minor))
    return "ptx" if ptx else None


def _shm(host: Host) -> list[Finding]:
    if host.shm_bytes is None:
        return []
    size = f"{host.shm_bytes / (1 << 20):.0f} MiB"
    if host.shm_bytes >= SHM_MIN:
        return [Finding("shm-ok", "ok", f"/dev/shm is {size}")]
    return [Finding("shm-small", "warning", f"/dev/shm is only {size}",
                    "DataLoader workers and NCCL need shared memory; below 1 GiB they die with 'bus error'",
                    "in Docker: run with --shm-size=8g or --ipc=host; on a host: "
                    "sudo mount -o remount,size=8G /dev/shm (and in /etc/fstab)")]


def _docker(host: Host) -> list[Finding]:
    if host.runtimes is None:
        return []
    if "nvidia" in host.runtimes:
        return [Finding("docker-nvidia-ok", "ok", "Docker has the nvidia runtime")]
    configure = "sudo nvidia-ctk runtime configure --runtime=docker && sudo systemctl restart docker"
    has_ctk = bool(_installed(host, ("nvidia-container-toolkit",)))
    return [Finding("docker-no-nvidia-runtime", "warning", "Docker has no nvidia runtime",
                    f"runtimes: {', '.join(sorted(host.runtimes)) or 'none'}; docker run --gpus fails",
                    configure + " (merges into /etc/docker/daemon.json)" if has_ctk else
                    f"install nvidia-container-toolkit (repo {_cmd(host).ctk_repo}), "
                    "then: " + configure + " (merges into /etc/docker/daemon.json)")]


def _holds(host: Host) -> list[Finding]:
    driver = _installed(host, DRIVER_PREFIXES)
    if host.container or not driver:
        return []
    loose = sorted(p.name for p in driver if not p.held and p.name not in host.holds)
    if not loose:
        return [Finding("driver-held", "ok", "driver packages are held")]
    return [Finding("driver-not-held", "warning", "driver packages are not held",
                    f"{_cmd(host).upgrader} can upgrade {', '.join(loose)} under a running module "
                    "('Driver/library version mismatch' until reboot)",
                    f"{_cmd(host).hold} " + " ".join(shlex.quote(n) for n in loose))]
