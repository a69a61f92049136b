"""The pip platform of a target OS release: which manylinux wheels its glibc runs.

uv resolves for another machine with `--python-platform ARCH-manylinux_2_NN`; NN is the minor version of
the release's glibc, so wheels built for a newer glibc are never picked for an older target. uv knows
manylinux levels up to 2_40; a newer glibc runs every wheel tagged up to 2_40, so it gets 2_40 (wheels
tagged above 2_40 are passed over: none of the packages toolkit installs needs one today).

Every OS release of the compat data (toolkit/compat/data/compat.yaml `os:`) has a row here;
tests/unit/lock/test_platforms.py fails when a release is added there and not here.
"""

from __future__ import annotations

from toolkit.lock.model import LockError

# glibc of each release, from the distribution's own libc6 / glibc package (packages.debian.org,
# packages.ubuntu.com, the RHEL 8/9 package lists).
GLIBC: dict[tuple[str, str], tuple[int, int]] = {
    ("ubuntu", "20.04"): (2, 31),
    ("ubuntu", "22.04"): (2, 35),
    ("ubuntu", "24.04"): (2, 39),
    ("ubuntu", "26.04"): (2, 42),   # not confirmed (25.10 ships 2.42); above uv's 2_40 either way
    ("debian", "11"): (2, 31),
    ("debian", "12"): (2, 36),
    ("debian", "13"): (2, 41),
    # RHEL rebuilds: glibc of RHEL 8 / 9 (the rebuilds ship RHEL's package unchanged).
    ("rocky", "8"): (2, 28),
    ("rocky", "9"): (2, 34),
    ("almalinux", "8"): (2, 28),
    ("almalinux", "9"): (2, 34),
}
UV_MAX_MANYLINUX = (2, 40)
ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


def pip_platform(distro: str, version: str, arch: str = "x86_64") -> str:
    """uv's --python-platform for a release and CPU: ("debian", "12", "amd64") -> "x86_64-manylinux_2_36"."""
    glibc = GLIBC.get((distro, version))
    if glibc is None:
        known = ", ".join(f"{d} {v}" for d, v in GLIBC)
        raise LockError(f"no pip platform known for {distro} {version}",
                        f"toolkit locks pip packages for {known}; a new release needs its glibc in "
                        "toolkit/lock/platforms.py")
    cpu = ARCHES.get(arch)
    if cpu is None:
        raise LockError(f"no pip platform known for the architecture {arch!r}",
                        f"use one of: {', '.join(sorted(ARCHES))}")
    major, minor = min(glibc, UV_MAX_MANYLINUX)
    return f"{cpu}-manylinux_{major}_{minor}"
