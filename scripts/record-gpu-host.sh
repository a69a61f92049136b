#!/usr/bin/env bash
# Record what toolkit's GPU detection reads on THIS machine, as fixtures for tests/unit/gpu/recorded.
#
#   scripts/record-gpu-host.sh OUTDIR [PYTHON]
#
# Writes into OUTDIR (created; must be empty or absent):
#   probe.json        what `toolkit doctor` gathers (toolkit/gpu/probe.py, stdlib only; nothing is changed)
#   lspci-nn.txt, nvidia-smi.txt, nvidia-smi-query.txt, proc-driver-nvidia-version.txt, modinfo-nvidia.txt,
#   mokutil-sb-state.txt, dpkg-l.txt, dkms-status.txt (RHEL family: also rpm-qa.txt, dnf-versionlock.txt)
#                     each command's output as a person sees it (stdout and stderr together)
#   MANIFEST.tsv      file, exit status (127: command not installed, 0 with "absent" for a missing file), command
#   SOURCE.md         when, kernel, OS, CPU and virtualisation: fill in where the machine came from
# PYTHON: an interpreter whose torch/TensorFlow the probe inspects too (optional).
# Read-only: needs no root, installs nothing. To turn a recording into a test, see
# tests/unit/gpu/fixtures/recorded/README.md.
set -uo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 OUTDIR [PYTHON]" >&2
    exit 2
fi
out=$1
python=${2:-}
root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
if [ -e "$out" ] && [ -n "$(ls -A -- "$out" 2>/dev/null)" ]; then
    echo "$out is not empty: give a new folder" >&2
    exit 2
fi
mkdir -p -- "$out" || exit 2
out=$(cd -- "$out" && pwd)
cd -- "$root" || exit 2
export LC_ALL=C LANG=C
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

printf 'file\texit\tcommand\n' >"$out/MANIFEST.tsv"

record() {  # record FILE COMMAND [ARGS...]
    local file=$1 rc
    shift
    if ! command -v -- "$1" >/dev/null 2>&1; then
        printf '%s: command not found\n' "$1" >"$out/$file"
        rc=127
    else
        "$@" >"$out/$file" 2>&1 </dev/null
        rc=$?
    fi
    printf '%s\t%s\t%s\n' "$file" "$rc" "$*" >>"$out/MANIFEST.tsv"
}

record_file() {  # record_file FILE PATH
    if [ -r "$2" ]; then
        cat -- "$2" >"$out/$1"
        printf '%s\t0\tcat %s\n' "$1" "$2" >>"$out/MANIFEST.tsv"
    else
        : >"$out/$1"
        printf '%s\tabsent\tcat %s\n' "$1" "$2" >>"$out/MANIFEST.tsv"
    fi
}

probe_args=()
if [ -n "$python" ]; then probe_args=(--python "$python"); fi
record probe.json env PYTHONPATH=. python3 toolkit/gpu/probe.py "${probe_args[@]}"
record lspci-nn.txt lspci -nn
record nvidia-smi.txt nvidia-smi
record nvidia-smi-query.txt nvidia-smi --query-gpu=index,name,pci.bus_id,driver_version,compute_cap,memory.total \
    --format=csv,noheader
record_file proc-driver-nvidia-version.txt /proc/driver/nvidia/version
record modinfo-nvidia.txt modinfo nvidia
record mokutil-sb-state.txt mokutil --sb-state
# only the packages GPU detection looks at, so the recording says nothing else about the machine
record dpkg-l.txt bash -c "dpkg -l 'nvidia-*' 'libnvidia-*' 'linux-modules-nvidia-*' 'cuda-drivers*' \
'cuda-compat-*' \"linux-headers-\$(uname -r)\""
record dkms-status.txt dkms status
# RHEL family (Rocky Linux, AlmaLinux): the same packages from rpm, and dnf's version locks
if command -v rpm >/dev/null 2>&1 && ! command -v dpkg >/dev/null 2>&1; then
    record rpm-qa.txt rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n' 'nvidia-*' 'kmod-nvidia*' 'libnvidia-*' \
        'cuda-drivers*' 'cuda-compat-*' kernel-devel dkms
    record dnf-versionlock.txt dnf -q versionlock list
fi

virt=$(systemd-detect-virt 2>/dev/null || true)
{
    echo "# Recording: $(basename -- "$out")"
    echo
    echo "- recorded: $(date -u +%Y-%m-%dT%H:%M:%SZ) by scripts/record-gpu-host.sh"
    echo "- kernel: $(uname -r) ($(uname -m))"
    echo "- OS: $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}")"
    echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
    echo "- virtualisation: ${virt:-unknown}; container: $([ -e /.dockerenv ] || [ -e /run/.containerenv ] && echo yes || echo no)"
    echo "- machine: WRITE WHERE IT CAME FROM (provider, instance type, how the driver was installed)"
} >"$out/SOURCE.md"

echo "recorded into $out/:"
column -t -s $'\t' "$out/MANIFEST.tsv" 2>/dev/null || cat "$out/MANIFEST.tsv"
