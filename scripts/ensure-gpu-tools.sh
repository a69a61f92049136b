#!/usr/bin/env bash
# Installs the read-only tools GPU detection uses (lspci, mokutil, modinfo/lsmod), and gpg for the
# pinned-key tests, when this is a root Debian/Ubuntu machine that lacks them: `toolkit doctor`'s tests
# then read this machine's real output instead of only the /sys fallback. Never fails the run; without
# them those tests use /sys, and the key tests skip (fail under CI=true).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 0

missing=()
command -v lspci >/dev/null 2>&1 || missing+=(pciutils)
command -v mokutil >/dev/null 2>&1 || missing+=(mokutil)
command -v gpg >/dev/null 2>&1 || missing+=(gpg)
PATH="$PATH:/usr/sbin:/sbin" command -v modinfo >/dev/null 2>&1 || missing+=(kmod)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-gpu-tools: ${missing[*]} not installed (not root with apt): doctor tests use /sys instead" >&2
    exit 0
fi
# shellcheck source=scripts/lib/apt-install.sh
. scripts/lib/apt-install.sh
if apt_install "${missing[@]}"; then
    echo "ensure-gpu-tools: installed ${missing[*]}"
else
    echo "ensure-gpu-tools: could not install ${missing[*]}: doctor tests use /sys instead" >&2
fi
