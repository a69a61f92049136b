"""Ansible's INI inventory format, read by hand (no library reads it as Ansible does; ansible-core's own
reader needs all of Ansible).

    # comments start with # or ;
    bastion ansible_host=10.0.0.2              # before any section: an ungrouped host
    [a100]
    gpu[01:04] ansible_user=ubuntu             # a host pattern, then key=value (quotes as in a shell)
    [a100:vars]
    ansible_ssh_private_key_file=~/.ssh/gpu
    [gpu:children]
    a100
    [all:vars]
    ansible_port=2222

As in Ansible: a group exists once it has a `[NAME]` or `[NAME:children]` section (`all` and
`ungrouped` always do); `[NAME:vars]` of a group that does not exist, or a child that is never
declared, is an error. Values are text (`'quoted'` or `"quoted"` in a vars section loses its quotes);
inventory_ansible_vars turns the ones toolkit uses into numbers and checks them. Every mistake is
`FILE:LINE: what: why` (exit 2); a word that could be a secret is described, never echoed.
"""

from __future__ import annotations

import re
import shlex

from toolkit.executors.inventory_ansible import Inventory, Var, plain
from toolkit.inputs import key_name

SECTION = re.compile(r"\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?")
CHILD = re.compile(r"([^:\]\s#;]+)\s*(?:[#;].*)?")
KINDS = ("hosts", "children", "vars")
SECTION_HINT = "sections are [NAME] (hosts), [NAME:children] (groups) and [NAME:vars] (key=value lines)"


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def read(text: str, path: str) -> Inventory:
    inv = Inventory(path)
    group, kind = "ungrouped", "hosts"
    declared = {"all", "ungrouped"}
    needed: dict[str, tuple[int, str]] = {}       # group -> (line, section) of its first use
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        section = SECTION.fullmatch(line)
        if section:
            group, kind = section.group(1), section.group(2) or "hosts"
            label = f"[{plain(group)}{':' + kind if section.group(2) else ''}]"
            if kind not in KINDS:
                inv.fail(n, label, f"unknown section type {key_name(kind)!r}", SECTION_HINT)
            inv.group(group, n, label)
            if kind == "vars":
                needed.setdefault(group, (n, label))
            else:
                declared.add(group)
            continue
        if line.startswith("["):
            inv.fail(n, "", f"invalid section {key_name(line)!r}", SECTION_HINT + ", without spaces")
        here = f"[{group}:{kind}]" if kind != "hosts" else f"[{group}]"
        if kind == "hosts":
            _host_line(inv, group, line, n, here)
        elif kind == "vars":
            key, eq, value = line.partition("=")
            if not eq or not key.strip():
                inv.fail(n, here, "expected key=value, got a line without '='", "one variable a line: ansible_user=ubuntu")
            inv.groups[group].vars[key.strip()] = Var(_unquote(value.strip()), n, f"{here} {plain(key.strip())}")
        else:
            child = CHILD.fullmatch(line)
            if child is None:
                inv.fail(n, here, "expected one group name on the line", "one group name a line")
            name = child.group(1)
            inv.group(name, n, here)
            inv.add_child(group, name, n, here)
            needed.setdefault(name, (n, here))
    for name, (n, label) in needed.items():
        if name not in declared:
            inv.fail(n, label, f"group {name} is not defined in this inventory",
                     f"add a [{name}] section with its hosts (it may be empty), or remove the reference")
    return inv


def _host_line(inv: Inventory, group: str, line: str, n: int, here: str) -> None:
    """`PATTERN key=value ...`: the hosts of the pattern join `group` with these variables."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError as exc:
        inv.fail(n, here, f"cannot split the line: {str(exc).lower()}", "close the quote")
    if not words:
        return
    pattern, values = words[0], {}
    for number, word in enumerate(words[1:], 2):
        key, eq, value = word.partition("=")
        if not eq or not key:      # the word itself is not shown: it may be a password written by mistake
            inv.fail(n, f"{here} {plain(pattern)}", f"expected key=value after the host: word {number} has no "
                     f"{'name before ' if eq else ''}'='",
                     "host variables are key=value: gpu01 ansible_host=10.0.0.5 ansible_user=ubuntu")
        values[key] = Var(value, n, f"{plain(pattern)} {plain(key)}")
    inv.add_host(group, pattern, values, n, f"{here} {plain(pattern)}")
