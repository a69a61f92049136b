"""POSIX sh text for the GPU host steps' probes (NvidiaDriver, ContainerToolkit).

Shared by the step probes (run as ``sh -c TEXT probe ARGS...``) and the setup script's
library, so "is there an NVIDIA GPU" and "is this driver new enough" mean the same
everywhere. What counts as an NVIDIA GPU is defined here and shared with toolkit.gpu.parse
(the doctor's rule): vendor 0x10de with a display class (VGA 0300, 3D 0302, other display 0380), read from
/sys/bus/pci/devices/*/{vendor,class}; the GPU's HDMI audio or USB-C functions do not count.
Every value reaches these scripts as a positional argument, never glued into the text.
"""

from __future__ import annotations

from toolkit.model import osfamily

NVIDIA_VENDOR = "10de"
# PCI classes of a GPU: VGA controller, 3D controller, display controller. NVIDIA's other
# functions (HDMI audio 0403, USB-C 0c03, NVSwitch bridges 0680) are not GPUs.
GPU_CLASSES = frozenset({"0300", "0302", "0380"})

_CLASS_GLOBS = "|".join(f"0x{c}*" for c in sorted(GPU_CLASSES))

# has_nvidia_gpu: exit 0 when the PCI bus shows an NVIDIA GPU.
HAS_GPU = (
    "has_nvidia_gpu() {\n"
    "  for d in /sys/bus/pci/devices/*; do\n"
    f'    [ "$(cat "$d/vendor" 2>/dev/null)" = 0x{NVIDIA_VENDOR} ] || continue\n'
    f'    case "$(cat "$d/class" 2>/dev/null)" in {_CLASS_GLOBS}) return 0 ;; esac\n'
    "  done\n"
    "  return 1\n"
    "}\n"
)

# running_driver: the version of the loaded NVIDIA driver (nvidia-smi), empty when none runs.
# driver_at_least FLOOR: exit 0 when a driver >= FLOOR is running (sort -V compares versions).
DRIVER_VERSION = (
    "running_driver() {\n"
    "  nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' '"
    " | grep -E '^[0-9]+([.][0-9]+)+$' || true\n"
    "}\n"
    "driver_at_least() {\n"
    "  local v\n"
    '  v="$(running_driver)"\n'
    '  [ -n "$v" ] && [ "$(printf \'%s\\n%s\\n\' "$1" "$v" | sort -V | head -n 1)" = "$1" ]\n'
    "}\n"
)

# installed PKG...: exit 0 when every package is installed (held or not); held PKG...: and held.
# The driver steps exist for the Debian family only (components/driver.py), so they use its functions.
PACKAGES = osfamily.DEBIAN.package_functions

# kernel_meta: the running kernel's flavour as its metapackages name it (generic, aws, cloud-amd64,
# generic-hwe-22.04), so KERNEL_PREFIX + it follows later kernels.
KERNEL_META = (
    "kernel_meta() {\n"
    '  local release flavour vid\n'
    '  release="$(uname -r)"\n'
    '  flavour="${release#*-*-}"\n'
    "  vid=\"$(sed -n 's/^VERSION_ID=//p' /etc/os-release 2>/dev/null | tr -d '\"')\"\n"
    '  if installed "linux-image-$flavour-hwe-$vid"; then flavour="$flavour-hwe-$vid"; fi\n'
    '  echo "$flavour"\n'
    "}\n"
)

# hold_list BRANCH KERNEL_PREFIX PACKAGE...: what a driver lock holds, one name a line: the packages,
# every installed package named like *nvidia*BRANCH*, and with KERNEL_PREFIX (signed modules) the
# running kernel's module package and the flavour's kernel metapackages, so kernel and driver only
# move together.
HOLD_LIST = (
    "hold_list() {\n"
    '  local branch="$1" prefix="$2" meta p\n'
    "  shift 2\n"
    "  {\n"
    '    for p in "$@"; do echo "$p"; done\n'
    "    dpkg-query -W -f='${db:Status-Abbrev} ${Package}\\n' \"*nvidia*$branch*\" 2>/dev/null"
    " | awk '$1 ~ /^[ih]i/ {print $2}'\n"
    '    if [ -n "$prefix" ]; then\n'
    '      meta="$(kernel_meta)"\n'
    '      for p in "$prefix$(uname -r)" "$prefix$meta" "linux-$meta" "linux-image-$meta" "linux-headers-$meta"; do\n'
    '        if installed "$p"; then echo "$p"; fi\n'
    "      done\n"
    "    fi\n"
    "  } | sort -u\n"
    "}\n"
)

# key_is FILE FINGERPRINT: exit 0 when the OpenPGP key file holds exactly one primary key, the one with
# FINGERPRINT (gpg --show-keys with a throwaway GNUPGHOME: no keyring is touched); otherwise it says
# what the file holds. One key only: a second key in the file could sign the repository too.
KEY_CHECK = (
    "key_is() {\n"
    "  local home got\n"
    '  home="$(mktemp -d)"\n'
    '  got="$(GNUPGHOME="$home" gpg --batch --quiet --with-colons --show-keys "$1" 2>/dev/null |\n'
    "    awk -F: '$1 == \"pub\" { p = 1; next } p && $1 == \"fpr\" { printf \"%s%s\", s, $10; s = \" \" } { p = 0 }')\"\n"
    '  rm -rf -- "$home"\n'
    '  if [ "$got" = "$2" ]; then return 0; fi\n'
    '  echo "$1 holds the primary key(s) ${got:-none}, not the pinned $2: not trusted" >&2\n'
    "  return 1\n"
    "}\n"
)

# repo_configured URL OWN_FILE: the host names URL in a package source of its own (see osfamily).
REPO_CONFIGURED = osfamily.DEBIAN.repo_configured

# facts MODE FLOOR KERNEL_PREFIX PACKAGE...: one JSON line for the Ansible tasks; action is skip (no
# GPU, MODE auto), adopt (a driver >= FLOOR runs), refuse (an older driver runs) or install.
_DRIVER_FACTS = (
    'mode="$1"; floor="$2"; prefix="$3"; shift 3\n'
    'v="$(running_driver)"\n'
    'if [ "$mode" = auto ] && ! has_nvidia_gpu; then action=skip\n'
    'elif [ -n "$v" ] && driver_at_least "$floor"; then action=adopt\n'
    'elif [ -n "$v" ]; then action=refuse\n'
    "else action=install; fi\n"
    'kp=""\n'
    'if [ -n "$prefix" ]; then kp="\\"$prefix$(uname -r)\\", \\"$prefix$(kernel_meta)\\""; fi\n'
    'printf \'{"action": "%s", "driver": "%s", "kernel_packages": [%s]}\\n\' "$action" "$v" "$kp"\n'
)
DRIVER_FACTS = HAS_GPU + DRIVER_VERSION + PACKAGES + KERNEL_META + _DRIVER_FACTS


def driver_facts(family: str) -> str:
    packages, kernel_meta, _ = for_family(family)
    return HAS_GPU + DRIVER_VERSION + packages + kernel_meta + _DRIVER_FACTS

# RHEL family: kernel-devel has no flavour metapackage, so the "flavour" is the running kernel itself
# (KERNEL_PREFIX + it is kernel-devel-$(uname -r) again); what a lock holds is every installed NVIDIA
# driver package not locked yet (the module stream already keeps the branch).
KERNEL_META_RHEL = (
    "kernel_meta() {\n"
    "  uname -r\n"
    "}\n"
)
HOLD_LIST_RHEL = (
    "hold_list() {\n"
    "  local p\n"
    "  shift 2\n"
    "  {\n"
    '    for p in "$@"; do echo "$p"; done\n'
    "    rpm -qa --qf '%{NAME}\\n' 'nvidia-*' 'kmod-nvidia*' 'libnvidia-*' 2>/dev/null\n"
    "  } | sort -u | while read -r p; do\n"
    '    dnf -q versionlock list 2>/dev/null | grep -q -- "^${p}-[0-9]" || echo "$p"\n'
    "  done\n"
    "}\n"
)


def for_family(family: str) -> tuple[str, str, str]:
    """(package functions, kernel_meta, hold_list) of the driver scripts for an OS family."""
    if family == "debian":
        return PACKAGES, KERNEL_META, HOLD_LIST
    return osfamily.get(family).package_functions, KERNEL_META_RHEL, HOLD_LIST_RHEL


# probe MODE FLOOR LOCK KERNEL_PREFIX PACKAGE...: done when there is no GPU (MODE auto), a driver
# >= FLOOR runs (adopted), or every package (and KERNEL_PREFIX + the running kernel's release) is
# installed - and held when LOCK is 1 - with a reboot still to come.
_DRIVER_CHECK = (
    'mode="$1"; floor="$2"; lock="$3"; prefix="$4"; shift 4\n'
    'if [ "$mode" = auto ] && ! has_nvidia_gpu; then exit 0; fi\n'
    'if driver_at_least "$floor"; then exit 0; fi\n'
    'if [ -n "$prefix" ]; then set -- "$@" "$prefix$(uname -r)"; fi\n'
    'if [ "$lock" = 1 ]; then held "$@"; else installed "$@"; fi\n'
)
DRIVER_PROBE = HAS_GPU + DRIVER_VERSION + PACKAGES + _DRIVER_CHECK


def driver_probe(family: str) -> str:
    """DRIVER_PROBE asking the family's package database (rhel: the kernel-devel package is not held)."""
    if family == "debian":
        return DRIVER_PROBE
    return HAS_GPU + DRIVER_VERSION + osfamily.get(family).package_functions + _DRIVER_CHECK.replace(
        'if [ "$lock" = 1 ]; then held "$@"', 'if [ "$lock" = 1 ]; then installed "$@" && held "$1"')

# probe MODE PACKAGE...: done when there is no GPU (MODE auto), or the packages are installed and,
# where Docker is installed, /etc/docker/daemon.json names the nvidia runtime.
_CONTAINER_TOOLKIT_CHECK = (
    'mode="$1"; shift\n'
    'if [ "$mode" = auto ] && ! has_nvidia_gpu; then exit 0; fi\n'
    'installed "$@" || exit 1\n'
    "if command -v docker >/dev/null 2>&1; then grep -q '\"nvidia\"' /etc/docker/daemon.json 2>/dev/null; fi\n"
)
CONTAINER_TOOLKIT_PROBE = HAS_GPU + PACKAGES + _CONTAINER_TOOLKIT_CHECK


def container_toolkit_probe(family: str) -> str:
    """CONTAINER_TOOLKIT_PROBE asking the given OS family's package database (the toolkit has RPMs too)."""
    return HAS_GPU + osfamily.get(family).package_functions + _CONTAINER_TOOLKIT_CHECK


# Exits 0 when every requirement of the files (as toolkit writes them: one PEP 508 requirement per line, then
# --hash options; `-c FILE` lines name constraints) whose marker applies is installed and matches: its
# specifier, and for a URL requirement the URL (or git commit) pip recorded in direct_url.json. An installed
# package a constraint no longer allows counts as not done.
REQUIREMENT_FILES_PROBE = """\
import json, sys
from importlib.metadata import PackageNotFoundError, distribution
from pip._vendor.packaging.requirements import Requirement
def done(path, constraint):
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line.startswith("-c "):
            done(line[3:], True)
        if not line or line.startswith(("#", "-")):
            continue
        r = Requirement(line.split(" --hash=")[0])
        if r.marker is not None and not r.marker.evaluate({"extra": ""}):
            continue
        try:
            d = distribution(r.name)
        except PackageNotFoundError:
            if constraint:
                continue
            sys.exit(1)
        if not r.specifier.contains(d.version, prereleases=True):
            sys.exit(1)
        if r.url:
            info = json.loads(d.read_text("direct_url.json") or "{}")
            want = r.url.split("#")[0]
            if want.startswith("git+"):
                got = (info.get("vcs_info") or {}).get("commit_id") == want.rpartition("@")[2]
            else:
                got = info.get("url") == want
            if not got:
                sys.exit(1)
for p in sys.argv[1:]:
    done(p, False)
"""
