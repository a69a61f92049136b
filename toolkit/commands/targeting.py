"""What `--target`, `--inventory` and `--limit` name, for apply, verify and doctor alike.

`choose(...)` turns the options into the run's targets (every address checked before anything
connects): `--target` addresses as written (toolkit.targets.address), or the hosts of an inventory
(resolved like apply resolves them: ssh config, groups, jump hosts), cut down by `--limit`.
`opened(...)` makes one of them reachable for a testinfra probe (toolkit.targets.reach), with the
same SSH options in every command; `inventory_ssh_config` writes the OpenSSH config that connects to
an inventory host as apply did.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from toolkit.commands.options import limit_names
from toolkit.errors import UsageError
from toolkit.executors import inventory
from toolkit.executors.inventory import Host
from toolkit.targets import reach, ssh_config
from toolkit.targets.address import FORMS, Address, parse
from toolkit.targets.ssh_values import check_path


@dataclass(frozen=True)
class Chosen:
    """One target of a run: `label` as reports show it; `host` set for the hosts of an inventory."""

    label: str
    address: Address
    host: Host | None = None

    @property
    def kind(self) -> str:
        return self.address.kind


def as_ssh(values: tuple[str, ...]) -> tuple[str, ...]:
    """Old `--host` values: an address without a scheme is an SSH host (user@host:port)."""
    return tuple(v if "://" in v else f"ssh://{v}" for v in values)


def choose(targets: tuple[str, ...], inventory_file: str | None, limit: str | None, *,
           ssh_config_file: str | None = None, identity: str | None = None,
           default: str | None = None) -> list[Chosen]:
    """The run's targets; `default` (e.g. "local") when neither --target nor --inventory is given."""
    names = limit_names(limit)
    if targets and inventory_file:
        raise UsageError("give --target (repeatable) or --inventory FILE, not both")
    if limit is not None and not inventory_file:
        raise UsageError("--limit picks hosts or groups of an inventory: give --inventory FILE with it")
    if inventory_file:
        if limit is not None and not names:
            raise UsageError("--limit is empty", "give host or group names of the inventory: --limit gpu01,a100")
        hosts = inventory.resolve((), inventory_file, False, ssh_config=ssh_config_file, identity=identity,
                                  limit=names)
        if not hosts:
            raise UsageError(f"--limit {limit}: no hosts in {inventory_file} (an empty group?)",
                             "name hosts or groups that have members")
        return [Chosen(h.name, Address("ssh", h.hostname, h.user, h.port), h) for h in hosts]
    if not targets:
        if default is None:
            raise UsageError("give --target TARGET (repeatable) or --inventory FILE", f"TARGET: {FORMS}")
        targets = (default,)
    chosen: dict[Address, Chosen] = {}
    for text in targets:
        address = parse(text)
        chosen.setdefault(address, Chosen(text.strip(), address))
    return list(chosen.values())


def check_ssh_paths(known_hosts: str | None, ssh_config_file: str | None) -> None:
    """--known-hosts and --ssh-config go into ssh configs and inventories: refuse what they would misread."""
    for option, path in (("--known-hosts", known_hosts), ("--ssh-config", ssh_config_file)):
        if path:
            check_path(option, path)


def inventory_ssh_config(folder: Path, n: int, host: Host, known_hosts: str | None,
                         user_config: str | None = None) -> tuple[str, Path]:
    """An OpenSSH config with a Host entry for `host` and each of its jump hosts, so a probe connects
    as apply did; every value goes through toolkit.targets.ssh_config (refused when it does not fit)."""
    from toolkit.executors.ssh import KnownHosts

    alias = f"toolkit-apply-{n}"
    entries: list[ssh_config.HostEntry] = []
    chain: Host | None = host
    while chain is not None:
        hop = chain.jump
        entries.append(ssh_config.HostEntry(
            alias=f"{alias}-jump{len(entries)}" if entries else alias, hostname=chain.hostname, port=chain.port,
            user=chain.user, known_hosts=str(KnownHosts(chain.known_hosts or known_hosts).path),
            identity=chain.identity, proxy_jump=f"{alias}-jump{len(entries) + 1}" if hop is not None else None))
        chain = hop
    includes = [Path(user_config).expanduser().resolve()] if user_config else []
    path = folder / f"{alias}.conf"
    ssh_config.write(path, ssh_config.render(entries, includes=includes))
    return alias, path


@contextlib.contextmanager
def opened(chosen: Chosen, folder: Path, n: int, *, ssh_config_file: str | None = None,
           known_hosts: str | None = None, identity: str | None = None,
           accept_new: bool = False) -> Iterator[reach.Target]:
    """`chosen` reachable through testinfra: an inventory host through a config of its own (jump hosts,
    per-host keys), an ssh:// address through the user's ssh config with the run's SSH options."""
    if chosen.host is not None and chosen.host.local:
        with reach.open_target("local") as target:
            yield target
    elif chosen.host is not None:
        alias, path = inventory_ssh_config(folder, n, chosen.host, known_hosts, ssh_config_file)
        with reach.open_target(f"ssh://{alias}", ssh_config=str(path), accept_new=accept_new) as target:
            yield target
    else:
        with reach.open_target(str(chosen.address), ssh_config=ssh_config_file, known_hosts=known_hosts,
                               identity=identity, accept_new=accept_new) as target:
            yield target
