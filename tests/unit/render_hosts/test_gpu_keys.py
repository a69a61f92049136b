"""Pinned signing keys of NVIDIA's apt repositories: key_is (the check setup.sh and the playbook run)
against keys made here with the real gpg, under dash and bash."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from toolkit.components import driver
from toolkit.model import host_probes

from . import in_ci


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Two fresh public keys A and B: (fingerprints, {name: armoured file})."""
    if shutil.which("gpg") is None:
        reason = "gpg not found (apt-get install gpg; scripts/ensure-gpu-tools.sh installs it)"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("gpg")
    env = dict(os.environ, GNUPGHOME=str(root / "home"))
    (root / "home").mkdir(mode=0o700)

    def gpg(*args: str) -> str:
        return subprocess.run(["gpg", "--batch", "--quiet", *args], env=env, capture_output=True, text=True,
                              check=True).stdout

    fprs = {}
    for name in ("a", "b"):
        gpg("--passphrase", "", "--quick-gen-key", f"toolkit test {name} <{name}@example.invalid>", "ed25519",
            "sign", "never")
        listing = gpg("--with-colons", "--list-keys", f"{name}@example.invalid")
        fprs[name] = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
    files = {"a": root / "a.asc", "ab": root / "ab.asc", "junk": root / "junk.asc"}
    files["a"].write_text(gpg("--armor", "--export", fprs["a"]))
    files["ab"].write_text(gpg("--armor", "--export", fprs["a"], fprs["b"]))
    files["junk"].write_text("<html>captive portal</html>\n")
    return fprs, files


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_key_is_accepts_exactly_the_pinned_key(keys, shell):
    fprs, files = keys

    def key_is(path, fingerprint):
        return subprocess.run([shell, "-c", host_probes.KEY_CHECK + 'key_is "$1" "$2"', "key", str(path), fingerprint],
                              capture_output=True, text=True)

    assert key_is(files["a"], fprs["a"]).returncode == 0
    wrong = key_is(files["a"], fprs["b"])
    assert wrong.returncode == 1 and f"holds the primary key(s) {fprs['a']}, not the pinned {fprs['b']}" in wrong.stderr
    # the pinned key plus another one: apt would trust both, so it is refused
    two = key_is(files["ab"], fprs["a"])
    assert two.returncode == 1 and fprs["b"] in two.stderr
    junk = key_is(files["junk"], fprs["a"])
    assert junk.returncode == 1 and "primary key(s) none" in junk.stderr
    assert key_is(files["a"].with_name("missing.asc"), fprs["a"]).returncode == 1


def test_pinned_fingerprints_are_full_v4_fingerprints():
    for fingerprint in (driver.CUDA_REPO_KEY[1], driver.CONTAINER_KEY_FINGERPRINT):
        assert len(fingerprint) == 40 and fingerprint == fingerprint.upper()
        int(fingerprint, 16)
    assert driver.CUDA_REPO_KEY[1].endswith(driver.CUDA_REPO_KEY[0].removesuffix(".pub").upper())
