"""A real resolution against PyPI: datascience-cpu's pip requirements for Debian 12 (Python 3.11, x86_64)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from toolkit.lock.model import PipRequest, PipTarget
from toolkit.lock.pip_resolve import PYPI, resolve
from toolkit.lock.platforms import pip_platform

pytestmark = pytest.mark.network


@pytest.fixture(scope="module")
def pypi():
    try:
        urllib.request.urlopen(f"{PYPI}/pip/", timeout=10).close()
    except (urllib.error.URLError, OSError) as e:
        pytest.skip(f"PyPI cannot be reached from here ({e}); this test resolves against it")


def test_numpy_pandas_jupyterlab_for_python_311_on_debian_12(pypi):
    steps = [PipRequest("packages: pip_base", ("numpy>=1.26,<3", "pandas>=2.1,<3")),
             PipRequest("jupyter: Jupyter lab", ("jupyterlab",))]
    locked = resolve(steps, PipTarget("3.11", pip_platform("debian", "12", "amd64")))
    names = {p.name: p for p in locked}
    assert {"numpy", "pandas", "jupyterlab", "python-dateutil", "jupyter-server", "tornado"} <= set(names)
    assert len(locked) > 50
    for p in locked:
        assert p.hashes and all(h.startswith("sha256:") and len(h) == 71 for h in p.hashes), p
        assert list(p.hashes) == sorted(p.hashes) and p.index == PYPI
        wheels = [f for f in p.files if f.endswith(".whl")]
        assert wheels, f"{p.name}: no wheel for the target"
        for wheel in wheels:      # only what Debian 12's CPython 3.11 on x86_64 installs
            tags = wheel[:-4].split("-")[-3:]
            assert tags[0] in ("py3", "py2.py3", "cp311") or tags[0].startswith(("py3", "cp3")), wheel
            assert tags[2] == "any" or ("manylinux" in tags[2] and "x86_64" in tags[2]), wheel
    assert any("cp311" in f and "manylinux" in f for f in names["numpy"].files)
    assert names["numpy"].step == names["pandas"].step == "packages: pip_base"
    assert names["python-dateutil"].step == "packages: pip_base"          # pandas brings it
    assert {names[n].step for n in ("jupyterlab", "jupyter-server", "tornado")} == {"jupyter: Jupyter lab"}
