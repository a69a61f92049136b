"""A target's os-release (read over the upload's SFTP session, or locally): /etc first, then /usr/lib, else empty."""

from __future__ import annotations

import io

from toolkit.executors.os_check import read_os_release


class _Sftp:
    """Just the open() of paramiko's SFTPClient: files by path; a missing one raises as paramiko does."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.opened = files, []

    def open(self, path: str):
        self.opened.append(path)
        if path not in self.files:
            raise FileNotFoundError(2, "No such file", path)
        return io.BytesIO(self.files[path])


def test_etc_first_then_usr_lib_then_empty():
    both = _Sftp({"/etc/os-release": b'ID=debian\nVERSION_ID="12"\n', "/usr/lib/os-release": b"ID=other\n"})
    assert read_os_release(both.open) == 'ID=debian\nVERSION_ID="12"\n' and both.opened == ["/etc/os-release"]
    lib = _Sftp({"/usr/lib/os-release": b"ID=rocky\n"})
    assert read_os_release(lib.open) == "ID=rocky\n" and lib.opened == ["/etc/os-release", "/usr/lib/os-release"]
    assert read_os_release(_Sftp({}).open) == ""
    # bytes that are not UTF-8 do not stop the check
    assert read_os_release(_Sftp({"/etc/os-release": b"ID=deb\xffian\n"}).open) == "ID=deb\ufffdian\n"
