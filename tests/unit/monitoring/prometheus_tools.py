"""Where the tests find Debian's promtool and prometheus: PATH, or .cache/prometheus/bin where
scripts/ensure-prometheus.sh (run by scripts/test.sh) unpacks them. Missing: a skip, a failure under CI=true."""

from __future__ import annotations

from pathlib import Path

from tests.unit.render_fixtures import tool

CACHE = Path(__file__).resolve().parents[3] / ".cache" / "prometheus" / "bin"


def binary(name: str) -> str:
    return tool(name, "scripts/ensure-prometheus.sh", also=CACHE)
