"""known_hosts read once per change for a whole fleet, each connection given only its own host's keys."""

from __future__ import annotations

import os

import paramiko

from toolkit.executors.inventory import Host
from toolkit.executors.ssh import KnownHosts


def _key() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate()


def test_parsed_once_then_each_client_gets_its_own_hosts_keys(tmp_path, monkeypatch):
    keys = {port: _key() for port in range(2200, 2264)}
    path = tmp_path / "known_hosts"
    path.write_text("".join(f"[127.0.0.1]:{p} {k.get_name()} {k.get_base64()}\n" for p, k in keys.items()))
    known = KnownHosts(str(path))
    loads = []
    real_load = paramiko.HostKeys.load
    monkeypatch.setattr(paramiko.HostKeys, "load", lambda self, f: (loads.append(f), real_load(self, f))[1])
    for port in (2200, 2231, 2263):
        client = paramiko.SSHClient()
        known.load_into(client, Host(name=f"h{port}", hostname="127.0.0.1", port=port, user="u"))
        mine = client.get_host_keys()
        assert list(mine.keys()) == [f"[127.0.0.1]:{port}"]
        assert mine.lookup(f"[127.0.0.1]:{port}")[keys[port].get_name()] == keys[port]
    assert len(loads) == 1                  # 3 connections, one parse

    # a key added (accept-new) changes the file: parsed again, and the new host is known
    new = _key()
    known.add("[127.0.0.1]:2299", new)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1))
    client = paramiko.SSHClient()
    known.load_into(client, Host(name="new", hostname="127.0.0.1", port=2299, user="u"))
    assert client.get_host_keys().lookup("[127.0.0.1]:2299")[new.get_name()] == new and len(loads) == 2


def test_port_22_and_hashed_names(tmp_path):
    key = _key()
    hashed = paramiko.HostKeys.hash_host("gpu1.example")
    path = tmp_path / "known_hosts"
    path.write_text(f"{hashed} {key.get_name()} {key.get_base64()}\n")
    client = paramiko.SSHClient()
    KnownHosts(str(path)).load_into(client, Host(name="gpu1", hostname="gpu1.example", port=22, user="u"))
    assert client.get_host_keys().lookup("gpu1.example")[key.get_name()] == key
    empty = paramiko.SSHClient()
    KnownHosts(str(tmp_path / "missing")).load_into(empty, Host(name="x", hostname="x", port=22, user="u"))
    assert not list(empty.get_host_keys().keys())
