"""An inventory document's shape and values, checked before any host is resolved or contacted.

Every mistake is a UsageError (exit 2) of the form `FILE:LINE: hosts.gpu01.port: what is wrong`,
with what to do in the hint. Names (hosts, groups) and users match strict patterns and paths pass
ssh_values.path_problem, so nothing from an inventory reaches a terminal, an ssh config or
Ansible's templating as anything but plain text. Values are shown escaped and cut short.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import NoReturn

from toolkit.errors import UsageError
from toolkit.inputs import key_name
from toolkit.targets.address import parse
from toolkit.targets.ssh_values import GROUP_NAME_RE, HOST_NAME_RE, is_host, is_user, path_problem, shown

SETTINGS = ("address", "user", "port", "identity", "jump")
TOP_KEYS = ("defaults", "hosts", "groups")
GROUP_KEYS = ("hosts", *SETTINGS[1:])
EXAMPLE = "hosts: {gpu01: {address: 10.0.0.5, user: ubuntu}}"


def closest(key: object, valid) -> str:
    near = difflib.get_close_matches(str(key), list(valid), n=1) if isinstance(key, str) else []
    return f"did you mean {near[0]!r}?" if near else f"valid: {', '.join(map(str, valid))}"[:200]


class Checker:
    """Checks one inventory document; `fail` raises the located error."""

    def __init__(self, path: str, locate: Callable[[tuple], tuple[int, int] | None]):
        self.path, self.locate = path, locate

    def fail(self, keys: tuple, message: str, hint: str | None = None) -> NoReturn:
        line = (self.locate(keys) or (None,))[0]
        field = "".join(f"[{k}]" if isinstance(k, int) and not isinstance(k, bool) else
                        "." + (k if isinstance(k, str) and GROUP_NAME_RE.fullmatch(k) else key_name(k)) for k in keys)
        field = field.removeprefix(".")
        where = f"{self.path}:{line}" if line else self.path
        raise UsageError(f"{where}: {field or '(document)'}: {message}", hint)

    def mapping(self, keys: tuple, data, valid: tuple[str, ...]) -> dict:
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.fail(keys, f"expected a mapping of settings, got {type(data).__name__}",
                      f"write `key: value` pairs; valid keys: {', '.join(valid)}")
        for key in data:
            if key not in valid:
                self.fail((*keys, key), f"unknown key {key_name(key)!r}", closest(key, valid))
        return data

    def settings(self, keys: tuple, values: dict) -> dict:
        for key, value in values.items():
            at = (*keys, key)
            if key == "port":
                if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
                    self.fail(at, f"port must be a number from 1 to 65535, got {shown(value)}")
            elif not isinstance(value, str):
                self.fail(at, f"{key} must be text, got {type(value).__name__}")
            elif key == "address" and not is_host(value):
                self.fail(at, f"invalid address {shown(value)}", "a host name or an IP address")
            elif key == "user" and not is_user(value):
                self.fail(at, f"invalid user name {shown(value)}", "letters, digits, . _ - (not first)")
            elif key == "identity" and path_problem(value):
                self.fail(at, f"{shown(value)} {path_problem(value)}", "give a plain path to the key file")
            elif key == "jump":
                self.jump(at, value)
        return values

    def jump(self, at: tuple, text: str) -> None:
        hops = [h.strip() for h in text.split(",")]
        if not all(hops):
            self.fail(at, f"jump {shown(text)} has an empty hop", "user@host[:port], several separated by commas")
        for hop in hops:
            if not hop.startswith("ssh://") and "://" in hop:
                self.fail(at, f"jump {shown(hop)} is not an ssh address", "use ssh://user@host:port")
            try:
                parse(hop if "://" in hop else f"ssh://{hop}")
            except UsageError as exc:
                self.fail(at, f"jump: {exc.message}", "user@host[:port], several separated by commas")

    def name(self, keys: tuple, name, pattern, what: str) -> str:
        if not isinstance(name, str):
            self.fail(keys, f"{what} {shown(name)} must be text", "quote names YAML reads as numbers, true or null: '123':")
        if not pattern.fullmatch(name):
            why = "control or invisible characters" if not name.isprintable() else "characters outside A-Z a-z 0-9 . _ -"
            self.fail(keys, f"invalid {what} {shown(name)}: {why}", f"rename it, e.g. {what.split()[0]}01")
        return name


def check(doc, path: str, locate: Callable[[tuple], tuple[int, int] | None]
          ) -> tuple[dict, dict[str, dict], dict[str, dict]]:
    """(defaults, {host: its settings}, {host: its group's settings}) of a loaded inventory;
    `locate` gives the (line, column) of a path of keys in the file."""
    c = Checker(path, locate)
    if doc is None:
        c.fail((), "the inventory is empty", EXAMPLE)
    doc = c.mapping((), doc, TOP_KEYS)
    defaults = c.settings(("defaults",), c.mapping(("defaults",), doc.get("defaults"), SETTINGS[1:]))
    hosts = doc.get("hosts")
    if not isinstance(hosts, dict) or not hosts:
        c.fail(("hosts",), "`hosts` must map host names to their settings", EXAMPLE)
    checked: dict[str, dict] = {}
    for name, data in hosts.items():
        name = c.name(("hosts", name), name, HOST_NAME_RE, "host name")
        checked[name] = c.settings(("hosts", name), c.mapping(("hosts", name), data, SETTINGS))
    groups = doc.get("groups") or {}
    if not isinstance(groups, dict):
        c.fail(("groups",), "`groups` must map group names to {hosts: [...], user: ...}")
    group_of: dict[str, tuple[str, dict]] = {}
    for group, data in groups.items():
        group = c.name(("groups", group), group, GROUP_NAME_RE, "group name")
        data = c.mapping(("groups", group), data, GROUP_KEYS)
        members = data.get("hosts") or []
        if not isinstance(members, list):
            c.fail(("groups", group, "hosts"), "hosts must be a list of host names", "hosts: [gpu01, gpu02]")
        values = c.settings(("groups", group), {k: v for k, v in data.items() if k != "hosts"})
        for n, member in enumerate(members):
            at = ("groups", group, "hosts", n)
            if not isinstance(member, str):
                c.fail(at, f"a member must be a host name, got {type(member).__name__}", "hosts: [gpu01, gpu02]")
            if member not in checked:
                c.fail(at, f"unknown host {shown(member)}", closest(member, tuple(checked)))
            if member in group_of:
                c.fail(at, f"host {member} is in groups {group_of[member][0]} and {group}",
                       "a host takes its settings from one group")
            group_of[member] = (group, values)
    return defaults, checked, {h: g[1] for h, g in group_of.items()}
