"""The real CLI on real filesystems: a full tmpfs, a read-only remount, a folder the user cannot
write. Needs root and mount (skipped with the reason otherwise)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.outputs.owned import STAGING_PREFIX

pytestmark = pytest.mark.process     # real toolkit processes: outside the fast tier

REPO = Path(__file__).resolve().parents[3]
PROFILE = str(REPO / "profiles" / "datascience-cpu.yaml")
BIGGER = str(REPO / "profiles" / "pytorch-cuda.yaml")


def toolkit(*args: str, user: int | None = None) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "toolkit", *args]
    if user is not None:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)})


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def tmpfs(tmp_path):
    """A 256 KiB tmpfs, unmounted afterwards."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root and mount(8) to mount a tmpfs")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {res.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(folder: Path) -> None:
    """Fill the filesystem of folder to the last byte."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\1" * 512):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def test_full_filesystem_keeps_the_old_render(tmpfs):
    out = tmpfs / "out"
    first = toolkit("render", PROFILE, "-o", str(out))
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    fill(tmpfs)
    res = toolkit("render", BIGGER, "-o", str(out))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "No space left on device" in res.stderr and "Traceback" not in res.stderr
    assert snapshot(out) == before
    assert not list(out.glob(STAGING_PREFIX + "*"))


def test_read_only_filesystem_is_exit_2(tmpfs):
    out = tmpfs / "out"
    assert toolkit("render", PROFILE, "-o", str(out)).returncode == 0
    before = snapshot(out)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    res = toolkit("render", BIGGER, "-o", str(out))
    assert res.returncode == 2 and "Read-only file system" in res.stderr and "Traceback" not in res.stderr
    res = toolkit("render", PROFILE, "-o", str(tmpfs / "new"))
    assert res.returncode == 2 and "read-only" in res.stderr
    assert snapshot(out) == before


def test_permission_denied_is_exit_2(tmp_path):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv(1) to run toolkit as another user")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o755)
    tmp_path.chmod(0o755)
    res = toolkit("render", PROFILE, "-o", str(locked), user=65534)
    if "Traceback" in res.stderr and "ModuleNotFoundError" in res.stderr:
        pytest.skip("toolkit is not importable by the nobody user here")
    assert res.returncode == 2, res.stderr
    assert "Permission denied" in res.stderr and "Traceback" not in res.stderr
    assert not any(locked.iterdir())


def test_output_under_a_regular_file_is_exit_2(tmp_path):
    (tmp_path / "plain").write_text("x")
    res = toolkit("render", PROFILE, "-o", str(tmp_path / "plain" / "out"))
    assert res.returncode == 2 and "Not a directory" in res.stderr and "Traceback" not in res.stderr
