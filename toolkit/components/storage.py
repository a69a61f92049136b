"""`mounts:` (hosts only: a file system at a path, in /etc/fstab) and `directories:` (folders with owner,
group and mode, on hosts and in images). Mounts come first: a folder may live on a mounted disk."""

from __future__ import annotations

from toolkit.components.accounts import HOST_ONLY_NOTE, gid_of
from toolkit.components.base import Context, Contribution
from toolkit.model.checks import check
from toolkit.model.steps import Directory, Mount
from toolkit.profile.hosts_policy import FSTYPE_PACKAGES
from toolkit.profile.policy import normalised


def mounts(ctx: Context) -> Contribution:
    out = Contribution()
    wanted = ctx.profile.mounts
    if not wanted:
        return out
    packages = sorted({pkg for m in wanted for pkg in FSTYPE_PACKAGES.get(m.fstype, ())})
    if packages:
        out.steps.append(ctx.os_packages("mounts", "file system tools", packages))
    for m in wanted:
        path = normalised(m.path)         # /data/ is /data: as fstab, findmnt and /proc/mounts write it
        out.steps.append(Mount("mounts", f"mount {path}", device=m.device, path=path, fstype=m.fstype,
                               options=tuple(m.options), format=m.format))
        out.checks.append(check("mount", "mounts", f"{m.device} mounted at {path}", ident=f"mount:{path}",
                                path=path, device=m.device, fstype=m.fstype))
    if HOST_ONLY_NOTE not in out.warnings and not ctx.profile.users:
        out.warnings.append(HOST_ONLY_NOTE)
    return out


def directories(ctx: Context) -> Contribution:
    out = Contribution()
    accounts = {a.name: a for a in ctx.profile.users}
    for d in ctx.profile.directories:
        d = d.model_copy(update={"path": normalised(d.path)})
        owner, group = accounts.get(d.owner), accounts.get(d.group)
        uid = owner.uid if owner else None
        gid = gid_of(group) if group else None
        out.steps.append(Directory("directories", f"folder {d.path}", path=d.path, owner=d.owner, group=d.group,
                                   mode=d.mode, uid=uid, gid=gid))
        out.checks.append(check("directory", "directories", f"folder {d.path} ({d.owner}:{d.group} {d.mode})",
                                ident=f"directory:{d.path}", path=d.path, owner=d.owner, group=d.group, mode=d.mode,
                                uid=uid, gid=gid))
    return out


def contribute(ctx: Context) -> Contribution:
    parts = (mounts(ctx), directories(ctx))
    return Contribution(steps=[s for p in parts for s in p.steps], checks=[c for p in parts for c in p.checks],
                        warnings=[w for p in parts for w in p.warnings])
