#!/usr/bin/env bash
# Installs the devcontainer CLI (npm @devcontainers/cli) into a project-local prefix, .tools/npm, so the
# tests read every rendered devcontainer.json with the real tool (`devcontainer read-configuration`).
# Prints nothing when it is there already. Without node/npm it says so and exits 1 (scripts/test.sh
# fails under CI=true; elsewhere the test skips with that reason).
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=.tools/npm
VERSION=${DEVCONTAINER_CLI_VERSION:-0.89.0}
if [ -x "$PREFIX/bin/devcontainer" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # shellcheck source=scripts/lib/apt-install.sh
    . scripts/lib/apt-install.sh
    apt_install nodejs npm || true
  fi
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "ensure-devcontainer-cli: npm is not installed: the devcontainer CLI tests cannot run" >&2
  exit 1
fi
mkdir -p "$PREFIX"
npm install --silent --no-audit --no-fund --prefix "$PREFIX" "@devcontainers/cli@$VERSION" >/dev/null
# The package's own entry point (npm's .bin links are not made on every npm configuration).
mkdir -p "$PREFIX/bin"
ln -sf ../node_modules/@devcontainers/cli/devcontainer.js "$PREFIX/bin/devcontainer"
echo "ensure-devcontainer-cli: installed @devcontainers/cli $VERSION in $PREFIX"
