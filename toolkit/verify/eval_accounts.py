"""Evaluators of the host fields' checks: accounts, their authorized keys, folders, mounts."""

from __future__ import annotations

import shlex

from toolkit.model.host_accounts import octal
from toolkit.verify.eval_system import has_sudo, user
from toolkit.verify.outcome import Outcome

REAPPLY = "re-apply the profile (toolkit apply)"
AS_ROOT = ("run verify as root, or as a user whose sudo needs no password (the probe then asks sudo -n); an "
           "account's private files and sudo rules are not visible to others")


def sudo_visible(f: dict) -> bool:
    """Whether the facts can tell an account's sudo rights (root probes see them; others mostly not)."""
    return (not f.get("sudo_bin") or f.get("sudo_list") is not None or f.get("sudoers") is not None
            or has_sudo(f))


def account(p, facts):
    f = (facts.get("users") or {}).get(p["name"]) or {}
    seen = not f or sudo_visible(f)
    base = user(p if seen else dict(p, sudo=None), facts)
    wanted = list(p["groups"])
    expected = base.expected + (f", in groups {', '.join(wanted)}" if wanted else "")
    missing = [g for g in wanted if g not in (f.get("groups") or [])]
    if not base.ok:
        return Outcome(False, expected, base.found, base.hint or REAPPLY)
    if missing:
        return Outcome(False, expected, f"{p['name']} is in {', '.join(f.get('groups') or []) or 'no group'}",
                       f"usermod --append --groups {','.join(missing)} {p['name']} (or {REAPPLY})")
    if not seen:
        return Outcome(False, expected, base.found + "; its sudo rules are not visible to the probe's user",
                       AS_ROOT, skipped=True)
    return Outcome(True, expected, base.found + (f", groups {', '.join(f.get('groups') or [])}" if wanted else ""))


def _private(entry, user: str, mode: str, what: str) -> str | None:
    """Why a folder or file is not the account's own with this mode, or None."""
    if not entry:
        return f"no {what}"
    if entry.get("error"):
        return f"{what}: {entry['error']}"
    if entry.get("link"):
        return f"{what} is a symbolic link"
    if entry.get("owner") != user or entry.get("mode") != mode:
        return f"{what} is {entry.get('owner') or entry.get('uid')}'s with mode {entry.get('mode')}, not {user}'s {mode}"
    return None


def authorized_key(p, facts):
    user, home, key = p["user"], p["home"], p["key"]
    fp = " ".join(key.split()[:2])
    f = (facts.get("ssh_keys") or {}).get(home) or {}
    path = f"{home}/.ssh/authorized_keys"
    short = fp[:40] + "..." if len(fp) > 40 else fp
    expected = f"key {short} in {path} (folder 0700, file 0600, both {user}'s)"
    why = _private(f.get("dir"), user, "700", f"{home}/.ssh")
    if not why and not (f.get("file") or {}).get("error"):
        why = _private(f.get("file"), user, "600", path)
    if why:
        return Outcome(False, expected, why, f"{REAPPLY}; by hand: chown {user}: and chmod 700 the folder, 600 the file")
    hidden = f.get("error") or (f.get("file") or {}).get("error")
    if hidden or f.get("keys") is None:
        return Outcome(False, expected, f"{home}/.ssh is {user}'s, 0700; inside it not visible to the probe's user "
                       f"({hidden or 'not read'})", AS_ROOT, skipped=True)
    if fp not in f["keys"]:
        return Outcome(False, expected, f"{path} has {len(f['keys'])} key(s), not this one", REAPPLY)
    return Outcome(True, expected, f"key present ({len(f['keys'])} key(s) in the file)")


def _who(name, number, found_name, found_number) -> bool:
    """A name matches by name, or where the target has no name for it (images) by its number."""
    return found_name == name or (number is not None and found_name is None and found_number == number)


def directory(p, facts):
    path = p["path"]
    mode = octal(p["mode"])
    f = (facts.get("dir_stats") or {}).get(path)
    expected = f"folder {path} {p['owner']}:{p['group']} mode {mode}"
    fix = f"chown {shlex.quote(p['owner'] + ':' + p['group'])} {shlex.quote(path)} && chmod {mode} {shlex.quote(path)}"
    if not f:
        return Outcome(False, expected, f"{path} does not exist", f"mkdir -p {shlex.quote(path)} && {fix} (or {REAPPLY})")
    if f.get("error") or f.get("link") or not f.get("dir"):
        found = f.get("error") or (f"{path} is a symbolic link" if f.get("link") else f"{path} is not a folder")
        return Outcome(False, expected, found, "move it away, then " + REAPPLY)
    owner, group = f.get("owner") or f.get("uid"), f.get("group") or f.get("gid")
    found = f"{owner}:{group} mode {f.get('mode')}"
    ok = (_who(p["owner"], p["uid"], f.get("owner"), f.get("uid")) and _who(p["group"], p["gid"], f.get("group"), f.get("gid"))
          and f.get("mode") == mode)
    return Outcome(ok, expected, found, "" if ok else fix)


def mount(p, facts):
    path, device, fstype = p["path"], p["device"], p["fstype"]
    f = (facts.get("mount_facts") or {}).get(path) or {}
    expected = f"{device} ({fstype}) mounted at {path} and in /etc/fstab"
    types = {fstype, "nfs4"} if fstype == "nfs" else {fstype}
    mounted = [m for m in f.get("mounted") or [] if m.get("fstype") in types]
    node = f.get("device")
    if not mounted:
        now = ", ".join(f"{m['source']} ({m['fstype']})" for m in f.get("mounted") or []) or "nothing"
        return Outcome(False, expected, f"{now} mounted at {path}", f"mount {shlex.quote(path)} (or {REAPPLY})")
    source = mounted[-1]["source"]
    if node and source.split("[", 1)[0] != node:
        return Outcome(False, expected, f"{source} is mounted at {path}, not {node}", f"unmount it, then {REAPPLY}")
    entries = [e for e in f.get("fstab") or [] if e.get("fstype") in types]
    if len(entries) != 1:
        found = (f"/etc/fstab has {len(f.get('fstab') or [])} entries for {path}" if f.get("fstab_readable", True)
                 else "/etc/fstab cannot be read")
        return Outcome(False, expected, found + f" (mounted now: {source})",
                       f"{REAPPLY}: the mount must be in /etc/fstab to come back after a reboot")
    return Outcome(True, expected, f"{source} ({mounted[-1]['fstype']}) at {path}; fstab: {entries[0]['spec']}")
