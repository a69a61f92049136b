"""Probe part: can a user write its folders (as that user, or judged by owner and mode)."""

import json
import os
import shutil
import subprocess
import sys

from .base import COMMAND_TIMEOUT, SOURCE, run

WRITE_DEPTH = 3          # folders this deep under a tree are checked (site-packages under a venv)
WRITE_SCAN_LIMIT = 5000  # folders looked at per tree, at most
WRITE_REPORT_LIMIT = 10  # unwritable folders named per tree, at most


def writable(req):
    """As req["user"] (the probe's own user, root dropping its rights, or sudo -n -u): can it make a
    folder holding a file in each of req["dirs"], and which folders under req["trees"] can it not write?"""
    import pwd
    try:
        pw = pwd.getpwnam(req["user"])
    except KeyError:
        return {"_error": "no user %s on the target" % req["user"], "no_user": True}
    me = os.geteuid()
    if me == pw.pw_uid:
        return write_test(req)
    env = {"HOME": pw.pw_dir, "USER": pw.pw_name, "LOGNAME": pw.pw_name, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    argv = [sys.executable, "-c", SOURCE, "writable-as", json.dumps(req)]
    if me == 0:
        res = run_as(argv, pw, env)
        how = "as %s (root dropped to uid %d)" % (pw.pw_name, pw.pw_uid)
    else:
        # sudo rights are often granted as root only: then root runs this gatherer, and drops to the user.
        res = {"rc": 127}
        if shutil.which("sudo"):
            res = run(["sudo", "-n", "-u", pw.pw_name, "--"] + argv, env=dict(os.environ, **env))
            how = "as %s through sudo -n -u" % pw.pw_name
            if res["rc"] != 0:
                res = run(["sudo", "-n", "--", sys.executable, "-c", SOURCE, "writable", json.dumps(req)])
                how = "as %s through sudo -n (root dropped to uid %d)" % (pw.pw_name, pw.pw_uid)
        if res["rc"] != 0:   # no way to become the user (sudo wants a password): judge by permission bits
            return bits_test(req, pw)
    try:
        out = json.loads(res["out"].strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"_error": "could not test %s: exit %s: %s" % (how, res["rc"], (res["err"] or res["out"]).strip()[-500:])}
    out["how"] = how
    return out


def run_as(argv, pw, env):
    """run() with root's rights dropped to pw's user and groups (Python 3.9+: user=/group=)."""
    import grp
    groups = [g.gr_gid for g in grp.getgrall() if pw.pw_name in g.gr_mem]
    if sys.version_info >= (3, 9):
        try:
            proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                  timeout=COMMAND_TIMEOUT, env=env, cwd="/", user=pw.pw_uid, group=pw.pw_gid,
                                  extra_groups=groups)
        except (OSError, subprocess.SubprocessError) as exc:
            return {"rc": 126, "out": "", "err": str(exc)}
        return {"rc": proc.returncode, "out": proc.stdout.decode("utf-8", "replace"),
                "err": proc.stderr.decode("utf-8", "replace")}

    def drop():  # pragma: no cover - Python < 3.9 only
        os.setgroups(groups)
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              timeout=COMMAND_TIMEOUT, env=env, cwd="/", preexec_fn=drop)
    except (OSError, subprocess.SubprocessError) as exc:
        return {"rc": 126, "out": "", "err": str(exc)}
    return {"rc": proc.returncode, "out": proc.stdout.decode("utf-8", "replace"),
            "err": proc.stderr.decode("utf-8", "replace")}


def bits_test(req, pw):
    """Without the user's rights: owner, group and mode of each folder say whether pw could write it.
    Folders this process cannot look into are listed under "hidden" with who owns the folder that hides them."""
    import grp
    gids = {pw.pw_gid} | {g.gr_gid for g in grp.getgrall() if pw.pw_name in g.gr_mem}

    def may_write(st):
        if st.st_uid == pw.pw_uid:
            return st.st_mode & 0o300 == 0o300
        if st.st_gid in gids:
            return st.st_mode & 0o030 == 0o030
        return st.st_mode & 0o003 == 0o003

    def check(path):
        where = path
        while True:
            try:
                st = os.lstat(where)
                break
            except FileNotFoundError:
                where = os.path.dirname(where)
            except OSError:
                return None, where
        if not os.path.isdir(where):
            return "%s is not a folder" % where, None
        return (None if may_write(st) else "%s cannot write %s (%s)" % (pw.pw_name, where, owner_of(where))), None

    out: dict = {"uid": pw.pw_uid, "dirs": {}, "trees": {}, "hidden": [],
           "how": "judged by owner and mode: uid %d cannot become %s (sudo wants a password)" % (os.geteuid(), pw.pw_name)}
    for path in req.get("dirs", []):
        why, hidden = check(path)
        out["dirs"][path] = why
        if hidden:
            out["hidden"].append(owner_of(os.path.dirname(hidden)))
    for root in req.get("trees", []):
        found: dict = {"missing": False, "unwritable": [], "truncated": False}
        todo = [(root, 0)]
        while todo:
            path, depth = todo.pop()
            why, hidden = check(path)
            if hidden:
                out["hidden"].append(owner_of(os.path.dirname(hidden)))
                continue
            if why:
                found["unwritable"].append(why)
                continue
            if depth < WRITE_DEPTH:
                try:
                    todo.extend((e.path, depth + 1) for e in os.scandir(path) if e.is_dir(follow_symlinks=False))
                except OSError:
                    out["hidden"].append(owner_of(path))
        out["trees"][root] = found
    out["hidden"] = sorted(set(out["hidden"]))
    out["hidden_by_user"] = all((" is owned by %s:" % pw.pw_name) in h for h in out["hidden"])
    return out


def write_test(req):
    """In the user's own process: try each folder of req["dirs"], scan each of req["trees"]."""
    out: dict = {"uid": os.geteuid(), "dirs": {}, "trees": {}}
    for path in req.get("dirs", []):
        out["dirs"][path] = try_write(path)
    for path in req.get("trees", []):
        out["trees"][path] = unwritable_under(path)
    return out


def try_write(path):
    """None when a new folder with a file in it can be made in path, else why not. A missing path is
    made first (as the user's own tools would) and removed again, with every folder the test made."""
    import tempfile
    made = None
    try:
        if not os.path.isdir(path):
            if os.path.lexists(path):
                return "%s is not a folder" % path
            made = path
            while not os.path.lexists(os.path.dirname(made)):
                made = os.path.dirname(made)
            os.makedirs(path)
        scratch = tempfile.mkdtemp(prefix=".toolkit-write-test-", dir=path)
        try:
            with open(os.path.join(scratch, "file"), "w") as fh:
                fh.write("toolkit")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return None
    except OSError as exc:
        where = path
        while where != "/" and not os.path.lexists(where):
            where = os.path.dirname(where)
        return "cannot create a folder in %s: %s (%s)" % (path, exc.strerror or exc, owner_of(where))
    finally:
        if made:
            shutil.rmtree(made, ignore_errors=True)


def owner_of(path):
    import grp
    import pwd
    import stat
    try:
        st = os.lstat(path)
    except OSError as exc:
        return "%s: %s" % (path, exc.strerror)
    try:
        user = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        user = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return "%s is owned by %s:%s, mode %04o" % (path, user, group, stat.S_IMODE(st.st_mode))


def unwritable_under(root):
    """Folders under root (root included, WRITE_DEPTH deep, symlinks not followed) this user cannot write."""
    out: dict = {"missing": not os.path.isdir(root), "unwritable": [], "truncated": False}
    todo, seen = [(root, 0)], 0
    while todo and not out["missing"]:
        path, depth = todo.pop()
        seen += 1
        if seen > WRITE_SCAN_LIMIT:
            out["truncated"] = True
            break
        if not os.access(path, os.W_OK | os.X_OK):
            if len(out["unwritable"]) < WRITE_REPORT_LIMIT:
                out["unwritable"].append(owner_of(path))
            else:
                out["truncated"] = True
            continue
        if depth >= WRITE_DEPTH:
            continue
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name, reverse=True)
        except OSError:
            continue
        todo.extend((e.path, depth + 1) for e in entries if e.is_dir(follow_symlinks=False))
    return out
