"""The probe's service part on this machine: /proc/net/tcp parsing (lines recorded in a systemd container
running the Jupyter unit), EnvironmentFile values, reading the token as root or refusing to guess, and a
real listening socket. The unit itself is checked for real in tests/integration/test_jupyter_service.py."""

from __future__ import annotations

import os
import socket
import sys

import pytest

from toolkit.verify.probe import services

TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 24208 1 0 100 0 0 10 0
   1: 0100007F:22B8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 39385 1 0 100 0 0 10 0
   2: 0100007F:22B8 0100007F:BFC2 06 00000000:00000000 03:0000176C 00000000     0        0 0 3 0
"""
TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000001000000:22B8 00000000000000000000000000000000:0000 0A 00000000:00000000
   1: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000
"""


@pytest.mark.skipif(sys.byteorder != "little", reason="the recorded lines are from a little-endian machine")
def test_listening_addresses_from_recorded_tables(tmp_path):
    (tmp_path / "tcp").write_text(TCP)
    (tmp_path / "tcp6").write_text(TCP6)
    tables = (str(tmp_path / "tcp"), str(tmp_path / "tcp6"))
    assert services.listening(8888, tables) == ["127.0.0.1", "::1"]     # 0x22B8; the TIME_WAIT line is not LISTEN
    assert services.listening(22, tables) == ["0.0.0.0", "::"]
    assert services.listening(9999, tables) == []
    assert services.listening(8888, (str(tmp_path / "missing"),)) == []


def test_a_real_listening_socket_is_seen():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert "127.0.0.1" in services.listening(port)
    assert "127.0.0.1" not in services.listening(port)


@pytest.mark.parametrize("text,value", [
    ("JUPYTER_TOKEN=abc\n", "abc"),
    ("# comment\nJUPYTER_TOKEN=old\nJUPYTER_TOKEN=new\n", "new"),        # the last one wins, as in systemd
    ("JUPYTER_PASSWORD_HASH='argon2:$argon2id$v=19$x'\nJUPYTER_TOKEN='quoted'\n", "quoted"),
    ("JUPYTER_TOKEN_OLD=x\n", None),
    ("", None),
])
def test_env_value(text, value):
    assert services.env_value(text, "JUPYTER_TOKEN") == value


@pytest.mark.skipif(os.geteuid() != 0, reason="reads the file as root (the probe's root path)")
def test_secret_is_read_as_root_and_missing_is_said(tmp_path):
    path = tmp_path / "jupyter.env"
    assert services.secret(str(path), "JUPYTER_TOKEN")[1] == "missing"
    path.write_text("OTHER=1\n")
    assert services.secret(str(path), "JUPYTER_TOKEN")[1:] == ("missing", f"{path} holds no JUPYTER_TOKEN")
    path.write_text("JUPYTER_TOKEN=s3cret\n")
    assert services.secret(str(path), "JUPYTER_TOKEN") == ("s3cret", "read", "as root")


def test_not_root_without_password_less_sudo_is_no_root(monkeypatch):
    monkeypatch.setattr(services.os, "geteuid", lambda: 1001)
    monkeypatch.setattr(services, "run", lambda argv, **kw: {"rc": 1, "out": "",
                                                              "err": "sudo: a password is required\n"})
    monkeypatch.setattr(services.shutil, "which", lambda name: "/usr/bin/sudo")
    value, state, how = services.secret("/etc/toolkit/jupyter.env", "JUPYTER_TOKEN")
    assert (value, state) == (None, "no_root") and "uid 1001" in how


def test_a_host_without_systemd_gives_pid1_alone(monkeypatch):
    monkeypatch.setattr(services, "read", lambda path: "sshd\n" if path == "/proc/1/comm" else None)
    assert services.jupyter_service({"unit": "u", "ip": "127.0.0.1", "port": 1, "env_file": "/x"}) == {"pid1": "sshd"}
