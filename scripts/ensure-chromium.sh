#!/usr/bin/env bash
# Installs Debian's headless Chromium (chromium-headless-shell) for the browser test of jupyter.proxy
# (tests/integration/test_jupyter_browser.py, marked slow): scripts/test.sh calls this only with --run-slow.
# Needs root with apt; never fails the run by itself: without it that test skips, and fails under CI=true.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 0

if command -v chromium-headless-shell >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromium-headless-shell ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: chromium-headless-shell not installed (not root with apt): the browser test skips" >&2
    exit 0
fi
# shellcheck source=scripts/lib/apt-install.sh
. scripts/lib/apt-install.sh
if apt_install chromium-headless-shell; then
    echo "ensure-chromium: installed chromium-headless-shell"
else
    echo "ensure-chromium: could not install chromium-headless-shell: the browser test skips" >&2
fi
