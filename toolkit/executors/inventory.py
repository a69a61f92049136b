"""Which hosts to apply to: `--target ssh://user@host[:port]` (repeatable) or `--inventory FILE`
(`--limit PATTERN`: only these hosts or groups of it, read as Ansible reads it: inventory_limit).

An inventory file is in one of three formats, told by its content (not its name):

- toolkit's own YAML: `hosts:` at the top (every key optional except `hosts`; unknown keys are errors)::

    defaults: {user: deploy, port: 22, identity: ~/.ssh/id_ed25519, jump: admin@bastion:2222}
    hosts:
      gpu01: {address: 10.0.0.5, port: 2222}
      gpu02:                        # the name is the address (or a Host alias in the ssh config)
    groups:
      a100: {hosts: [gpu01, gpu02], user: ubuntu}

- an Ansible YAML inventory: `all:` (or groups with hosts/children/vars) at the top
  (inventory_ansible_yaml);
- an Ansible INI inventory: `[group]` sections or host lines (inventory_ini).

An Ansible inventory's connection variables (ansible_host, ansible_port, ansible_user,
ansible_ssh_private_key_file, a ProxyJump in ansible_ssh_common_args) become the same settings
(inventory_ansible_vars), with Ansible's precedence: the host's own, then its groups, children before
parents, then `all` (inventory_ansible).

A value comes from, first to last: the host, its group, `defaults` (toolkit's format; Ansible's: the
precedence above), the OpenSSH config (~/.ssh/config or --ssh-config: HostName, Port, User,
IdentityFile, ProxyJump, UserKnownHostsFile), then the command line (--identity, --known-hosts) and
ssh's defaults. Every mistake is a UsageError (exit 2) that names the file, line and key
(inventory_check, or where the Ansible variable was set) or the host and the ssh config keyword.
Names, users and addresses match strict patterns; key and known_hosts paths may not hold what
OpenSSH or Ansible would read as syntax (`{ % $ " ' \\ #`, newlines and other control characters):
see toolkit.targets.ssh_values.
"""

from __future__ import annotations

import getpass
import os
import shlex
from dataclasses import dataclass, replace
from pathlib import Path

import paramiko

from toolkit import inputs, redact
from toolkit.errors import UsageError
from toolkit.executors import (
    inventory_ansible,
    inventory_ansible_vars,
    inventory_ansible_yaml,
    inventory_check,
    inventory_ini,
    inventory_limit,
)
from toolkit.targets.address import parse
from toolkit.targets.ssh_values import SHOWN_PATH, check_path, is_host, is_user, shown
from toolkit.ui import warn

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
    if not path and not os.path.lexists(source):
        return paramiko.SSHConfig()
    text = inputs.read_text(source, what="ssh config")
    try:
        return paramiko.SSHConfig.from_text(text)
    except (paramiko.ssh_exception.ConfigParseError, ValueError) as exc:
        raise config_parse_error(str(source), exc) from None


def config_parse_error(source: str, exc: Exception) -> UsageError:
    """paramiko's "Unparsable line X" (a keyword without a value) or shlex's "No closing quotation"
    (in Host or Match) as FILE:LINE: what is wrong."""
    unparsable = isinstance(exc, paramiko.ssh_exception.ConfigParseError) and str(exc).startswith("Unparsable line")
    bad = str(exc).removeprefix("Unparsable line ").strip()
    found: tuple[int, str] | None = None
    try:
        with open(source, encoding="utf-8", errors="replace") as fh:
            found = next(((n, text.strip()) for n, text in enumerate(fh, 1)
                          if (text.strip() == bad if unparsable else _unbalanced(text))), None)
    except OSError:
        pass
    where = f"{source}:{found[0]}" if found else source
    keyword = (found[1] if found else bad).replace("=", " ").split(maxsplit=1)[:1] or ["line"]
    if unparsable:
        return UsageError(f"ssh config {where}: {shown(keyword[0])} has no value",
                          "give it one (`Host` needs a pattern: Host gpu01), or delete the line")
    return UsageError(f"ssh config {where}: {shown(keyword[0])}: a quote is not closed", "close the quote")


def _unbalanced(line: str) -> bool:
    try:
        shlex.split(line, comments=True)
    except ValueError:
        return True
    return False


def _target(where: str, text: str) -> dict:
    """user@host:port (ssh:// optional) -> {'address', 'user', 'port'} with what it names."""
    url = text if "://" in text else f"ssh://{text}"
    if not url.startswith("ssh://"):
        raise UsageError(f"{where}: {shown(redact.value(text))} is not an ssh address", "use ssh://user@host:port")
    try:
        addr = parse(url)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc.message}", "use ssh://user@host[:port]") from None
    return {"address": addr.name.strip("[]"), "user": addr.user, "port": addr.port}


def _path(what: str, value: str | None) -> str | None:
    """A key or known_hosts path, expanded, checked for what OpenSSH and Ansible would read as syntax."""
    if not value:
        return None
    check_path(what, value)
    return check_path(what, str(Path(value).expanduser().absolute()))


class Resolver:
    """Turns a name plus explicit settings into a Host, filling gaps from the ssh config."""

    def __init__(self, ssh_config: paramiko.SSHConfig, identity: str | None = None, source: str = "~/.ssh/config"):
        self.config, self.identity, self.source = ssh_config, identity, source

    def host(self, name: str, values: dict, depth: int = 0) -> Host:
        alias = values.get("address") or name
        try:
            cfg = self.config.lookup(alias)
        except (paramiko.ssh_exception.ConfigParseError, ValueError, ImportError) as exc:
            raise UsageError(f"host {shown(name)}: ssh config {self.source}: {shown(str(exc), 120)}",
                             "check its Match and Host lines for this host") from None
        at = f"host {shown(name)}: ssh config {self.source}"
        if cfg.get("proxycommand"):
            raise UsageError(f"host {shown(name)}: ProxyCommand in the ssh config is not supported", "use ProxyJump")
        hostname = cfg.get("hostname", alias)     # HostName of a matching Host entry, else the name itself
        if not is_host(hostname):
            raise UsageError(f"{at}: invalid HostName {shown(hostname)}", "a host name or an IP address")
        try:
            port = int(str(values.get("port") or cfg.get("port") or 22))
        except ValueError:
            port = 0
        if not 0 < port < 65536:
            raise UsageError(f"{at}: invalid Port {shown(cfg.get('port'))}", "a number from 1 to 65535")
        user = values.get("user") or cfg.get("user") or getpass.getuser()
        if not is_user(user):
            raise UsageError(f"{at}: invalid User {shown(user)}", "letters, digits, . _ - (not first)")
        identity = (_path(f"host {shown(name)}: identity", values.get("identity"))
                    or _path("--identity", self.identity)
                    or _path(f"{at}: IdentityFile", next(iter(cfg.get("identityfile") or []), None)))
        jump_text = values.get("jump") or cfg.get("proxyjump")
        jump = self.jump(name, jump_text, depth) if jump_text and jump_text != "none" else None
        known = (cfg.get("userknownhostsfile") or "").split()
        return Host(name=name, hostname=hostname, port=port, user=user, identity=identity, jump=jump,
                    known_hosts=_path(f"{at}: UserKnownHostsFile", known[0]) if known else None)

    def jump(self, name: str, text: str, depth: int) -> Host:
        """ProxyJump a,b,c: connect to a, through it to b, through b to c, through c to the host."""
        if depth >= MAX_JUMPS:
            raise UsageError(f"host {name}: more than {MAX_JUMPS} jump hosts (a ProxyJump loop?)")
        hops = [h.strip() for h in text.split(",")]
        if not all(hops):
            raise UsageError(f"host {shown(name)}: ProxyJump {shown(text)} has an empty hop",
                             "user@host[:port], several separated by commas")
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


def from_file(path: str, resolver: Resolver, limit: tuple[str, ...] = ()) -> list[Host]:
    """The hosts of an inventory file in either format (the content decides), cut down by --limit."""
    return [h for h, _ in grouped(path, resolver, limit)]


def grouped(path: str, resolver: Resolver, limit: tuple[str, ...] = ()) -> list[tuple[Host, tuple[str, ...]]]:
    """from_file's hosts, each with the inventory groups it belongs to (Ansible's children included;
    `all` and `ungrouped` left out)."""
    name = inputs.shown(path, 200)
    text = inputs.read_text(path, what="inventory", display=name)
    if inventory_ansible.looks_like_ini(text):
        return _from_ansible(inventory_ini.read(text, name), resolver, limit)
    ydoc = inputs.parse_yaml(text, name, "inventory")
    if inventory_ansible.is_ansible_yaml(ydoc.data):
        return _from_ansible(inventory_ansible_yaml.read(ydoc), resolver, limit)
    defaults, hosts, group_of = inventory_check.check(ydoc.data, name, ydoc.position)
    groups = {g: list((v or {}).get("hosts") or []) for g, v in (ydoc.data.get("groups") or {}).items()}
    chosen = inventory_limit.select(name, list(hosts), groups, limit)
    found = [resolver.host(h, {**defaults, **group_of.get(h, {}), **hosts[h]}) for h in chosen]
    _unique(found, f"{name}: ")
    return [(host, tuple(g for g, members in groups.items() if h in members)) for h, host in zip(chosen, found, strict=True)]


def _from_ansible(inv: inventory_ansible.Inventory, resolver: Resolver,
                  limit: tuple[str, ...]) -> list[tuple[Host, tuple[str, ...]]]:
    """An Ansible inventory's hosts: every connection variable checked, Ansible's precedence, --limit."""
    if not inv.hosts:
        inv.fail(None, "", "the inventory has no hosts", "[gpu]\ngpu01 ansible_host=10.0.0.5")
    inventory_ansible_vars.check_all(inv)
    members = inv.members()
    chosen = inventory_limit.select(inv.path, list(inv.hosts), members, limit)
    depths, parents = inv.depths(), inv.parents()
    variables = {h: inv.host_vars(h, depths, parents) for h in chosen}
    ignored = inventory_ansible_vars.password_vars(chosen, variables)
    if ignored:
        warn(f"{inv.path}: {', '.join(ignored)} ignored: toolkit logs in with SSH keys "
             "(ansible_ssh_private_key_file, --identity, the ssh config)")
    found = [resolver.host(h, inventory_ansible_vars.settings(inv, h, variables[h])) for h in chosen]
    _unique(found, f"{inv.path}: ")
    return [(host, tuple(g for g, hs in members.items() if g not in ("all", "ungrouped") and h in hs))
            for h, host in zip(chosen, found, strict=True)]


def _unique(hosts: list[Host], where: str = "") -> list[Host]:
    seen: dict[tuple, str] = {}
    for h in hosts:
        key = (h.hostname, h.port, h.user)
        if key in seen:
            raise UsageError(f"{where}hosts {shown(seen[key])} and {shown(h.name)} are the same target ({h})",
                             "list each host once")
        seen[key] = h.name
    return hosts


def resolve(urls: tuple[str, ...], inventory: str | None, local: bool, *, ssh_config: str | None = None,
            identity: str | None = None, limit: tuple[str, ...] = ()) -> list[Host]:
    """The hosts of one apply; exactly one of SSH addresses, an inventory (with --limit) or local."""
    given = sum([bool(urls), bool(inventory), local])
    if given != 1:
        raise UsageError("give exactly one of --target ssh://... (repeatable), --inventory FILE or --target local")
    if limit and not inventory:
        raise UsageError("--limit picks hosts or groups of an inventory: give --inventory FILE with it")
    if local:
        return [LOCAL]
    resolver = Resolver(load_ssh_config(ssh_config), identity, shown(ssh_config or "~/.ssh/config", SHOWN_PATH))
    return from_urls(urls, resolver) if urls else from_file(inventory or "", resolver, limit)
