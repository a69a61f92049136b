"""Where the tests find Debian's promtool and prometheus: PATH, or .cache/prometheus/bin where
scripts/ensure-prometheus.sh (run by scripts/test.sh) unpacks them. Missing: a skip, a failure under CI=true."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.unit.render_fixtures import in_ci

CACHE = Path(__file__).resolve().parents[3] / ".cache" / "prometheus" / "bin"


def binary(name: str) -> str:
    found = shutil.which(name) or (str(CACHE / name) if (CACHE / name).is_file() else None)
    if found is None:
        reason = f"{name} not found on PATH or in {CACHE} (run scripts/ensure-prometheus.sh)"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return found
