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


FAKE_TOOLS = r'''
apt_install() { :; }
curl() {  # the last argument is the URL; -o names the file; URLs map to files in $KEYS (the rest: 404)
  local out="" url="" prev=""
  for a in "$@"; do
    if [ "$prev" = -o ]; then out="$a"; fi
    prev="$a"; url="$a"
  done
  echo "curl $url" >>"$KEYS/calls"
  [ -f "$KEYS/${url##*/}" ] || { echo "curl: (22) The requested URL returned error: 404" >&2; return 22; }
  cp -- "$KEYS/${url##*/}" "$out"
}
'''


def _function(text: str, name: str) -> str:
    start = text.index(f"{name}() {{")
    return text[start:text.index("\n}\n", start) + 3]


@pytest.fixture
def apt_key_pinned(keys, tmp_path):
    """Runs setup.sh's apt_key_pinned with real gpg and key_is; only curl and apt_install are stand-ins
    (NVIDIA's servers cannot be reached from here)."""
    from toolkit.model.osfamily import DEBIAN
    from toolkit.render import script_repo

    fprs, files = keys
    served = tmp_path / "served"
    served.mkdir()
    for name, path in files.items():
        (served / f"{name}.asc").write_text(path.read_text())
    body = host_probes.KEY_CHECK + FAKE_TOOLS + _function(script_repo.library(DEBIAN), "apt_key_pinned")

    def run(url: str, fingerprint: str, dest) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", body + 'apt_key_pinned "$@"', "t", url, fingerprint, str(dest)],
                              capture_output=True, text=True, env=dict(os.environ, KEYS=str(served)))
    return run, fprs, served


def test_apt_key_pinned_installs_only_the_pinned_key(apt_key_pinned, tmp_path):
    run, fprs, served = apt_key_pinned
    dest = tmp_path / "keyrings" / "nvidia.asc"
    dest.parent.mkdir()
    url = "https://example.invalid/repo/a.asc"

    wrong = run(url, fprs["b"], dest)
    assert wrong.returncode == 1 and "not the one toolkit pins" in wrong.stderr and not dest.exists()
    two = run("https://example.invalid/repo/ab.asc", fprs["a"], dest)
    assert two.returncode == 1 and not dest.exists()
    missing = run("https://example.invalid/repo/gone.asc", fprs["a"], dest)
    assert missing.returncode == 1 and "could not download" in missing.stderr and not dest.exists()

    ok = run(url, fprs["a"], dest)
    assert ok.returncode == 0, ok.stderr
    assert f"signing key {fprs['a']} checked and installed" in ok.stdout
    assert dest.read_text() == (served / "a.asc").read_text() and oct(dest.stat().st_mode & 0o777) == "0o644"
    calls = (served / "calls").read_text().count("curl ")
    again = run(url, fprs["a"], dest)        # already installed and still the pinned key: no download
    assert again.returncode == 0 and (served / "calls").read_text().count("curl ") == calls


def test_package_repository_probe_needs_its_entry_and_the_pinned_key(keys, tmp_path):
    """PackageRepository.probe (setup.sh, Ansible, --dry-run): done only when the source entry is exactly ours
    and the installed key is the pinned one (or the host set the repository up itself)."""
    import dataclasses

    from toolkit.model.steps import PackageRepository

    fprs, files = keys
    repo = PackageRepository("m", "r", name="toolkit-test-repo", url="https://example.invalid/nothing-here/",
                             key_url="https://example.invalid/key", key_fingerprint=fprs["a"],
                             signed_by=str(tmp_path / "r.asc"))

    def done(r: PackageRepository, source: str) -> int:
        argv = list(r.probe())
        argv[5] = source          # the source file, here instead of the family's sources folder
        return subprocess.run(argv, capture_output=True, text=True).returncode

    source = tmp_path / "r.list"
    assert done(repo, str(source)) == 1                      # nothing yet
    source.write_text(repo.source_line())
    assert done(repo, str(source)) == 1                      # entry, but no key
    (tmp_path / "r.asc").write_text(files["ab"].read_text())
    assert done(repo, str(source)) == 1                      # a key file with a second key
    (tmp_path / "r.asc").write_text(files["a"].read_text())
    assert done(repo, str(source)) == 0
    source.write_text(repo.source_line().replace("https", "http"))
    assert done(repo, str(source)) == 1                      # someone else's entry in our file
    source.write_text(repo.source_line())
    assert done(dataclasses.replace(repo, key_fingerprint=fprs["b"]), str(source)) == 1
