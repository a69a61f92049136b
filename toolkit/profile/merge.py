"""`extends:` merging: mappings merge deeply, lists append without duplicates, the child wins."""

from __future__ import annotations

from toolkit.profile.yamlsource import LDict, LList


def merge(parent, child):
    if isinstance(parent, LDict) and isinstance(child, LDict):
        out = LDict(parent, pos=child.pos, key_pos=parent.key_pos)
        for key, value in child.items():
            out[key] = merge(parent[key], value) if key in parent else value
            out.key_pos[key] = child.key_pos.get(key)
        return out
    if isinstance(parent, LList) and isinstance(child, LList):
        out = LList(parent, pos=child.pos, item_pos=parent.item_pos)
        for item, pos in zip(child, child.item_pos):
            if item not in out:
                out.append(item)
                out.item_pos.append(pos)
        return out
    return child


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
