"""Probe part: accounts' authorized keys, folders' owner and mode, mounts (the host fields users,
directories and mounts). Stdlib only, Python 3.6+; never follows a link it is asked about."""

import json
import os
import shutil
import stat
import sys

from .base import SOURCE, read, run

FSTAB = "/etc/fstab"


def _names(st):
    import grp
    import pwd
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = None
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = None
    return owner, group


def path_stat(path):
    """lstat facts of one path: None when missing."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return None if exc.errno in (2, 20) else {"error": str(exc)}
    owner, group = _names(st)
    return {"link": stat.S_ISLNK(st.st_mode), "dir": stat.S_ISDIR(st.st_mode), "file": stat.S_ISREG(st.st_mode),
            "uid": st.st_uid, "gid": st.st_gid, "owner": owner, "group": group,
            "mode": "%o" % stat.S_IMODE(st.st_mode)}


def dir_stats(paths):
    return {path: path_stat(path) for path in paths}


def ssh_keys(homes):
    """ssh_keys_here, or, where the probe's user cannot look inside an account's private ~/.ssh, the same
    as root through `sudo -n` when that needs no password (else those homes say what was not seen)."""
    out = ssh_keys_here(homes)
    hidden = [h for h, e in out.items() if e.get("error") or (e["file"] or {}).get("error")]
    if hidden and os.geteuid() != 0 and SOURCE and shutil.which("sudo"):
        res = run(["sudo", "-n", "--", sys.executable, "-c", SOURCE, "ssh-keys", json.dumps(hidden)])
        try:
            seen = json.loads(res["out"].strip().splitlines()[-1]) if res["rc"] == 0 else {}
        except (ValueError, IndexError):
            seen = {}
        for home, entry in seen.items():
            out[home] = dict(entry, how="through sudo -n")
    return out


def ssh_keys_here(homes):
    """Per home: its .ssh folder and authorized_keys (lstat) and the keys there (TYPE BASE64)."""
    out = {}
    for home in homes:
        folder = os.path.join(home, ".ssh")
        path = os.path.join(folder, "authorized_keys")
        entry = {"dir": path_stat(folder), "file": path_stat(path), "keys": None}
        if entry["file"] and entry["file"].get("file") and not entry["file"].get("link"):
            text = read(path)
            if text is None:
                entry["error"] = "cannot read %s (run verify as root or as the account)" % path
            else:
                entry["keys"] = sorted({" ".join(line.split()[:2]) for line in text.splitlines()
                                        if len(line.split()) >= 2 and not line.lstrip().startswith("#")})
        out[home] = entry
    return out


def _unescape_mount(text):
    """/proc/mounts and fstab write a space as \\040, a tab as \\011, a backslash as \\134."""
    for code, ch in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        text = text.replace(code, ch)
    return text


def _table(text):
    rows = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) >= 4 and not fields[0].startswith("#"):
            rows.append([_unescape_mount(f) for f in fields[:4]])
    return rows


def device_node(device):
    """The /dev node a device spec names (UUID=, LABEL=, PARTUUID=, a /dev/ path); the spec itself for
    network shares and tmpfs; None when it cannot be found here."""
    if device.startswith("/dev/"):
        return os.path.realpath(device) if os.path.exists(device) else None
    for tag, folder in (("UUID=", "by-uuid"), ("LABEL=", "by-label"), ("PARTUUID=", "by-partuuid")):
        if device.startswith(tag):
            link = os.path.join("/dev/disk", folder, device[len(tag):])
            if os.path.exists(link):
                return os.path.realpath(link)
            if shutil.which("findfs"):
                res = run(["findfs", device])
                if res["rc"] == 0 and res["out"].strip():
                    return res["out"].strip()
            return None
    return device


def mount_facts(reqs):
    """Per requested mount point: what is mounted there, what fstab says, and the device node wanted."""
    mounted = _table(read("/proc/self/mounts") or read("/proc/mounts"))
    fstab = _table(read(FSTAB))
    out = {}
    for req in reqs:
        path = req["path"]
        out[path] = {
            "mounted": [{"source": r[0], "fstype": r[2], "options": r[3]} for r in mounted if r[1] == path],
            "fstab": [{"spec": r[0], "fstype": r[2], "options": r[3]} for r in fstab if r[1] == path],
            "fstab_readable": read(FSTAB) is not None,
            "device": device_node(req["device"]),
        }
    return out
