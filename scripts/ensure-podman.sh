#!/usr/bin/env bash
# Podman for `toolkit build --engine podman` and `verify --target podman-image://` tests: installs
# Debian's podman (root with apt), copies the local base image from the Docker engine into Podman's store
# (no registry is reachable here), and writes the settings this machine needs into
# .tools/podman/containers.conf (scripts/test.sh exports CONTAINERS_CONF=that file):
#
#   default_ulimits   Podman asks runc for nofile/nproc limits of 1048576; a container whose hard limits
#                     are lower (CI machines, nested containers) refuses that ("error setting rlimit type 7:
#                     operation not permitted"). The values written are the highest that start here.
#
# As root Podman uses overlay storage, cgroupfs and file events here as it is; rootless Podman is not set
# up by this script (CI runs as root). Exits 1 when podman cannot run a container; prints why.
#   Env: TOOLKIT_BASE_IMAGE (default local/debian:12)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="${TOOLKIT_BASE_IMAGE:-local/debian:12}"
CONF_DIR=.tools/podman
CONF="$CONF_DIR/containers.conf"
say() { printf 'ensure-podman: %s\n' "$*" >&2; }

if ! command -v podman >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        say "podman is not installed and this is not root: install it (apt-get install podman)"
        exit 1
    fi
    # shellcheck source=scripts/lib/apt-install.sh
    . scripts/lib/apt-install.sh
    apt_install podman
fi

if ! podman image exists "$IMAGE"; then
    DOCKER=$( [ -x /usr/bin/docker ] && echo /usr/bin/docker || echo docker )
    if ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
        say "$IMAGE is neither in Podman's store nor on the Docker engine (scripts/ensure-base-image.sh makes it)"
        exit 1
    fi
    "$DOCKER" save "$IMAGE" | podman load -q >/dev/null
    say "copied $IMAGE from the Docker engine into Podman's store"
fi

mkdir -p "$CONF_DIR"
starts() { CONTAINERS_CONF="$1" podman run --rm --network none "$IMAGE" true >/dev/null 2>&1; }
if [ -f "$CONF" ] && starts "$CONF"; then
    exit 0
fi
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
tmp="$CONF.tmp"
for nproc in "$(ulimit -Hu)" 1048576 65536 32768 16384 8192 4096; do
    [ "$nproc" = unlimited ] && continue
    printf '# written by scripts/ensure-podman.sh: the limits containers can start with on this machine\n[containers]\ndefault_ulimits = [\n  "nofile=%s:%s",\n  "nproc=%s:%s",\n]\n' \
        "$nofile" "$nofile" "$nproc" "$nproc" > "$tmp"
    if starts "$tmp"; then
        mv "$tmp" "$CONF"
        say "containers start with nofile=$nofile nproc=$nproc ($CONF)"
        exit 0
    fi
done
rm -f "$tmp"
say "podman cannot start a container of $IMAGE here:"
podman run --rm --network none "$IMAGE" true >&2 || true
exit 1
