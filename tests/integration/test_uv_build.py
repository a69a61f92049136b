"""python.installer: uv, built for real: datascience-cpu on the local base image with uv installing every
package (through the TLS-intercepting proxy, trusting the host CA as the pip build does). The bootstrap venv
that holds uv is in no layer (a BuildKit cache mount: only its empty mount point is left, as for uv's cache), the stack imports, verify passes, and the image is no
larger than the pip-built one of the same profile."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from . import images
from .harness import REPO_ROOT

pytestmark = [pytest.mark.docker]


def test_uv_installs_the_stack_and_leaves_no_bootstrap(docker_engine, base_image, host_ca_bundle, datascience_image,
                                                        tmp_path):
    profile = images.datascience_profile(tmp_path, base_image, host_ca_bundle, name="datascience-uv",
                                         python={"installer": "uv"})
    built = images.build_profile_image(docker_engine, profile, tmp_path, base_image)
    dockerfile = (built.context / "Dockerfile").read_text()
    assert "/opt/toolkit/bootstrap/bin/uv pip install --python /opt/venv/bin/python" in dockerfile
    found = images.run_in_image(
        docker_engine, built.tag, "find /opt/toolkit/bootstrap /root/.cache/uv -mindepth 1 | grep -q . && echo BOOTSTRAP-OR-CACHE-LEFT; "
        "python -c 'import numpy, pandas, jupyterlab; print(numpy.__version__ > \"1.26\", pandas.__version__ > \"2.1\")';"
        "find /opt/venv/lib -name '*.pyc' -path '*pandas*' | head -1 | grep -q . && echo COMPILED", user="root")
    assert found.split() == ["True", "True", "COMPILED"], found

    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run([sys.executable, "-m", "toolkit", "verify", str(profile), "--target",
                           f"docker-image://{built.tag}", "--json"], capture_output=True, text=True, timeout=600,
                          env=env, check=False)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "failed" not in {c["status"] for c in json.loads(proc.stdout)["checks"]}

    uv_size = docker_engine.images.get(built.tag).attrs["Size"]
    pip_size = docker_engine.images.get(datascience_image).attrs["Size"]
    assert uv_size <= pip_size * 1.02, (uv_size, pip_size)
