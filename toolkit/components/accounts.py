"""`users:`: login accounts on hosts, their groups, sudo rights and authorized keys. Host only: an
image has one user (`user:`), and the plan says that images leave these out."""

from __future__ import annotations

import hashlib
from pathlib import Path

from toolkit import inputs
from toolkit.components.base import Context, Contribution
from toolkit.errors import Problem, ProfileError
from toolkit.model.checks import check
from toolkit.model.steps import Account, AuthorizedKeys, Groups
from toolkit.profile import sshkeys
from toolkit.profile.hosts_policy import SHELLS
from toolkit.profile.model import Account as AccountSpec

KEY_FILE_LIMIT = 256 * 1024
HOST_ONLY_NOTE = "host-only: users/mounts ignored in images (setup.sh and the playbook make them on hosts)"


def home(name: str) -> str:
    return f"/home/{name}"


def gid_of(a: AccountSpec) -> int:
    return a.gid if a.gid is not None else a.uid


def _key_file(ctx: Context, field: str, ref: str) -> list[str] | list[Problem]:
    """The normalised key lines of one file, or the problems that refuse it (located in that file)."""
    base = ctx.source_file(field).parent
    path = Path(ref) if Path(ref).is_absolute() else base / ref
    name = inputs.shown(path, 200)
    try:
        text = inputs.read_text(path, what="public key file", limit=KEY_FILE_LIMIT)
    except inputs.InputError as exc:
        return [ctx.loaded.problem(field, f"cannot read public key file '{exc.file}': {exc.reason}",
                                   "paths are relative to the profile that names them")]
    keys, problems = sshkeys.parse(text)
    if problems:
        return [Problem(name, kp.line, 1, field, kp.message, kp.hint) for kp in problems]
    return keys


def _keys(ctx: Context, i: int, a: AccountSpec) -> tuple[list[str], list[Problem]]:
    keys: list[str] = []
    problems: list[Problem] = []
    for j, ref in enumerate(a.authorized_keys):
        got = _key_file(ctx, f"users.{i}.authorized_keys.{j}", ref)
        if got and isinstance(got[0], Problem):
            problems += [p for p in got if isinstance(p, Problem)]
        else:
            seen = {sshkeys.fingerprint(k) for k in keys}
            keys += [k for k in got if isinstance(k, str) and sshkeys.fingerprint(k) not in seen]
    return keys, problems


def contribute(ctx: Context) -> Contribution:
    out = Contribution()
    users = ctx.profile.users
    if not users:
        return out
    packages = (["sudo"] if any(a.sudo for a in users) else []) + sorted(
        {pkg for a in users if (pkg := SHELLS.get(a.shell))})
    if packages:
        out.steps.append(ctx.os_packages("users", "sudo and login shells", packages))
    own = {a.name for a in users}
    extra = sorted({g for a in users for g in a.groups} - own)
    out.steps.append(Groups("users", "groups of the accounts",
                            groups=tuple((a.name, gid_of(a)) for a in users) + tuple((g, 0) for g in extra)))
    problems: list[Problem] = []
    for i, a in enumerate(users):
        groups = tuple(g for g in dict.fromkeys(a.groups) if g != a.name)
        out.steps.append(Account("users", f"account {a.name}", name=a.name, uid=a.uid, gid=gid_of(a),
                                 home=home(a.name), shell=a.shell, groups=groups, sudo=a.sudo))
        out.checks.append(check("account", "users", f"account {a.name} ({a.uid}:{gid_of(a)})",
                                ident=f"account:{a.name}", name=a.name, uid=a.uid, gid=gid_of(a), home=home(a.name),
                                shell=a.shell, groups=groups, sudo=a.sudo))
        keys, bad = _keys(ctx, i, a)
        problems += bad
        if keys:
            out.steps.append(AuthorizedKeys("users", f"authorized keys of {a.name}", user=a.name, home=home(a.name),
                                            keys=tuple(keys)))
        for key in keys:
            fp = sshkeys.fingerprint(key)
            out.checks.append(check("authorized_key", "users", f"{a.name} logs in with key {fp[:32]}...",
                                    ident=f"authorized_key:{a.name}:{hashlib.sha256(fp.encode()).hexdigest()[:12]}", user=a.name,
                                    home=home(a.name), key=fp))
    if problems:
        raise ProfileError(problems)
    out.warnings.append(HOST_ONLY_NOTE)
    return out
