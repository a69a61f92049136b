#!/usr/bin/env bash
# Ensure the local Debian 12 base image exists (no registry is reachable here,
# so it is built from Debian's archive with debootstrap and `docker import`).
#
#   scripts/ensure-base-image.sh
#
# Env:
#   TOOLKIT_BASE_IMAGE   image name (default local/debian:12)
#   TOOLKIT_DEBIAN_MIRROR  mirror (default http://deb.debian.org/debian)
#
# Idempotent: returns at once when `docker image inspect` finds the image.
# Needs a running engine (scripts/ensure-docker.sh) and, the first time, root
# (debootstrap; installed with apt-get when missing).
set -euo pipefail

# shellcheck source=scripts/lib/apt-install.sh
source "$(dirname "$0")/lib/apt-install.sh"

IMAGE="${TOOLKIT_BASE_IMAGE:-local/debian:12}"
MIRROR="${TOOLKIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm

say() { printf 'ensure-base-image: %s\n' "$*"; }

# Prefer the engine's own client (see scripts/ensure-docker.sh).
if [ -x /usr/bin/docker ]; then
    DOCKER=/usr/bin/docker
else
    DOCKER=docker
fi

if ! "$DOCKER" info >/dev/null 2>&1; then
    say "no Docker engine answers; run scripts/ensure-docker.sh first" >&2
    exit 1
fi

if "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
    say "$IMAGE already present; nothing to do"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "$IMAGE is missing and debootstrap needs root; rerun as root" >&2
    exit 1
fi

start_ts=$SECONDS

if ! command -v debootstrap >/dev/null 2>&1; then
    apt_install debootstrap || { say "cannot install debootstrap" >&2; exit 1; }
fi

ROOTFS="$(mktemp -d /var/tmp/toolkit-rootfs.XXXXXX)"
cleanup() { rm -rf --one-file-system "$ROOTFS"; }
trap cleanup EXIT

if ! debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR" \
        >"$ROOTFS.log" 2>&1; then
    say "debootstrap failed; last lines of $ROOTFS.log:" >&2
    tail -n 20 "$ROOTFS.log" >&2 || true
    exit 1
fi
rm -f "$ROOTFS.log"

# Drop downloaded .debs and apt lists: they only bloat the image.
rm -rf "${ROOTFS:?}"/var/cache/apt/archives/*.deb "${ROOTFS:?}"/var/lib/apt/lists/*

tar -C "$ROOTFS" -c . | "$DOCKER" import \
    --change 'CMD ["/bin/bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$IMAGE" >/dev/null

say "built $IMAGE from $SUITE ($MIRROR) in $((SECONDS - start_ts))s"
