"""SHA256SUMS (sha256sum's own format), its parser, the manifest and the size report."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest

from toolkit.bundle import layout, manifest


def make(tmp_path):
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "a-1.0-py3-none-any.whl").write_bytes(b"A" * 300)
    (tmp_path / "debs").mkdir()
    (tmp_path / "debs" / "b_1_all.deb").write_bytes(b"B" * 100)
    (tmp_path / "install.sh").write_text("#!/bin/sh\n")
    (tmp_path / "wheels" / "c.whl.part").write_bytes(b"partial")      # an interrupted download: not listed
    return tmp_path


def test_sums_are_what_sha256sum_checks(tmp_path):
    root = make(tmp_path)
    text = manifest.sums_text(root)
    (root / layout.SUMS).write_text(text)
    parsed = manifest.parse_sums(text)
    assert sorted(parsed) == ["debs/b_1_all.deb", "install.sh", "wheels/a-1.0-py3-none-any.whl"]
    assert parsed["debs/b_1_all.deb"] == hashlib.sha256(b"B" * 100).hexdigest()
    tool = shutil.which("sha256sum")
    assert tool, "coreutils' sha256sum"
    ok = subprocess.run([tool, "--strict", "-c", layout.SUMS], cwd=root, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (root / "debs" / "b_1_all.deb").write_bytes(b"B" * 99 + b"C")
    bad = subprocess.run([tool, "--strict", "--quiet", "-c", layout.SUMS], cwd=root, capture_output=True, text=True)
    assert bad.returncode != 0 and "debs/b_1_all.deb: FAILED" in bad.stdout


@pytest.mark.parametrize("line", ["x  a", "0" * 64 + " a", "0" * 64 + "  /etc/shadow", "0" * 64 + "  a/../../etc",
                                  "0" * 63 + "g  a", "0" * 64 + "  "])
def test_bad_or_escaping_lines_are_refused(line):
    with pytest.raises(ValueError):
        manifest.parse_sums(line + "\n")


def test_links_and_unprintable_names_are_refused(tmp_path):
    root = make(tmp_path)
    (root / "wheels" / "evil.whl").symlink_to("/etc/passwd")
    with pytest.raises(ValueError, match="symbolic link"):
        manifest.files_of(root)
    (root / "wheels" / "evil.whl").unlink()
    (root / "wheels" / "bad\nname.whl").write_bytes(b"x")
    with pytest.raises(ValueError, match="escape"):
        manifest.sums_text(root)


def test_manifest_and_what_dominates(tmp_path):
    sizes = {"wheels/a.whl": 300, "wheels/b.whl": 50, "debs/c.deb": 100, "install.sh": 10}
    assert list(manifest.groups(sizes).items()) == [("wheels", 350), ("debs", 100), ("scripts and index", 10)]
    assert manifest.largest(sizes, 2) == [("wheels/a.whl", 300), ("debs/c.deb", 100)]
    doc = json.loads(manifest.manifest_text(profile="p", plan_digest="d", lock_id="sha256:1", lock_sha256="e",
                                            toolkit_version="0.1.0", target={"os": "debian 12"}, sizes=sizes,
                                            notes=[]))
    assert doc["total_bytes"] == 460 and doc["files"][0] == {"path": "debs/c.deb", "bytes": 100}
