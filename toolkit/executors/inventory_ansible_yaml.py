"""Ansible's YAML inventory format (JSON too), from a document inputs.load_yaml already read safely.

    all:
      vars: {ansible_user: deploy}
      hosts:
        bastion: {ansible_host: 10.0.0.2}
      children:
        a100:
          hosts:
            gpu[01:04]:                    # a host pattern; its value: the host's variables, or nothing
          vars: {ansible_user: ubuntu}
        gpu:
          children: {a100: }               # a group may appear under several parents

Top-level names are groups (`all` or others, which then sit under `all`); a group is nothing or a
mapping of `hosts`, `children` and `vars` (a plain name stands for a mapping with one empty entry, as
in Ansible). A key outside these is an error naming the closest one, where Ansible only warns. Errors
are `FILE:LINE: all.children.a100.hosts: what is wrong` (exit 2).
"""

from __future__ import annotations

from toolkit.executors.inventory_ansible import GROUP_KEYS, Inventory, Var, plain
from toolkit.executors.inventory_check import closest
from toolkit.inputs import YamlDoc, key_name


def read(doc: YamlDoc) -> Inventory:
    inv = Inventory(doc.file)
    data = doc.data
    for name, body in data.items():
        _group(inv, doc, (name,), name, body, None if name == "all" else "all")
    return inv


def _line(doc: YamlDoc, keys: tuple) -> int | None:
    return (doc.position(keys) or (None,))[0]


def _label(keys: tuple) -> str:
    return ".".join(plain(k) for k in keys)


def _section(inv: Inventory, doc: YamlDoc, keys: tuple, value: object, example: str) -> dict:
    """A group's hosts/children/vars: a mapping, nothing, or (hosts, children) one plain name."""
    if value is None:
        return {}
    if isinstance(value, str) and keys[-1] != "vars":
        return {value: None}
    if not isinstance(value, dict):
        inv.fail(_line(doc, keys), _label(keys), f"must be a mapping, got {type(value).__name__}",
                 f"write one entry a line: {example}")
    return value


def _group(inv: Inventory, doc: YamlDoc, keys: tuple, name: object, body: object, parent: str | None) -> None:
    line, label = _line(doc, keys), _label(keys)
    inv.group(name, line, label)
    assert isinstance(name, str)             # inv.group refused anything else
    if parent is not None:
        inv.add_child(parent, name, line, label)
    if body is None:
        return
    if not isinstance(body, dict):
        inv.fail(line, label, f"a group must be a mapping of hosts, children and vars, got {type(body).__name__}",
                 "a100: {hosts: {gpu01: }, vars: {ansible_user: ubuntu}}")
    for key in body:
        if key not in GROUP_KEYS:
            inv.fail(_line(doc, (*keys, key)), _label((*keys, key)), f"unknown key {key_name(key)!r}",
                     closest(key, GROUP_KEYS))
    hosts = _section(inv, doc, (*keys, "hosts"), body.get("hosts"), "hosts: {gpu01: , gpu02: {ansible_port: 2222}}")
    for pattern, values in hosts.items():
        at = (*keys, "hosts", pattern)
        values = _section(inv, doc, at, values, "gpu01: {ansible_host: 10.0.0.5}") if values is not None else {}
        inv.add_host(name, pattern, _vars(doc, at, values), _line(doc, at), _label(at))
    for var_name, var in _vars(doc, (*keys, "vars"), _section(inv, doc, (*keys, "vars"), body.get("vars"),
                                                            "vars: {ansible_user: ubuntu}")).items():
        inv.groups[name].vars[var_name] = var
    children = _section(inv, doc, (*keys, "children"), body.get("children"), "children: {a100: , h100: }")
    for child, child_body in children.items():
        _group(inv, doc, (*keys, "children", child), child, child_body, name)


def _vars(doc: YamlDoc, keys: tuple, values: dict) -> dict[str, Var]:
    return {k: Var(v, _line(doc, (*keys, k)), _label((*keys, k))) for k, v in values.items()}
