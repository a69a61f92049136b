#!/usr/bin/env bash
# The test command (README.md, .ci/run): installs what the tests need, brings up a Docker engine
# and a Debian 12 base image where this machine allows it, then runs pytest.
# Extra arguments go to pytest, e.g. ./scripts/test.sh -m "not docker" or --run-slow.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${TOOLKIT_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
"$VENV/bin/python" -m pip install -q -e '.[test]'

in_ci() { [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; }

if scripts/ensure-docker.sh && scripts/ensure-base-image.sh; then
  :
elif in_ci; then
  echo "CI: a Docker engine and the base image are required" >&2
  exit 1
else
  echo "no Docker engine here: Docker tests will be skipped with that reason" >&2
fi

scripts/ensure-gpu-tools.sh
scripts/ensure-prometheus.sh     # promtool and prometheus (Debian's .deb unpacked into .cache/prometheus/bin)
for arg in "$@"; do
  if [ "$arg" = --run-slow ]; then
    scripts/ensure-chromium.sh     # headless Chromium for the slow browser test of jupyter.proxy
  fi
done

# Podman (build --engine podman, verify --target podman-image://) with this machine's container limits.
if scripts/ensure-podman.sh; then
  export CONTAINERS_CONF="$PWD/.tools/podman/containers.conf"
elif in_ci; then
  echo "CI: podman is required" >&2
  exit 1
else
  echo "podman cannot run here: Podman tests will be skipped with that reason" >&2
fi

# The devcontainer CLI (npm) in .tools/npm: devcontainer.json is read by the real tool.
if ! scripts/ensure-devcontainer-cli.sh && in_ci; then
  echo "CI: the devcontainer CLI is required" >&2
  exit 1
fi

export PATH="$PWD/$VENV/bin:$PWD/.cache/prometheus/bin:$PATH"
unset PYTHONDONTWRITEBYTECODE   # pytest keeps its rewritten test modules between runs (collection: 5.5 s -> 2.7 s)
if [ "$#" -eq 0 ]; then
  # The whole suite: the integration tests one at a time (they share one Docker engine, its images and
  # caches; their 20 slowest are listed), then the unit tier on both CPUs (pytest-xdist). Both always run.
  rc=0
  "$VENV/bin/python" -m pytest tests/integration --durations=20 || rc=$?
  "$VENV/bin/python" -m pytest tests/unit -n 2 || rc=$?
  exit "$rc"
fi
exec "$VENV/bin/python" -m pytest "$@"
