#!/usr/bin/env bash
# Makes Debian's prometheus and promtool binaries available to the monitoring tests, cheaply: the one
# `prometheus` .deb is downloaded (apt-get download, no install, no maintainer scripts, no service
# started) and its two binaries are unpacked into .cache/prometheus/bin, which scripts/test.sh puts
# on PATH. Kept between runs (the folder names the version). Never fails the run by itself: without
# the binaries the monitoring tests skip with that reason, and fail under CI=true.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 0

DEST=.cache/prometheus
if [ -x "$DEST/bin/promtool" ] && [ -x "$DEST/bin/prometheus" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
    echo "ensure-prometheus: no apt-get/dpkg-deb here: the promtool and Prometheus tests skip" >&2
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT
fetch() { (cd "$work" && apt-get download -qq prometheus >/dev/null 2>&1); }
if ! fetch; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq >/dev/null 2>&1; fi
    if ! fetch; then
        echo "ensure-prometheus: could not download Debian's prometheus package: the promtool and Prometheus tests skip" >&2
        exit 0
    fi
fi
dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
mkdir -p "$DEST/bin"
install -m 0755 "$work/root/usr/bin/prometheus" "$work/root/usr/bin/promtool" "$DEST/bin/"
echo "ensure-prometheus: $("$DEST/bin/promtool" --version 2>&1 | head -n 1) in $DEST/bin"
