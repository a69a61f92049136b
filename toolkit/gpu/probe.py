"""The GPU-host probe (runs on the target): gathers raw outputs in one go and prints them as JSON.

Self-contained on purpose (stdlib only, Python 3.6+): ``toolkit doctor`` calls :func:`gather`
in-process locally, and ships it to an SSH host or a container as one script
(toolkit.targets.shipping.script: the shared helpers of toolkit/targets/probe_lib.py put in place
of the line that imports them) run as ``python3 - [--python PATH]``. Every command is optional: one that is not
installed is recorded as ``None`` (absent), one that fails keeps its rc/out/err. Nothing is
interpreted here (toolkit.gpu.parse and toolkit.gpu.diagnose do that on the controller), and
nothing is ever installed or changed.
"""

import argparse
import json
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor

from toolkit.targets.probe_lib import read, run_command  # shipped with: toolkit/targets/probe_lib.py

SCHEMA = 1
TIMEOUT = 30
FRAMEWORK_TIMEOUT = 120  # importing TensorFlow can take a while
# Over SSH a non-root PATH often lacks the sbin directories where modinfo and dkms live.
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
SMI_FIELDS = "index,name,pci.bus_id,driver_version,compute_cap,memory.total"
SMI_FIELDS_OLD = "index,name,pci.bus_id,driver_version,memory.total"  # drivers that lack compute_cap
DPKG_FORMAT = "${db:Status-Abbrev}\\t${Package}\\t${Version}\\n"
DPKG_PATTERNS = ["nvidia-*", "libnvidia-*", "linux-modules-nvidia-*", "cuda-drivers*", "cuda-compat-*"]
# RHEL family (Rocky Linux, AlmaLinux): the same packages asked of rpm; NVIDIA's names carry no branch there.
RPM_FORMAT = "%{NAME}\\t%{VERSION}-%{RELEASE}\\n"
RPM_PATTERNS = ["nvidia-*", "kmod-nvidia*", "libnvidia-*", "cuda-drivers*", "cuda-compat-*", "kernel-devel", "dkms"]
SECURE_BOOT_VAR = "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
FILES = ["/proc/driver/nvidia/version", "/proc/modules", "/etc/docker/daemon.json"]
ENV = ["CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"]

# Run with the interpreter given by --python; reports what the installed wheels were built for.
FRAMEWORKS = r'''
import importlib.util, json
def torch_info():
    import torch
    arch = []
    try:
        arch = list(torch.cuda.get_arch_list())
    except Exception:
        pass
    if not arch:  # get_arch_list() is empty when CUDA cannot initialise; the build flags are not
        try:
            arch = (torch._C._cuda_getArchFlags() or "").split()
        except Exception:
            pass
    return {"version": torch.__version__, "cuda": torch.version.cuda, "arch_list": arch}
def tf_info():
    import tensorflow as tf
    info = dict(tf.sysconfig.get_build_info())
    return {"version": tf.__version__, "cuda": info.get("cuda_version"),
            "arch_list": list(info.get("cuda_compute_capabilities") or [])}
out = {}
for name, fn in (("torch", torch_info), ("tensorflow", tf_info)):
    if importlib.util.find_spec(name) is None:
        continue
    try:
        out[name] = fn()
    except Exception as exc:
        out[name] = {"error": "%s: %s" % (type(exc).__name__, exc)}
print(json.dumps(out))
'''


def run(argv, timeout=TIMEOUT):
    """{rc, out, err}; None when the command is not installed. Never raises."""
    exe = shutil.which(argv[0], path=SEARCH_PATH)
    if exe is None:
        return None
    env = dict(os.environ, LC_ALL="C", LANG="C", TF_CPP_MIN_LOG_LEVEL="3")
    return run_command([exe] + argv[1:], timeout, env=env)


def pci_sysfs(root="/sys/bus/pci/devices"):
    """vendor/device/class (and bound driver) of every PCI function, for hosts without lspci."""
    try:
        slots = sorted(os.listdir(root))
    except OSError:
        return None
    devices = []
    for slot in slots:
        entry = {"slot": slot}
        for key in ("vendor", "device", "class"):
            entry[key] = (read(os.path.join(root, slot, key)) or "").strip()
        driver = os.path.join(root, slot, "driver")
        entry["driver"] = os.path.basename(os.readlink(driver)) if os.path.islink(driver) else None
        devices.append(entry)
    return devices


def secure_boot_efivar():
    """The SecureBoot EFI variable's value byte (after 4 attribute bytes); None when unreadable."""
    try:
        with open(SECURE_BOOT_VAR, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    return data[4] if len(data) > 4 else None


def shm_bytes(path="/dev/shm"):
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_frsize * st.f_blocks


def jobs(kernel, python):
    """name -> (argv, timeout) of every command the probe runs."""
    out = {
        "lspci": (["lspci", "-nn"], TIMEOUT),
        "nvidia_smi": (["nvidia-smi", "--query-gpu=" + SMI_FIELDS, "--format=csv,noheader"], TIMEOUT),
        "lsmod": (["lsmod"], TIMEOUT),
        "mokutil": (["mokutil", "--sb-state"], TIMEOUT),
        "modinfo": (["modinfo", "nvidia"], TIMEOUT),
        "dpkg": (["dpkg-query", "-W", "-f=" + DPKG_FORMAT] + DPKG_PATTERNS + ["linux-headers-" + kernel],
                 TIMEOUT),
        "dkms": (["dkms", "status"], TIMEOUT),
        "docker_runtimes": (["docker", "info", "--format", "{{json .Runtimes}}"], TIMEOUT),
        "apt_holds": (["apt-mark", "showhold"], TIMEOUT),
        "rpm": (["rpm", "-qa", "--qf", RPM_FORMAT] + RPM_PATTERNS, TIMEOUT),
        "dnf_holds": (["dnf", "-q", "versionlock", "list"], TIMEOUT),
    }
    if python:
        out["frameworks"] = ([python, "-c", FRAMEWORKS], FRAMEWORK_TIMEOUT)
    return out


def commands(kernel, python):
    todo = jobs(kernel, python)
    with ThreadPoolExecutor(max_workers=len(todo)) as pool:
        futures = dict((name, pool.submit(run, argv, timeout)) for name, (argv, timeout) in todo.items())
        results = dict((name, future.result()) for name, future in futures.items())
    smi = results["nvidia_smi"]
    if smi and smi["rc"] != 0 and "compute_cap" in smi["out"] + smi["err"]:
        results["nvidia_smi"] = run(["nvidia-smi", "--query-gpu=" + SMI_FIELDS_OLD, "--format=csv,noheader"])
        return results, SMI_FIELDS_OLD
    return results, SMI_FIELDS


def gather(python=None):
    """Every raw fact toolkit.gpu.diagnose needs, as one JSON-serialisable dict."""
    kernel = os.uname().release
    results, smi_fields = commands(kernel, python)
    try:
        dev = sorted(name for name in os.listdir("/dev") if name.startswith("nvidia"))
    except OSError:
        dev = []
    return {
        "schema": SCHEMA,
        "kernel": kernel,
        "container": any(os.path.exists(p) for p in ("/.dockerenv", "/run/.containerenv")),
        "commands": results,
        "smi_fields": smi_fields,
        "files": dict((path, read(path)) for path in FILES),
        "pci_sysfs": pci_sysfs(),
        "dev_nvidia": dev,
        "env": dict((name, os.environ.get(name)) for name in ENV),
        "shm_bytes": shm_bytes(),
        "secure_boot_efivar": secure_boot_efivar(),
        "python": python,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="toolkit-gpu-probe")
    parser.add_argument("--python", default=None, help="interpreter whose torch/tensorflow to inspect")
    args = parser.parse_args(argv)
    json.dump(gather(args.python), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
