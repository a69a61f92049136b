"""SSH connections for apply (paramiko), strict about host keys.

- Host keys are checked against a known_hosts file (~/.ssh/known_hosts, --known-hosts FILE or
  the host's UserKnownHostsFile). An unknown host is refused with the command that trusts it;
  `accept_new` (--accept-new-host-keys) adds its key to that file instead. A key that differs
  from the one on file is always refused, loudly: that is what a man-in-the-middle looks like.
- Auth: the host's identity file (else ~/.ssh keys), the agent, then the password if one is
  known. The agent is never forwarded.
- Jump hosts (ProxyJump) are a direct-tcpip channel through the jump host's own connection,
  host keys checked at every hop.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
from paramiko.hostkeys import InvalidHostKey
from paramiko.ssh_exception import NoValidConnectionsError

from toolkit import inputs
from toolkit.errors import ToolkitError
from toolkit.executors.inventory import Host

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
KNOWN_HOSTS_MAX = 16 * inputs.MiB


class ConnectError(ToolkitError):
    """The host could not be reached or refused us; `lines` says why, for the result table."""

    def __init__(self, message: str, hint: str | None = None, *, step: str = "connect"):
        super().__init__(message, hint)
        self.step = step

    @property
    def lines(self) -> list[str]:
        return [self.message] + ([self.hint] if self.hint else [])


class KnownHosts:
    """One known_hosts file; `add` appends a line (thread-safe, never rewrites the file)."""

    def __init__(self, path: str | None = None):
        self.path = Path(path or DEFAULT_KNOWN_HOSTS).expanduser()
        self._lock = threading.Lock()
        self._parsed: tuple[tuple[int, int], paramiko.HostKeys] | None = None   # (mtime_ns, size), keys
        self.read()     # a FIFO, device or non-UTF-8 file is refused now (exit 2), not mid-connection

    def read(self) -> str:
        """The file's text ('' when there is none yet); an InputError when it is not a usable file."""
        if not os.path.lexists(self.path):
            return ""
        return inputs.read_text(self.path, what="known_hosts file", limit=KNOWN_HOSTS_MAX)

    def keys(self) -> paramiko.HostKeys:
        """The file's keys, parsed once per change of the file (its mtime and size): a fleet of N hosts
        reads one file once, not N times (parsing every host's keys for each connection was O(N^2))."""
        with self._lock:
            try:
                stat = os.stat(self.path)
            except FileNotFoundError:
                return paramiko.HostKeys()
            signature = (stat.st_mtime_ns, stat.st_size)
            if self._parsed is None or self._parsed[0] != signature:
                keys = paramiko.HostKeys()
                if self.read():
                    try:
                        keys.load(str(self.path))
                    except (OSError, UnicodeError, paramiko.SSHException, InvalidHostKey) as exc:
                        raise inputs.InputError(inputs.shown(self.path, 200),
                                                f"cannot be read ({type(exc).__name__})",
                                                "fix or remove the broken line, e.g. with ssh-keygen -R HOST",
                                                what="known_hosts file") from None
                self._parsed = (signature, keys)
            return self._parsed[1]

    def load_into(self, client: paramiko.SSHClient, host: Host) -> None:
        """The host's own keys (under every name a lookup may use) into the client's host keys."""
        known, mine = self.keys(), client.get_host_keys()
        paramiko_name = host.hostname if host.port == 22 else f"[{host.hostname}]:{host.port}"
        for name in dict.fromkeys((key_name(host), paramiko_name)):
            for key_type, key in (known.lookup(name) or {}).items():
                mine.add(name, key_type, key)

    def add(self, name: str, key: paramiko.PKey) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with open(self.path, "a", encoding="ascii") as fh:
                fh.write(f"{name} {key.get_name()} {key.get_base64()}\n")


def check_known_hosts(hosts, default: str | None) -> None:
    """Refuse (InputError, exit 2) a known_hosts file any of these hosts or their jump hosts would read
    that is not a usable file, before anything connects (OpenSSH under --engine ansible reads them too)."""
    paths = {default}
    for host in hosts:
        hop = host
        while hop is not None:
            paths.add(hop.known_hosts or default)
            hop = hop.jump
    for path in sorted(paths, key=str):
        KnownHosts(path)


@dataclass
class SshSettings:
    known_hosts: KnownHosts = field(default_factory=KnownHosts)
    accept_new: bool = False
    password: str | None = None          # tried after keys and agent
    timeout: float = 15.0
    _files: dict = field(default_factory=dict, repr=False)   # known_hosts path -> KnownHosts
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def known_hosts_for(self, host: Host) -> KnownHosts:
        """The host's own UserKnownHostsFile (from the ssh config) or the run's file."""
        if not host.known_hosts:
            return self.known_hosts
        with self._lock:
            return self._files.setdefault(host.known_hosts, KnownHosts(host.known_hosts))


def fingerprint(key: paramiko.PKey) -> str:
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")
    return f"{key.get_name()} SHA256:{digest}"


def key_name(host: Host) -> str:
    name = f"[{host.hostname}]" if ":" in host.hostname else host.hostname
    return name if host.port == 22 else f"[{name.strip('[]')}]:{host.port}"


def keyscan_command(host: Host, known: KnownHosts) -> str:
    port = f"-p {host.port} " if host.port != 22 else ""
    return f"ssh-keyscan {port}{host.hostname} >> {known.path}"


class _Policy(paramiko.MissingHostKeyPolicy):
    def __init__(self, host: Host, known: KnownHosts, accept_new: bool):
        self.host, self.known, self.accept_new = host, known, accept_new

    def missing_host_key(self, client, hostname, key):
        if not self.accept_new:
            raise ConnectError(
                f"{hostname} is not a known host ({fingerprint(key)} is not in {self.known.path}); refused",
                f"check the key, then trust it: {keyscan_command(self.host, self.known)} "
                "(or pass --accept-new-host-keys)", step="host key")
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.known.add(hostname, key)


def _changed(host: Host, known: KnownHosts, exc: paramiko.BadHostKeyException) -> ConnectError:
    return ConnectError(
        f"HOST KEY CHANGED for {key_name(host)}: the host sent {fingerprint(exc.key)}, "
        f"but {known.path} has {fingerprint(exc.expected_key)}. Someone may be intercepting the "
        "connection (man-in-the-middle), or the host was reinstalled. Refused.",
        f"if you know why it changed: ssh-keygen -R '{key_name(host)}' -f {known.path}, "
        f"then {keyscan_command(host, known)}", step="host key CHANGED")


def _client(host: Host, settings: SshSettings, sock=None) -> paramiko.SSHClient:
    try:
        known = settings.known_hosts_for(host)
        client = paramiko.SSHClient()
        known.load_into(client, host)
    except inputs.InputError as exc:
        raise ConnectError(exc.message, exc.hint, step="known_hosts") from None
    client.set_missing_host_key_policy(_Policy(host, known, settings.accept_new))
    where = f"{host.user}@{host.hostname}:{host.port}"
    try:
        client.connect(host.hostname, port=host.port, username=host.user, password=settings.password,
                       key_filename=host.identity, look_for_keys=host.identity is None, allow_agent=True,
                       timeout=settings.timeout, banner_timeout=settings.timeout, auth_timeout=settings.timeout,
                       sock=sock)
    except ConnectError:
        client.close()
        raise
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise _changed(host, known, exc) from None
    except paramiko.AuthenticationException as exc:
        client.close()
        raise ConnectError(f"authentication failed for {where}: {exc}",
                           "check the user and --identity, or load the key into ssh-agent",
                           step="authentication") from None
    except (TimeoutError, OSError, paramiko.SSHException, EOFError) as exc:
        client.close()
        why = "connection refused" if isinstance(exc, NoValidConnectionsError) else str(exc) or type(exc).__name__
        raise ConnectError(f"cannot connect to {where}: {why}", "is sshd running there, on that port?") from None
    transport = client.get_transport()
    if transport is not None:
        transport.set_keepalive(15)
    return client



def transport(client: paramiko.SSHClient) -> paramiko.Transport:
    """The client's transport; SSHException (as paramiko raises for a dead one) when it has none."""
    found = client.get_transport()
    if found is None:
        raise paramiko.SSHException("SSH session not active")
    return found

class Connection:
    """An open connection to a host (through its jump hosts); close() closes every hop."""

    def __init__(self, host: Host, settings: SshSettings):
        self.host = host
        self._hops: list[paramiko.SSHClient] = []
        try:
            self.client = self._open(host, settings)
        except BaseException:
            self.close()
            raise

    def _open(self, host: Host, settings: SshSettings) -> paramiko.SSHClient:
        sock = None
        if host.jump is not None:
            jump = self._open(host.jump, settings)
            try:
                sock = transport(jump).open_channel(
                    "direct-tcpip", (host.hostname, host.port), ("127.0.0.1", 0), timeout=settings.timeout)
            except (paramiko.SSHException, OSError) as exc:
                raise ConnectError(f"jump host {host.jump} could not reach {host.hostname}:{host.port}: {exc}") from None
        client = _client(host, settings, sock)
        self._hops.append(client)
        return client

    @property
    def alive(self) -> bool:
        transport = self.client.get_transport()
        return transport is not None and transport.is_active()

    def run(self, command: str, timeout: float = 60.0) -> tuple[int, str]:
        """A short command as the login user: (exit status, stdout + stderr)."""
        channel = transport(self.client).open_session(timeout=timeout)
        channel.settimeout(timeout)
        channel.set_combine_stderr(True)
        channel.exec_command(command)
        channel.shutdown_write()
        chunks = []
        while data := channel.recv(65536):
            chunks.append(data)
        return channel.recv_exit_status(), b"".join(chunks).decode(errors="replace")

    def close(self) -> None:
        for client in reversed(self._hops):
            client.close()
        self._hops.clear()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
