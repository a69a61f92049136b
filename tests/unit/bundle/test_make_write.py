"""A bundle's text files: written whole (a .part renamed) with their mode from the start, so setup.sh and the
playbook are never readable by others, even for a moment, when they carry a profile's TLS key (mode 0600)."""

from __future__ import annotations

import os

from toolkit.bundle import make


def test_a_file_has_its_mode_from_the_start_and_replaces_the_old_one(tmp_path):
    old = os.umask(0o077)
    try:
        make._write(tmp_path / "a" / "open.txt", "x\n")       # the umask does not narrow what the bundle says
    finally:
        os.umask(old)
    assert (tmp_path / "a" / "open.txt").stat().st_mode & 0o777 == 0o644
    target = tmp_path / "setup.sh"
    target.write_text("old")
    target.chmod(0o644)
    (tmp_path / "setup.sh.part").write_text("a leftover of a run that was cut")
    make._write(target, "secret\n", mode=0o600)
    assert target.read_text() == "secret\n" and target.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "setup.sh.part").exists()

