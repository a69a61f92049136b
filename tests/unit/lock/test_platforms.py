"""The pip platform of each supported OS release (uv's --python-platform)."""

from __future__ import annotations

import pytest

from toolkit.compat.data_model import bundled_raw
from toolkit.lock.model import LockError
from toolkit.lock.platforms import GLIBC, pip_platform


def test_every_release_of_the_compat_data_has_a_glibc():
    releases = {(distro, version) for distro, rels in bundled_raw()["os"].items() for version in rels}
    assert releases - set(GLIBC) == set(), "add the glibc of these releases to toolkit/lock/platforms.py"
    assert set(GLIBC) - releases == set(), "releases toolkit no longer supports: drop them from platforms.py"


@pytest.mark.parametrize("distro, version, arch, expected", [
    ("debian", "12", "x86_64", "x86_64-manylinux_2_36"),
    ("debian", "12", "amd64", "x86_64-manylinux_2_36"),
    ("debian", "11", "arm64", "aarch64-manylinux_2_31"),
    ("ubuntu", "22.04", "x86_64", "x86_64-manylinux_2_35"),
    ("ubuntu", "24.04", "aarch64", "aarch64-manylinux_2_39"),
    ("debian", "13", "x86_64", "x86_64-manylinux_2_40"),     # glibc 2.41: uv's highest level
])
def test_platform_follows_the_release_glibc(distro, version, arch, expected):
    assert pip_platform(distro, version, arch) == expected


def test_unknown_release_or_arch_is_a_lock_error():
    with pytest.raises(LockError, match="debian 99") as err:
        pip_platform("debian", "99")
    assert "platforms.py" in (err.value.hint or "")
    with pytest.raises(LockError, match="ppc64le"):
        pip_platform("debian", "12", "ppc64le")
