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
from toolkit.lock.requests import ENGINE_STEP

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


@pytest.mark.slow     # two cold builds (~90 s); CI builds from a lock in test_a_month_later_... and verifies --locked
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
        engine = [p for p in lock.os_packages if p.step == ENGINE_STEP]     # the Ansible engine's: no step installs them
        assert engine and len(locked) == len(lock.pip) + len(lock.os_packages) - len(engine)
        assert all(r["status"] == "passed" for r in locked)
        layers = [docker_engine.images.get(t).attrs["RootFS"]["Layers"] for t in tags]
        same = sum(a == b for a, b in zip(*layers, strict=True))
        print(f"layer digests equal in {same} of {len(layers[0])} layers")   # docs/benchmarks.md records it
    finally:
        for tag in tags:
            remove_image(docker_engine, tag)


def month_profile(folder, base_image: str, index_url: str, pip: tuple[str, ...] = ("toolkitmonth",)):
    import yaml

    doc = {
        "name": "month-test",
        "os": {"distro": "debian", "version": "12", "base_image": base_image},
        "python": {"version": "system", "venv": "/opt/venv", "installer": "pip"},
        "git": {"enabled": False},
        "user": {"name": "dev", "uid": 1000, "gid": 1000},
        "network": {"pip": {"index_url": index_url}},
        "packages": {"pip": list(pip)},
    }
    path = folder / "month-test.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_a_month_later_the_locked_build_still_installs_what_was_locked(docker_engine, base_image, tmp_path):
    """The index holds toolkitmonth 1.0 when the lock is made; 1.1 appears later. A locked build installs
    1.0, an unlocked one 1.1, and `verify --locked` on the unlocked image names the package (exit 3)."""
    from tests.indexserver import serve_index

    tags = {k: f"toolkit-test/month-{uuid.uuid4().hex[:8]}:{k}" for k in ("locked", "unlocked")}
    with serve_index(tmp_path / "wheels") as index:
        index.add("toolkitmonthdep", "1.0")
        index.add("toolkitmonth", "1.0", requires=["toolkitmonthdep>=1.0"])
        profile = month_profile(tmp_path, base_image, index.url)
        made = toolkit("lock", str(profile), timeout=600)
        assert made.returncode == 0, made.stdout + made.stderr
        lock = lockfile.read(tmp_path / "month-test.lock")
        assert {(p.name, p.version) for p in lock.pip} >= {("toolkitmonth", "1.0"), ("toolkitmonthdep", "1.0")}
        index.add("toolkitmonthdep", "1.1")
        index.add("toolkitmonth", "1.1", requires=["toolkitmonthdep>=1.1"])
        try:
            for kind, extra in (("locked", ["--locked"]), ("unlocked", [])):
                built = toolkit("build", str(profile), "-t", tags[kind], "--network", "host", *extra, timeout=1200)
                assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
            versions = {k: images.run_in_image(docker_engine, t, "/opt/venv/bin/python -m pip freeze") for k, t in
                        tags.items()}
            assert "toolkitmonth==1.0" in versions["locked"] and "toolkitmonthdep==1.0" in versions["locked"]
            assert "toolkitmonth==1.1" in versions["unlocked"] and "toolkitmonthdep==1.1" in versions["unlocked"]
            good = toolkit("verify", str(profile), "--locked", "--target", f"docker-image://{tags['locked']}")
            assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-3000:]
            drift = toolkit("verify", str(profile), "--locked", "--target", f"docker-image://{tags['unlocked']}")
            assert drift.returncode == 3, drift.stdout[-3000:] + drift.stderr[-3000:]
            assert "toolkitmonth 1.1, locked 1.0" in drift.stdout + drift.stderr
            assert "toolkitmonthdep 1.1, locked 1.0" in drift.stdout + drift.stderr
            # A re-lock keeps 1.0 (nothing asked to move); --upgrade-package takes 1.1.
            again = toolkit("lock", str(profile), timeout=600)
            assert again.returncode == 0 and "toolkitmonth" not in again.stdout.split("wrote")[0].split("pip packages")[-1]
            assert ("toolkitmonth", "1.0") in {(p.name, p.version) for p in lockfile.read(tmp_path / "month-test.lock").pip}
            moved = toolkit("lock", str(profile), "--upgrade-package", "toolkitmonth", timeout=600)
            assert moved.returncode == 0, moved.stderr
            assert "toolkitmonth 1.0 -> 1.1" in moved.stdout
        finally:
            for tag in tags.values():
                remove_image(docker_engine, tag)


def test_stale_lock_is_refused_before_anything_is_built(docker_engine, base_image, tmp_path):
    from tests.unit.lock.fake_lock import fake_lock
    from toolkit.plan.builder import build_plan
    from toolkit.profile.loader import load_profile

    profile = month_profile(tmp_path, base_image, "https://pypi.org/simple")
    lockfile.write(tmp_path / "month-test.lock", fake_lock(build_plan(load_profile(profile)), kind="image-id"))
    month_profile(tmp_path, base_image, "https://pypi.org/simple", ("toolkitmonth", "rich"))
    result = toolkit("build", str(profile), "-t", "toolkit-test/stale:1", "--locked", timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "month-test.lock no longer matches" in result.stderr and "+rich" in result.stderr
    assert f"toolkit lock {profile}" in result.stderr
    assert "building" not in result.stdout
