"""Rules across the host fields `users:`, `directories:` and `mounts:` of a merged profile tree, each
located at the value at fault (called from semantics.problems; values of the wrong type are skipped:
the schema reports them).

- an account named like `user.name`, two accounts with one name, uid or group id (the image user's
  uid and gid included);
- a folder whose owner or group is neither declared in the profile nor root or a system one;
- two mounts at one path or of one device, a mount listed before the mount it sits inside,
  a device that cannot hold the fstype, and `format: true` where nothing could be formatted.
"""

from __future__ import annotations

import posixpath

from toolkit.errors import Problem
from toolkit.profile import hosts_policy as H
from toolkit.profile.merge import position_of
from toolkit.profile.yamlsource import LDict, LList

SYSTEM_USERS = ("daemon", "nobody", "www-data")
SYSTEM_GROUPS = ("adm", "audio", "daemon", "nogroup", "plugdev", "staff", "users", "video", "www-data")
USER_DEFAULTS = {"create": True, "name": "dev", "uid": 1000, "gid": 1000}   # toolkit.profile.model.User


def problems(tree: LDict, file: str) -> list[Problem]:
    return _accounts(tree, file) + _directories(tree, file) + _mounts(tree, file)


def _problem(tree, file: str, path: tuple, message: str, hint: str | None = None) -> Problem:
    pos = position_of(tree, path)
    return Problem(pos.file if pos else file, pos.line if pos else None, pos.column if pos else None,
                   ".".join(str(p) for p in path), message, hint)


def _where(tree, path: tuple) -> str:
    pos = position_of(tree, path)
    return f"{pos.file}:{pos.line}" if pos else ".".join(map(str, path))


def _items(tree, key: str) -> list[tuple[int, LDict]]:
    node = tree.get(key)
    return [(i, item) for i, item in enumerate(node) if isinstance(item, LDict)] if isinstance(node, LList) else []


def _text(item, key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) else None


def _int(item, key: str) -> int | None:
    value = item.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def image_user(tree) -> dict | None:
    """`user:` with its defaults filled in, or None when it creates no user."""
    node = tree.get("user")
    user = {**USER_DEFAULTS, **(node if isinstance(node, dict) else {})}
    return user if user["create"] is True else None


def _accounts(tree, file: str) -> list[Problem]:
    out: list[Problem] = []
    image = image_user(tree)
    names: dict[str, tuple] = {}
    uids: dict[int, tuple] = {}
    gids: dict[int, tuple] = {}
    for i, item in _items(tree, "users"):
        name, uid = _text(item, "name"), _int(item, "uid")
        gid = _int(item, "gid") if "gid" in item else uid
        here = ("users", i)
        if name is not None:
            if image and name == image["name"]:
                out.append(_problem(tree, file, here + ("name",), f"{name} is already `user.name` (the image's user, "
                                    "also created on hosts)", "rename the account, or set user.create: false"))
            elif name in names:
                out.append(_problem(tree, file, here + ("name",), f"duplicate account {name!r} (first at "
                                    f"{_where(tree, names[name])})", "list each account once"))
            else:
                names[name] = here + ("name",)
        if uid is not None:
            if image and uid == image["uid"]:
                out.append(_problem(tree, file, here + ("uid",), f"uid {uid} is user.uid (the image's user "
                                    f"{image['name']})", "give each account its own uid"))
            elif uid in uids:
                out.append(_problem(tree, file, here + ("uid",), f"uid {uid} is taken by the account at "
                                    f"{_where(tree, uids[uid])}", "give each account its own uid"))
            else:
                uids[uid] = here + ("uid",)
        if gid is not None:
            at = here + (("gid",) if "gid" in item else ("uid",))
            if image and gid == image["gid"]:
                out.append(_problem(tree, file, at, f"group id {gid} is user.gid (the group of {image['name']})",
                                    "set this account's gid: to a free group id"))
            elif gid in gids:
                out.append(_problem(tree, file, at, f"group id {gid} is taken by the account at "
                                    f"{_where(tree, gids[gid])}", "set gid: to a free group id"))
            else:
                gids.setdefault(gid, at)
    return out


def known_users(tree) -> set[str]:
    image = image_user(tree)
    declared = {n for _, item in _items(tree, "users") if (n := _text(item, "name"))}
    return {"root", *SYSTEM_USERS, *declared, *([image["name"]] if image and isinstance(image["name"], str) else [])}


def known_groups(tree) -> set[str]:
    groups = set()
    for _, item in _items(tree, "users"):
        listed = item.get("groups")
        groups |= {g for g in listed if isinstance(g, str)} if isinstance(listed, list) else set()
    return known_users(tree) - set(SYSTEM_USERS) | {"root", *SYSTEM_GROUPS} | groups


def _norm(path: str) -> str:
    return posixpath.normpath(path) if path.startswith("/") else path


def _directories(tree, file: str) -> list[Problem]:
    out: list[Problem] = []
    users, groups = known_users(tree), known_groups(tree)
    seen: dict[str, tuple] = {}
    for i, item in _items(tree, "directories"):
        here = ("directories", i)
        path = _text(item, "path")
        if path is not None:
            if _norm(path) in seen:
                out.append(_problem(tree, file, here + ("path",), f"duplicate folder {_norm(path)} (first at "
                                    f"{_where(tree, seen[_norm(path)])})", "list each folder once"))
            seen.setdefault(_norm(path), here + ("path",))
        owner, group = _text(item, "owner"), _text(item, "group")
        if owner is not None and owner not in users:
            out.append(_problem(tree, file, here + ("owner",), f"owner {owner!r} is not an account of this profile",
                                f"declare it under users:, or use one of {', '.join(sorted(users))}"))
        if group is not None and group not in groups:
            out.append(_problem(tree, file, here + ("group",), f"group {group!r} is not a group of this profile",
                                "name it in a user's groups: (it is then created), or use one of "
                                + ", ".join(sorted(groups))))
    return out


def _inside(path: str, top: str) -> bool:
    return path != top and path.startswith(top.rstrip("/") + "/")


def _mounts(tree, file: str) -> list[Problem]:
    out: list[Problem] = []
    paths: dict[str, tuple] = {}
    devices: dict[str, tuple] = {}
    for i, item in _items(tree, "mounts"):
        here = ("mounts", i)
        path, device, fstype = _text(item, "path"), _text(item, "device"), _text(item, "fstype")
        if path is not None:
            norm = _norm(path)
            if norm in paths:
                out.append(_problem(tree, file, here + ("path",), f"two mounts at {norm} (first at "
                                    f"{_where(tree, paths[norm])})", "mount one file system per folder"))
            for j, other in _items(tree, "mounts"):
                theirs = _text(other, "path")
                if j > i and theirs is not None and _inside(norm, _norm(theirs)):
                    out.append(_problem(tree, file, here + ("path",), f"{norm} is inside {_norm(theirs)}, which is "
                                        f"mounted after it (at {_where(tree, ('mounts', j, 'path'))}): that mount "
                                        "would hide this one", f"list the mount of {_norm(theirs)} first"))
            paths.setdefault(norm, here + ("path",))
        if device is not None and device != "tmpfs":
            if device in devices:
                out.append(_problem(tree, file, here + ("device",), f"{device} is mounted already (at "
                                    f"{_where(tree, devices[device])})", "mount each device once"))
            devices.setdefault(device, here + ("device",))
        if device is not None and fstype in H.FSTYPES and (why := H.fits(device, fstype)):
            out.append(_problem(tree, file, here + ("fstype",), why, "match device and fstype"))
        if item.get("format") is True and device is not None:
            if not device.startswith("/dev/"):
                out.append(_problem(tree, file, here + ("format",), f"format: true needs the device as a /dev/ path, "
                                    f"not {device[:60]!r} (a UUID or LABEL exists only after formatting)",
                                    "name the empty device (e.g. /dev/nvme1n1), or drop format:"))
            elif fstype in H.FSTYPES and fstype not in H.BLOCK_FSTYPES:
                out.append(_problem(tree, file, here + ("format",), f"format: true makes a file system on a block "
                                    f"device; {fstype} is not one", "drop format:"))
    return out
