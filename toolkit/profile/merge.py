"""`extends:` merging: mappings merge deeply, the child wins.

- `name` and `description` say what *this* file is: they are never inherited.
- Lists of named things are keyed: a child's check (or run step) replaces the parent's of the same name;
  a child's account (`users`) replaces the parent's of the same name, a folder or mount the parent's at
  the same path; a child's requirement replaces the parent's requirements for the same project (pip names
  canonicalised, `packages.pip` and `packages.pip_base` as one namespace; apt by package name).
- Other lists append the child's items the parent lacks.
Duplicates *within* one file are kept here, so validation can point at them (semantics.py).
"""

from __future__ import annotations

from toolkit.profile.policy import apt_key, requirement_key
from toolkit.profile.yamlsource import LDict, LList

NOT_INHERITED = ("name", "description")
PIP_LISTS = ("pip", "pip_base")


def _check_key(item):
    name = item.get("name") if isinstance(item, dict) else None
    return name if isinstance(name, str) else None


def _pip_key(item):
    return requirement_key(item) if isinstance(item, str) else None


def _path_key(item):
    path = item.get("path") if isinstance(item, dict) else None
    return path if isinstance(path, str) else None


def _apt_key(item):
    return apt_key(item) if isinstance(item, str) else None


# path of a list in the profile -> function giving an item's identity (None: not comparable)
KEYED_LISTS = {
    ("checks",): _check_key,
    ("run",): _check_key,                 # by name; the parent's other steps run first, then the child's
    ("packages", "pip"): _pip_key,        # then across both pip lists: _merge_pip_lists
    ("packages", "pip_base"): _pip_key,
    ("packages", "apt"): _apt_key,
    ("users",): _check_key,               # accounts by name
    ("directories",): _path_key,          # folders and mounts by path
    ("mounts",): _path_key,
}


def merge(parent, child):
    """Merge a child profile's located tree over its parent's."""
    out = _merge(parent, child, ())
    if isinstance(out, LDict) and isinstance(child, LDict):
        for key in NOT_INHERITED:
            if key not in child:
                out.pop(key, None)
                out.key_pos.pop(key, None)
    return out


def _merge(parent, child, path: tuple):
    if isinstance(parent, LDict) and isinstance(child, LDict):
        out = LDict(parent, pos=child.pos, key_pos=parent.key_pos)
        for key, value in child.items():
            out[key] = _merge(parent[key], value, path + (key,)) if key in parent else value
            out.key_pos[key] = child.key_pos.get(key)
        if path == ("packages",):
            _merge_pip_lists(out, parent, child)
        return out
    if isinstance(parent, LList) and isinstance(child, LList):
        key = KEYED_LISTS.get(path)
        if key is not None:
            return _keyed(parent, child, key)
        merged = LList(parent, pos=child.pos, item_pos=parent.item_pos)
        for item, pos in zip(child, child.item_pos, strict=False):
            if item not in merged:
                merged.append(item)
                merged.item_pos.append(pos)
        return merged
    return child


def _keyed(parent: LList, child: LList, key, named: set | None = None) -> LList:
    """The parent's items the child does not name (in this list, or in `named`), then all the child's."""
    named = {key(item) for item in child} - {None} if named is None else named
    out = LList(pos=child.pos or parent.pos)
    for item, pos in zip(parent, parent.item_pos, strict=False):
        if key(item) is None or key(item) not in named:
            out.append(item)
            out.item_pos.append(pos)
    out.extend(child)
    out.item_pos.extend(child.item_pos)
    return out


def _merge_pip_lists(out: LDict, parent: LDict, child: LDict) -> None:
    """A project the child names in pip or pip_base leaves both of the parent's pip lists."""
    mine = [child[n] for n in PIP_LISTS if isinstance(child.get(n), LList)]
    named = {_pip_key(item) for items in mine for item in items} - {None}
    for name in PIP_LISTS:
        theirs, own = parent.get(name), child.get(name, LList())
        if isinstance(theirs, LList) and isinstance(own, LList):
            out[name] = _keyed(theirs, own, _pip_key, named)


def position_of(tree, path: tuple):
    """The most precise (file, line, column) known for a path into a located tree."""
    best = getattr(tree, "pos", None)
    node = tree
    for part in path:
        if isinstance(node, LDict) and part in node:
            best = node.key_pos.get(part) or best
            node = node[part]
        elif isinstance(node, LList) and isinstance(part, int) and 0 <= part < len(node):
            best = node.item_pos[part] if part < len(node.item_pos) else best
            node = node[part]
        else:
            break
    return best
