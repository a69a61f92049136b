#!/usr/bin/env bash
# Ensure a real Docker engine answers on this machine.
#
#   scripts/ensure-docker.sh
#
# - If an engine already answers (`docker info`), do nothing (fast path).
# - Else, as root on a Debian/Ubuntu host: install `docker.io` with apt-get
#   (running `apt-get update` only when the package is not known yet), start
#   `dockerd` detached (setsid + nohup, log in /var/log/toolkit-dockerd.log)
#   and wait up to TOOLKIT_DOCKERD_WAIT seconds (default 60) until it answers.
# - Otherwise print why and exit 1.
#
# Which client to use with the engine from Debian 12's docker.io (20.10):
# - /usr/bin/docker (20.10, installed with the engine) has BuildKit built in:
#   `DOCKER_BUILDKIT=1 /usr/bin/docker build ...` works (RUN --mount=type=cache
#   included). Use this one for BuildKit builds.
# - /usr/local/bin/docker (28.x client, if present) negotiates the API down to
#   1.41 and works for info/run/ps/images/legacy build, but it has no buildx
#   plugin, so DOCKER_BUILDKIT=1 builds fail with it ("BuildKit is enabled but
#   the buildx component is missing or broken").
# - The docker Python SDK talks to the socket directly and uses the legacy
#   builder for images.build().
set -euo pipefail

# shellcheck source=scripts/lib/apt-install.sh
source "$(dirname "$0")/lib/apt-install.sh"

LOG=/var/log/toolkit-dockerd.log
WAIT_S="${TOOLKIT_DOCKERD_WAIT:-60}"

say() { printf 'ensure-docker: %s\n' "$*"; }

# `docker info` through whichever client is available; the engine's own
# client (/usr/bin/docker) is preferred once installed.
docker_client() {
    if [ -x /usr/bin/docker ]; then
        echo /usr/bin/docker
    elif command -v docker >/dev/null 2>&1; then
        command -v docker
    fi
}

engine_answers() {
    local client
    client="$(docker_client)"
    [ -n "$client" ] || return 1
    "$client" info >/dev/null 2>&1
}

if engine_answers; then
    say "engine already running ($("$(docker_client)" version --format '{{.Server.Version}}' 2>/dev/null || echo '?')); nothing to do"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    say "no Docker engine answers and this is not root: cannot install/start one (run as root, or start dockerd yourself)" >&2
    exit 1
fi

start_ts=$SECONDS
actions=()

if ! command -v dockerd >/dev/null 2>&1; then
    apt_install docker.io || { say "cannot install docker.io" >&2; exit 1; }
    actions+=("installed docker.io")
fi

# Start dockerd unless one is already running (e.g. still starting up).
running_pid=""
if [ -s /var/run/docker.pid ]; then
    pid="$(cat /var/run/docker.pid)"
    if kill -0 "$pid" 2>/dev/null; then
        running_pid="$pid"
    fi
fi
if [ -z "$running_pid" ]; then
    # A stale pid file makes dockerd refuse to start.
    rm -f /var/run/docker.pid
    setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
    actions+=("started dockerd (pid $!, log $LOG)")
else
    actions+=("waited for running dockerd (pid $running_pid)")
fi

deadline=$((SECONDS + WAIT_S))
until engine_answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        say "dockerd did not answer within ${WAIT_S}s; last lines of $LOG:" >&2
        tail -n 20 "$LOG" >&2 || true
        exit 1
    fi
    sleep 1
done

version="$(/usr/bin/docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
summary="$(IFS=';'; echo "${actions[*]}")"
say "${summary//;/, }; engine $version answers after $((SECONDS - start_ts))s"
