"""Which hosts to apply to: `--host ssh://user@host[:port]` (repeatable) or `--inventory hosts.yaml`.

Inventory file (every key optional except `hosts`; unknown keys are errors)::

    defaults: {user: deploy, port: 22, identity: ~/.ssh/id_ed25519, jump: admin@bastion:2222}
    hosts:
      gpu01: {address: 10.0.0.5, port: 2222}
      gpu02:                        # the name is the address (or a Host alias in the ssh config)
    groups:
      a100: {hosts: [gpu01, gpu02], user: ubuntu}

A value comes from, first to last: the host, its group, `defaults`, the OpenSSH config
(~/.ssh/config or --ssh-config: HostName, Port, User, IdentityFile, ProxyJump,
UserKnownHostsFile), then the command line (--identity, --known-hosts) and ssh's defaults.
Every mistake is a UsageError (exit 2) that names the host and the key.
"""

from __future__ import annotations

import difflib
import getpass
from dataclasses import dataclass, replace
from pathlib import Path

import paramiko
import yaml

from toolkit import redact
from toolkit.errors import UsageError
from toolkit.verify.targets import SSH_HOST_RE, SSH_USER_RE, parse

SETTINGS = ("address", "user", "port", "identity", "jump")
TOP_KEYS = ("defaults", "hosts", "groups")
GROUP_KEYS = ("hosts", *SETTINGS[1:])
MAX_JUMPS = 4


@dataclass(frozen=True)
class Host:
    name: str                         # as the user wrote it: display name and log name
    hostname: str                     # where to connect (IPv6 without brackets)
    port: int = 22
    user: str = ""
    identity: str | None = None       # private key file
    jump: Host | None = None          # connect through this host first (ProxyJump)
    known_hosts: str | None = None    # ssh config's UserKnownHostsFile; None: the run's default
    local: bool = False               # --local: this machine, no SSH

    def __str__(self) -> str:         # user@host:port, the form ProxyJump takes
        host = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return f"{self.user}@{host}:{self.port}"

    @property
    def is_root(self) -> bool:
        return self.user == "root"


LOCAL = Host(name="local", hostname="localhost", user=getpass.getuser(), local=True)


def load_ssh_config(path: str | None) -> paramiko.SSHConfig:
    """--ssh-config FILE (must exist), else ~/.ssh/config when there is one."""
    source = Path(path).expanduser() if path else Path("~/.ssh/config").expanduser()
    if path and not source.is_file():
        raise UsageError(f"ssh config {path} not found")
    return paramiko.SSHConfig.from_path(str(source)) if source.is_file() else paramiko.SSHConfig()


def _closest(key: str, valid: tuple[str, ...]) -> str:
    near = difflib.get_close_matches(key, valid, n=1)
    return f"did you mean {near[0]!r}?" if near else f"valid keys: {', '.join(valid)}"


def _check_keys(where: str, data, valid: tuple[str, ...]) -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a mapping, got {type(data).__name__}")
    for key in data:
        if key not in valid:
            raise UsageError(f"{where}: unknown key {key!r}", _closest(str(key), valid))
    return data


def _target(where: str, text: str) -> dict:
    """user@host:port (ssh:// optional) -> {'address', 'user', 'port'} with what it names."""
    url = text if "://" in text else f"ssh://{text}"
    if not url.startswith("ssh://"):
        raise UsageError(f"{where}: {redact.value(text)!r} is not an ssh address", "use ssh://user@host:port")
    try:
        addr = parse(url)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc.message}", "use ssh://user@host[:port]") from None
    return {"address": addr.name.strip("[]"), "user": addr.user, "port": addr.port}


def _validate(where: str, values: dict) -> None:
    port = values.get("port")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise UsageError(f"{where}: port must be a number from 1 to 65535, got {port!r}")
    for key in ("address", "user", "identity", "jump"):
        if values.get(key) is not None and not isinstance(values[key], str):
            raise UsageError(f"{where}: {key} must be a string, got {values[key]!r}")
    address = values.get("address")
    if address and not SSH_HOST_RE.match(f"[{address}]" if ":" in address else address):
        raise UsageError(f"{where}: invalid address {address!r}")
    if values.get("user") and not SSH_USER_RE.match(values["user"]):
        raise UsageError(f"{where}: invalid user name {values['user']!r}")


class Resolver:
    """Turns a name plus explicit settings into a Host, filling gaps from the ssh config."""

    def __init__(self, ssh_config: paramiko.SSHConfig, identity: str | None = None):
        self.config, self.identity = ssh_config, identity

    def host(self, name: str, values: dict, depth: int = 0) -> Host:
        _validate(f"host {name}", values)
        alias = values.get("address") or name
        cfg = self.config.lookup(alias)
        if cfg.get("proxycommand"):
            raise UsageError(f"host {name}: ProxyCommand in the ssh config is not supported", "use ProxyJump")
        hostname = cfg.get("hostname", alias)     # HostName of a matching Host entry, else the name itself
        if not SSH_HOST_RE.match(f"[{hostname}]" if ":" in hostname else hostname):
            raise UsageError(f"host {name}: invalid address {hostname!r}")
        try:
            port = int(values.get("port") or cfg.get("port", 22))
        except ValueError:
            raise UsageError(f"host {name}: invalid port {cfg.get('port')!r} in the ssh config") from None
        user = values.get("user") or cfg.get("user") or getpass.getuser()
        _validate(f"host {name}", {"port": port, "user": user})
        identity = values.get("identity") or self.identity or next(iter(cfg.get("identityfile") or []), None)
        jump_text = values.get("jump") or cfg.get("proxyjump")
        jump = self.jump(name, jump_text, depth) if jump_text and jump_text != "none" else None
        known = (cfg.get("userknownhostsfile") or "").split()
        return Host(name=name, hostname=hostname, port=port, user=user,
                    identity=str(Path(identity).expanduser()) if identity else None, jump=jump,
                    known_hosts=str(Path(known[0]).expanduser()) if known else None)

    def jump(self, name: str, text: str, depth: int) -> Host:
        """ProxyJump a,b,c: connect to a, through it to b, through b to c, through c to the host."""
        if depth >= MAX_JUMPS:
            raise UsageError(f"host {name}: more than {MAX_JUMPS} jump hosts (a ProxyJump loop?)")
        hops = [h.strip() for h in text.split(",") if h.strip()]
        last = hops[-1]
        values = {k: v for k, v in _target(f"host {name}: jump", last).items() if v}
        alias = values.pop("address")
        head = self.host(alias, values, depth + 1)
        if len(hops) > 1:
            head = replace(head, jump=self.jump(name, ",".join(hops[:-1]), depth + 1))
        return head


def from_urls(urls: tuple[str, ...], resolver: Resolver) -> list[Host]:
    hosts = []
    for url in urls:
        values = {k: v for k, v in _target("--host", url).items() if v}
        hosts.append(resolver.host(url.removeprefix("ssh://"), values))
    return _unique(hosts)


def from_file(path: str, resolver: Resolver) -> list[Host]:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"inventory {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"inventory {path}: not valid YAML: {exc}") from None
    doc = _check_keys(f"inventory {path}", doc, TOP_KEYS)
    defaults = _check_keys(f"{path}: defaults", doc.get("defaults"), SETTINGS[1:])
    hosts = doc.get("hosts")
    if not isinstance(hosts, dict) or not hosts:
        raise UsageError(f"{path}: `hosts` must map host names to their settings", "hosts: {gpu01: {user: ubuntu}}")
    group_of: dict[str, tuple[str, dict]] = {}
    groups = doc.get("groups") or {}
    if not isinstance(groups, dict):
        raise UsageError(f"{path}: `groups` must map group names to {{hosts: [...], user: ...}}")
    for group, gdata in groups.items():
        gdata = _check_keys(f"{path}: group {group}", gdata, GROUP_KEYS)
        members = gdata.get("hosts") or []
        if not isinstance(members, list):
            raise UsageError(f"{path}: group {group}: hosts must be a list of host names")
        for member in members:
            if member not in hosts:
                raise UsageError(f"{path}: group {group}: unknown host {member!r}", _closest(str(member), tuple(hosts)))
            if member in group_of:
                raise UsageError(f"{path}: host {member} is in groups {group_of[member][0]} and {group}",
                                 "a host takes its settings from one group")
            group_of[member] = (group, {k: v for k, v in gdata.items() if k != "hosts"})
    out = []
    for name, hdata in hosts.items():
        hdata = _check_keys(f"{path}: host {name}", hdata, SETTINGS)
        values = {**defaults, **group_of.get(name, ("", {}))[1], **hdata}
        out.append(resolver.host(str(name), values))
    return _unique(out)


def _unique(hosts: list[Host]) -> list[Host]:
    seen: dict[tuple, str] = {}
    for h in hosts:
        key = (h.hostname, h.port, h.user)
        if key in seen:
            raise UsageError(f"hosts {seen[key]} and {h.name} are the same target ({h})", "list each host once")
        seen[key] = h.name
    return hosts


def resolve(urls: tuple[str, ...], inventory: str | None, local: bool, *, ssh_config: str | None = None,
            identity: str | None = None) -> list[Host]:
    """The hosts of one apply; exactly one of --host, --inventory, --local."""
    given = sum([bool(urls), bool(inventory), local])
    if given != 1:
        raise UsageError("give exactly one of --host URL (repeatable), --inventory FILE or --local")
    if local:
        return [LOCAL]
    resolver = Resolver(load_ssh_config(ssh_config), identity)
    return from_urls(urls, resolver) if urls else from_file(inventory or "", resolver)
