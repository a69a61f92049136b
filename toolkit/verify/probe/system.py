"""Probe part: system facts (OS release, OS packages, paths, users, shm, git, commands, files, GPU)."""

import os
import shutil
import time

from .base import read, run


def os_release():
    text = read("/etc/os-release") or read("/usr/lib/os-release") or ""
    out = {}
    for line in text.splitlines():
        if "=" in line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip().strip('"').strip("'")
    return {"id": out.get("ID"), "version_id": out.get("VERSION_ID"), "pretty": out.get("PRETTY_NAME")}


def dpkg(names):
    """Debian family: each package's dpkg status and version (None: not known to dpkg)."""
    if not shutil.which("dpkg-query"):
        return {"_error": "dpkg-query not found (not a Debian/Ubuntu system)"}
    res = run(["dpkg-query", "-W", "-f", "${Package}\t${db:Status-Abbrev}\t${Version}\n", "--"] + list(names))
    found = {}
    for line in res["out"].splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            found[parts[0].split(":")[0]] = {"status": parts[1].strip(), "version": parts[2]}
    return {name: found.get(name) for name in names}


def rpm(names):
    """RHEL family: the installed package providing each name (rpm -q --whatprovides, as dnf sees it: Rocky 9's
    curl-minimal provides curl) and its version-release (None: nothing installed provides it)."""
    if not shutil.which("rpm"):
        return {"_error": "rpm not found (not a RHEL-family system)"}
    out = {}
    for name in names:
        res = run(["rpm", "-q", "--whatprovides", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n", "--", name])
        line = res["out"].splitlines()[0] if res["rc"] == 0 and res["out"].strip() else ""
        parts = line.split("\t")
        out[name] = {"package": parts[0], "version": parts[1]} if len(parts) == 2 else None
    return out


def paths(names):
    out = {}
    for path in names:
        cfg = read(os.path.join(path, "pyvenv.cfg"))
        out[path] = {"exists": os.path.exists(path), "is_dir": os.path.isdir(path),
                     "pyvenv_cfg": cfg is not None,
                     "python": os.access(os.path.join(path, "bin", "python"), os.X_OK)}
    return out


def users(names):
    import grp
    import pwd
    sudo_bin = shutil.which("sudo")
    out: dict = {}
    for name in names:
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            out[name] = None
            continue
        groups = sorted(g.gr_name for g in grp.getgrall() if name in g.gr_mem)
        try:
            groups.append(grp.getgrgid(pw.pw_gid).gr_name)
        except KeyError:
            pass
        entry = {"uid": pw.pw_uid, "gid": pw.pw_gid, "home": pw.pw_dir, "shell": pw.pw_shell,
                 "groups": sorted(set(groups)), "sudo_bin": bool(sudo_bin), "sudo_list": None,
                 "sudoers": sudoers_mentions(name)}
        if sudo_bin:
            me = os.geteuid()
            argv = ["sudo", "-n", "-l"] if me == pw.pw_uid else ["sudo", "-n", "-l", "-U", name]
            if me == 0 or me == pw.pw_uid:
                entry["sudo_list"] = run(argv, timeout=10)
            else:   # an admin whose sudo needs no password may list another user's rules (else: not seen)
                listed = run(argv, timeout=10)
                entry["sudo_list"] = listed if listed["rc"] == 0 else None
        out[name] = entry
    return out


def sudoers_mentions(name):
    """True/False when the sudoers files are readable, None when they are not."""
    files = ["/etc/sudoers"]
    try:
        files += [os.path.join("/etc/sudoers.d", f) for f in sorted(os.listdir("/etc/sudoers.d"))]
    except OSError:
        pass
    readable = False
    for path in files:
        text = read(path)
        if text is None:
            continue
        readable = True
        for line in text.splitlines():
            words = line.strip().split()
            if words and words[0] == name:
                return True
    return False if readable else None


def shm():
    try:
        st = os.statvfs("/dev/shm")
        return {"mb": st.f_blocks * st.f_frsize // (1024 * 1024)}
    except OSError as exc:
        return {"mb": None, "error": str(exc)}


def git(req):
    out: dict = {"path": shutil.which("git"), "version": None, "lfs": None, "config": {}}
    if not out["path"]:
        return out
    out["version"] = run(["git", "--version"])["out"].strip()
    if req.get("lfs"):
        res = run(["git", "lfs", "version"])
        out["lfs"] = res["out"].strip() if res["rc"] == 0 else None
    for key in req.get("config", []):
        res = run(["git", "config", "--get", key])
        out["config"][key] = res["out"].rstrip("\n") if res["rc"] == 0 else None
    return out


def command(argv):
    started = time.time()
    res = run(argv)
    res["seconds"] = round(time.time() - started, 3)
    return res


def files(names):
    return {path: os.path.exists(path) for path in names}


def gpu():
    out = {"dev": os.path.exists("/dev/nvidia0"), "smi": shutil.which("nvidia-smi"),
           "proc_version": read("/proc/driver/nvidia/version"), "nouveau": False, "gpus": [], "smi_error": None}
    modules = read("/proc/modules") or ""
    out["nouveau"] = any(line.split(" ", 1)[0] == "nouveau" for line in modules.splitlines())
    if out["smi"]:
        res = run(["nvidia-smi", "--query-gpu=index,name,driver_version,memory.total,persistence_mode",
                   "--format=csv,noheader,nounits"], timeout=30)
        if res["rc"] == 0:
            for line in res["out"].splitlines():
                cells = [c.strip() for c in line.split(",")]
                if len(cells) >= 5:
                    out["gpus"].append({"index": cells[0], "name": cells[1], "driver": cells[2],
                                        "memory_mb": cells[3], "persistence": cells[4]})
        else:
            out["smi_error"] = (res["err"] or res["out"]).strip()[-500:]
    out["visible"] = bool(out["dev"] or out["gpus"])
    return out
