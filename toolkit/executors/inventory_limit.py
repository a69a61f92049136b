"""`--limit PATTERN`: which hosts of an inventory a run keeps, the way Ansible reads a host pattern.

A pattern is names separated by commas (or, without a comma, by colons outside brackets):
`gpu01`, `a100,cpu01`, `a100:cpu01`. Each name is a group (all its hosts, children included) or a
host; `all` and `*` are every host; `*` and `?` inside a name match like a shell glob. `!name` drops
what it matches, `&name` keeps only what it also matches; as in Ansible, plain names are taken first,
then `&`, then `!`, and a pattern of exclusions alone starts from every host. A name that matches no
host or group is exit 2 with the closest name and the inventory's groups; so is a pattern that leaves
no host. Hosts come back in the inventory's order.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence

from toolkit.errors import UsageError
from toolkit.targets.ssh_values import shown

_COLON_PARTS = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")
GLOB = frozenset("*?")


def split(text: str | None) -> tuple[str, ...]:
    """`a, b`, `a:!b`, `a,b:c` (a comma wins: then colons stay in names) -> the names, blanks dropped."""
    text = (text or "").strip()
    if "," in text:
        parts = text.split(",")
    else:
        try:
            ipaddress.ip_address(text)      # an IPv6 address is one name, not colon-separated ones
            parts = [text]
        except ValueError:
            parts = _COLON_PARTS.findall(text)
    return tuple(p.strip() for p in parts if p.strip())


def closest(name: str, valid: Iterable[str]) -> str:
    import difflib

    near = difflib.get_close_matches(name, list(valid), n=1)
    return f"did you mean {near[0]!r}? " if near else ""


def known_groups(groups: Iterable[str]) -> str:
    names = [g for g in groups if g not in ("all", "ungrouped")]
    text = ", ".join(names) if names else "(none)"
    return f"groups: {text[:200]}{'...' if len(text) > 200 else ''}"


def _matches(name: str, hosts: Sequence[str], members: Mapping[str, Sequence[str]]) -> set[str]:
    """Hosts one name (without ! or &) stands for: groups first, hosts when no group matched or a glob."""
    if name in ("all", "*"):
        return set(hosts)
    glob = bool(GLOB & set(name))
    groups = [g for g in members if (fnmatch.fnmatchcase(g, name) if glob else g == name)]
    found = {h for g in groups for h in members[g]}
    if not groups or glob:
        found |= {h for h in hosts if (fnmatch.fnmatchcase(h, name) if glob else h == name)}
    return found


def select(path: str, hosts: Sequence[str], members: Mapping[str, Sequence[str]], patterns: Sequence[str]) -> list[str]:
    """The hosts `patterns` (already split) keep, in inventory order; `members`: group -> its hosts."""
    if not patterns:
        return list(hosts)
    plain = [p for p in patterns if p[0] not in "!&"] or ["all"]      # only ! and &: from every host
    ands = [p[1:] for p in patterns if p[0] == "&"]
    nots = [p[1:] for p in patterns if p[0] == "!"]
    chosen: set[str] = set()
    for kind, names in (("", plain), ("&", ands), ("!", nots)):
        for name in names:
            if not name:
                raise UsageError(f"--limit: {kind!r} without a name", "write !NAME or &NAME, e.g. --limit 'all:!gpu02'")
            found = _matches(name, hosts, members)
            if not found and not (GLOB & set(name) or name in members):
                hint = closest(name, (*hosts, *members)) + known_groups(members)
                raise UsageError(f"--limit {shown(kind + name)}: {path} has no host or group of that name", hint)
            chosen = chosen | found if kind == "" else chosen & found if kind == "&" else chosen - found
    if not chosen:
        raise UsageError(f"--limit {shown(','.join(patterns), 120)}: no hosts in {path} (an empty group?)",
                         "name hosts or groups that have members; " + known_groups(members))
    return [h for h in hosts if h in chosen]
