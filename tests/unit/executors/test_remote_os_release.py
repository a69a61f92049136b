"""The host's os-release read over the upload's SFTP session: /etc first, then /usr/lib, else empty."""

from __future__ import annotations

import io

from toolkit.executors.remote_apply import _os_release


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
    assert _os_release(both) == 'ID=debian\nVERSION_ID="12"\n' and both.opened == ["/etc/os-release"]
    lib = _Sftp({"/usr/lib/os-release": b"ID=rocky\n"})
    assert _os_release(lib) == "ID=rocky\n" and lib.opened == ["/etc/os-release", "/usr/lib/os-release"]
    assert _os_release(_Sftp({})) == ""
    # bytes that are not UTF-8 do not stop the check
    assert _os_release(_Sftp({"/etc/os-release": b"ID=deb\xffian\n"})) == "ID=deb\ufffdian\n"
