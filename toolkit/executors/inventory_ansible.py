"""Ansible inventories as they are: the model both readers fill (inventory_ini, inventory_ansible_yaml),
host patterns, and Ansible's variable precedence.

An inventory is groups (`all` holds every host; a host in no other group is also in `ungrouped`), each
with hosts, child groups and variables, and hosts with their own variables. A host's variables are, from
weakest to strongest: `all`, then its groups ordered as Ansible orders them (by depth below `all`, then
`ansible_group_priority`, then name: a child group beats its parent, a later name beats an earlier one
at the same depth), then the host's own. Every variable keeps the line and the place it was set, so a
bad value is reported as `FILE:LINE: [a100:vars] ansible_user: ...` (inventory_ansible_vars).

Host patterns: `gpu01`, `gpu01:2222` (port), `[2001:db8::1]:22`, and ranges `gpu[01:04]` (zero-padded
when the start is), `node[a:c]`, `gpu[0:10:2]` (a step). At most MAX_HOSTS hosts in one inventory.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import NoReturn

from toolkit.errors import UsageError
from toolkit.inputs import key_name
from toolkit.targets.ssh_values import GROUP_NAME_RE, HOST_NAME_RE, shown

MAX_HOSTS = 10_000
MAX_RANGES = 8            # ranges in one host pattern
_RANGE = re.compile(r"\[([0-9]*|[A-Za-z]):([0-9]+|[A-Za-z])(?::([0-9]+))?\]")
_IPV6 = re.compile(r"\[([0-9A-Fa-f]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)\](?::([0-9]+))?")   # two colons at least
_INI_HEADER = re.compile(r"\[[^\],]+\]\s*(?:[#;].*)?")     # loose: `[g x]` is a (bad) section, `[a, b]` YAML
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.:@\[\]-]{1,80}")
RANGE_HINT = "write a range as [01:04] (same width when zero-padded), [a:d] or [0:10:2]"


def plain(text: object) -> str:
    """A name from the file as a label shows it: as written when it is made of name characters, else
    described or escaped (inputs.key_name: never a word that could be a secret)."""
    return text if isinstance(text, str) and _PLAIN_NAME.fullmatch(text) else key_name(text)


@dataclass(frozen=True)
class Var:
    value: object
    line: int | None
    label: str            # where it was set, as an error shows it: "[a100:vars] ansible_user"


@dataclass
class Group:
    name: str
    line: int | None
    vars: dict[str, Var] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)


class Inventory:
    """Groups and hosts as read; `fail` raises the located error every reader uses."""

    def __init__(self, path: str):
        self.path = path
        self.groups: dict[str, Group] = {"all": Group("all", None), "ungrouped": Group("ungrouped", None)}
        self.hosts: dict[str, dict[str, Var]] = {}     # host -> its own variables, in order of first mention
        self.host_lines: dict[str, int | None] = {}

    def fail(self, line: int | None, label: str, message: str, hint: str | None = None) -> NoReturn:
        where = f"{self.path}:{line}" if line else self.path
        raise UsageError(f"{where}: {label}: {message}" if label else f"{where}: {message}", hint)

    def group(self, name: object, line: int | None, label: str) -> Group:
        if not isinstance(name, str) or not GROUP_NAME_RE.fullmatch(name):
            why = ("control or invisible characters" if isinstance(name, str) and not name.isprintable()
                   else "characters outside A-Z a-z 0-9 . _ -")
            self.fail(line, label, f"invalid group name {shown(name)}: {why}", "rename it, e.g. gpu_a100")
        if name not in self.groups:
            self.groups[name] = Group(name, line)
        return self.groups[name]

    def add_child(self, parent: str, child: str, line: int | None, label: str) -> None:
        if child == "all":
            self.fail(line, label, "`all` cannot be a child group", "every group is already inside `all`")
        if child == parent:
            self.fail(line, label, f"group {child} is listed as its own child")
        if child not in self.groups[parent].children:
            self.groups[parent].children.append(child)

    def add_host(self, group: str, pattern: object, values: dict[str, Var], line: int | None, label: str) -> None:
        """Every host `pattern` names joins `group` with `values` (a later mention overrides an earlier)."""
        if not isinstance(pattern, str):
            self.fail(line, label, f"host {shown(pattern)} must be text", "quote it: '10': ")
        try:
            names, port = host_pattern(pattern)
        except ValueError as exc:
            self.fail(line, label, str(exc), RANGE_HINT)
        if len(self.hosts) + len(names) > MAX_HOSTS:
            self.fail(line, label, f"more than {MAX_HOSTS} hosts in one inventory", "split the inventory")
        if port is not None:
            values = {"ansible_port": Var(port, line, label), **values}
        for name in names:
            if not HOST_NAME_RE.fullmatch(name):
                why = "control or invisible characters" if not name.isprintable() else "characters outside A-Z a-z 0-9 . _ - :"
                self.fail(line, label, f"invalid host name {shown(name)}: {why}", "rename it, e.g. gpu01")
            self.hosts.setdefault(name, {}).update(values)
            self.host_lines.setdefault(name, line)
            if name not in self.groups[group].hosts:
                self.groups[group].hosts.append(name)

    # ---- after reading: parents, depth, precedence, members -------------------------------------

    def parents(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {g: set() for g in self.groups}
        for g in self.groups.values():
            for child in g.children:
                found[child].add(g.name)
        for name, ps in found.items():
            if name != "all" and not ps:
                ps.add("all")
        return found

    def depths(self) -> dict[str, int]:
        """Longest path from `all` to each group; a loop of children is a located error."""
        parents, depth = self.parents(), {"all": 0}

        def visit(name: str, seen: tuple[str, ...]) -> int:
            if name in seen:
                loop = " -> ".join((*seen[seen.index(name):], name))
                self.fail(self.groups[name].line, f"group {name}", f"child groups form a loop: {loop}",
                          "a group cannot be its own ancestor: remove one of the children entries")
            if name not in depth:
                depth[name] = 1 + max(visit(p, (*seen, name)) for p in sorted(parents[name]))
            return depth[name]

        for name in self.groups:
            visit(name, ())
        return depth

    def members(self) -> dict[str, list[str]]:
        """Each group's hosts, children's included, in inventory order; `ungrouped` as Ansible fills it."""
        grouped = {h for g in self.groups.values() if g.name not in ("all", "ungrouped") for h in g.hosts}
        self.groups["ungrouped"].hosts = [h for h in self.hosts if h not in grouped]
        self.depths()                                   # refuses loops before the walk below
        cache: dict[str, set[str]] = {}

        def below(name: str) -> set[str]:
            if name not in cache:
                g = self.groups[name]
                cache[name] = set(g.hosts).union(*(below(c) for c in g.children))
            return cache[name]

        out = {name: [h for h in self.hosts if h in below(name)] for name in self.groups}
        out["all"] = list(self.hosts)
        return out

    def host_vars(self, host: str, depths: dict[str, int], parents: dict[str, set[str]]) -> dict[str, Var]:
        """The variables that apply to `host`, Ansible's precedence applied (the strongest wins)."""
        direct = [g.name for g in self.groups.values() if host in g.hosts]
        ancestry, todo = {"all"}, list(direct)
        while todo:
            name = todo.pop()
            if name not in ancestry:
                ancestry.add(name)
                todo.extend(parents[name])
        merged: dict[str, Var] = {}
        for name in sorted(ancestry, key=lambda g: (depths[g], _priority(self.groups[g]), g)):
            merged.update(self.groups[name].vars)
        merged.update(self.hosts[host])
        return merged


def _priority(group: Group) -> int:
    var = group.vars.get("ansible_group_priority")
    value = var.value if var else 1
    try:
        return int(value) if not isinstance(value, bool) else 1   # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 1


# ---- host patterns ----------------------------------------------------------------------------

def host_pattern(text: str) -> tuple[list[str], int | None]:
    """`gpu[01:02]:2222` -> (['gpu01', 'gpu02'], 2222); ValueError says what is wrong."""
    text = text.strip()
    v6 = _IPV6.fullmatch(text)
    if v6:
        return [v6.group(1)], _port(v6.group(2))
    head, sep, tail = text.rpartition(":")
    if sep and re.fullmatch(r"[0-9]+", tail) and ":" not in re.sub(r"\[[^\]]*\]", "", head):
        return expand(head), _port(tail)
    return expand(text), None


def _port(text: str | None) -> int | None:
    if text is None:
        return None
    if len(text) > 5 or not 0 < int(text) < 65536:
        raise ValueError(f"port {shown(text)} in a host pattern must be from 1 to 65535")
    return int(text)


def expand(pattern: str) -> list[str]:
    """Host names of a pattern with ranges; at most MAX_HOSTS, from at most MAX_RANGES ranges."""
    if len(_RANGE.findall(pattern)) > MAX_RANGES:
        raise ValueError(f"{shown(pattern)} has more than {MAX_RANGES} ranges")
    match = _RANGE.search(pattern)
    if match is None:
        if "[" in pattern or "]" in pattern:
            raise ValueError(f"{shown(pattern)} is not a host range")
        return [pattern]
    head, tail = pattern[:match.start()], pattern[match.end():]
    items, rests = _range_items(*match.groups()), expand(tail)
    if len(items) * len(rests) > MAX_HOSTS:                 # checked before a name is made
        raise ValueError(f"{shown(pattern)} names more than {MAX_HOSTS} hosts")
    return [head + item + rest for item in items for rest in rests]


def _range_items(begin: str, end: str, step_text: str | None) -> list[str]:
    if max(len(begin), len(end), len(step_text or "")) > 6:
        raise ValueError("a host range bound has more than 6 characters")
    step = int(step_text or 1)
    if step < 1:
        raise ValueError("a host range step must be 1 or more")
    if end.isdigit():
        begin = begin or "0"
        if not begin.isdigit():
            raise ValueError(f"host range [{begin}:{end}] mixes letters and digits")
        width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
        if width and len(end) != width:
            raise ValueError(f"host range [{begin}:{end}]: a zero-padded start and the end must have the same width")
        first, last = int(begin), int(end)
        if first > last or (last - first) // step + 1 > MAX_HOSTS:
            raise ValueError(f"host range [{begin}:{end}] is empty or names more than {MAX_HOSTS} hosts")
        return [str(n).zfill(width) for n in range(first, last + 1, step)]
    letters = string.ascii_letters
    if not begin.isalpha() or letters.index(begin) > letters.index(end):
        raise ValueError(f"host range [{begin}:{end}] must go from a letter to a later one")
    return list(letters[letters.index(begin):letters.index(end) + 1:step])


# ---- which format a file is in ----------------------------------------------------------------

def looks_like_ini(text: str) -> bool:
    """INI when the first line that is not blank or a comment is a [section], or a host line
    (`gpu01 ansible_host=...`, a bare name): YAML has `key: value`, `- item`, `{`, `---` there."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if _INI_HEADER.fullmatch(line):
            return True
        if line[0] in "-{[%!&*|>'\"" or line.startswith("---"):
            return False
        equals, colon = line.find("="), line.find(":")
        if equals >= 0 and (colon < 0 or equals < colon):
            return True
        return colon < 0
    return False


GROUP_KEYS = ("hosts", "children", "vars")
TOOLKIT_KEYS = ("defaults", "hosts", "groups")


def is_ansible_yaml(data: object) -> bool:
    """An Ansible YAML inventory: `all:` at the top, or groups holding hosts/children/vars (toolkit's own
    format has `hosts:`, `defaults:`, `groups:` there)."""
    if not isinstance(data, dict) or not data:
        return False
    if "all" in data:
        return True
    if any(k in data for k in TOOLKIT_KEYS):
        return False
    return any(isinstance(v, dict) and any(k in v for k in GROUP_KEYS) for v in data.values())

