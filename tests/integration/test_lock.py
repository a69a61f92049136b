"""`toolkit lock` against the real archive and index, then locked builds on a real engine.

datascience-cpu on the local Debian 12 base: the lock pins every OS package (dependencies included)
and every pip package with hashes; two `--no-cache` builds from it install identical package sets,
and `verify --locked` passes on them.
"""

from __future__ import annotations

import json
import uuid

import pytest

from toolkit.lock import lockfile

from . import images
from .harness import image_id
from .test_build import remove_image, toolkit

pytestmark = pytest.mark.docker

INVENTORY = ("/opt/venv/bin/python -m pip freeze --all | LC_ALL=C sort; echo ---; "
             "dpkg-query -W -f '${Package}=${Version}\\n' | LC_ALL=C sort")


@pytest.fixture(scope="module")
def datascience_lock(docker_engine, base_image, host_ca_bundle, tmp_path_factory):
    folder = tmp_path_factory.mktemp("lock")
    profile = images.datascience_profile(folder, base_image, host_ca_bundle, name="datascience-lock")
    result = toolkit("lock", str(profile), timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return profile, folder / "datascience-lock.lock", result


def test_lock_pins_every_package_with_hashes(docker_engine, base_image, datascience_lock):
    _, path, result = datascience_lock
    lock = lockfile.read(path)
    names = {p.name for p in lock.pip}
    assert {"numpy", "pandas", "jupyterlab", "jupyter-server", "tornado", "python-dateutil"} <= names
    assert len(lock.pip) > 60, sorted(names)                     # jupyterlab brings many
    assert all(p.hashes and all(h.startswith("sha256:") for h in p.hashes) for p in lock.pip)
    assert all(p.index for p in lock.pip)
    os_names = {p.name for p in lock.os_packages}
    assert {"python3-venv", "git", "ca-certificates", "python3.11"} <= os_names
    assert len(os_names) > len({"python3-venv", "git", "ca-certificates"})   # dependencies are pinned too
    assert lock.base_image is not None and lock.base_image.kind == "image-id"
    assert lock.base_image.digest == image_id(docker_engine, base_image)
    assert lock.python is not None and lock.python.version.startswith("3.11.")
    assert "python3.11" in lock.python.source
    # A second lock without --upgrade keeps every version: the file does not change.
    before = path.read_text()
    again = toolkit("lock", str(datascience_lock[0]), timeout=900)
    assert again.returncode == 0, again.stderr
    assert path.read_text() == before


def test_two_cold_locked_builds_install_the_same_packages(docker_engine, datascience_lock):
    profile, path, _ = datascience_lock
    tags = [f"toolkit-test/locked-{uuid.uuid4().hex[:8]}:{n}" for n in (1, 2)]
    try:
        listings = []
        for tag in tags:
            built = toolkit("build", str(profile), "-t", tag, "--locked", "--no-cache", timeout=1800)
            assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
            assert "locked:" in built.stdout
            listings.append(images.run_in_image(docker_engine, tag, INVENTORY))
        assert listings[0] == listings[1]
        lock = lockfile.read(path)
        pip_part = listings[0].split("---")[0]
        for p in lock.pip:
            assert f"{p.name}=={p.version}".lower() in pip_part.lower().replace("_", "-"), p.name
        checked = toolkit("verify", str(profile), "--locked", "--target", f"docker-image://{tags[0]}", "--json",
                          timeout=600)
        assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
        results = json.loads(checked.stdout)["checks"]
        locked = [r for r in results if r["kind"] in ("pip_version", "os_package_version")]
        assert len(locked) == len(lock.pip) + len(lock.os_packages)
        assert all(r["status"] == "passed" for r in locked)
        layers = [docker_engine.images.get(t).attrs["RootFS"]["Layers"] for t in tags]
        same = sum(a == b for a, b in zip(*layers))
        print(f"layer digests equal in {same} of {len(layers[0])} layers")   # docs/benchmarks.md records it
    finally:
        for tag in tags:
            remove_image(docker_engine, tag)
