"""Evaluators for the system and Python checks: OS, packages, users, git, files, venv, pip."""

from __future__ import annotations

import shlex

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from toolkit.verify.outcome import FRAMEWORK_MODULES, Outcome, missing, tail, venv_of
from toolkit.verify.probe import command_key, writable_key


# --------------------------------------------------------------------------- system
def os_release(p, facts):
    f = facts.get("os_release") or {}
    expected = f"{p['distro']} {p['version']}"
    found = f"{f.get('id')} {f.get('version_id')}"
    return Outcome(f.get("id") == p["distro"] and f.get("version_id") == str(p["version"]), expected, found,
                   f"the profile targets {expected}; verify a {expected} target or change os: in the profile")


def dpkg_package(p, facts):
    """os_package, Debian family: the package's dpkg status."""
    name, f = p["name"], facts.get("dpkg") or {}
    if "_error" in f:
        return Outcome(False, f"{name} installed (dpkg)", f["_error"],
                       "os_package checks of the debian family need a Debian/Ubuntu target")
    entry = f.get(name)
    if entry and entry["status"].startswith("ii"):
        return Outcome(True, f"{name} installed", f"{name} {entry['version']}")
    found = f"{name} not installed" if not entry else f"{name} in dpkg state {entry['status'].strip()!r}"
    return Outcome(False, f"{name} installed", found, f"apt-get install -y {name}")


def dpkg_package_version(p, facts):
    """os_package_version, Debian family: installed at exactly the locked version."""
    entry = (facts.get("dpkg") or {}).get(p["name"])
    installed = entry["version"] if entry and entry["status"].startswith("ii") else None
    return _locked(p, facts.get("dpkg") or {}, installed, "debian family need a Debian/Ubuntu target")


def _locked(p, f: dict, installed: str | None, need: str):
    """The installed version (None: not installed) against the locked one."""
    name, locked = p["name"], p["version"]
    expected = f"{name} {locked} (locked)"
    if "_error" in f:
        return Outcome(False, expected, f["_error"], f"os_package checks of the {need}")
    if installed is None:
        return Outcome(False, expected, f"{name} not installed, locked {locked}", LOCKED_FIX)
    return Outcome(installed == locked, expected, f"{name} {installed}, locked {locked}"
                   if installed != locked else f"{name} {locked}", LOCKED_FIX)


def rpm_package(p, facts):
    """os_package, RHEL family: an installed package provides the name (rpm -q --whatprovides)."""
    name, f = p["name"], facts.get("rpm") or {}
    if "_error" in f:
        return Outcome(False, f"{name} installed (rpm)", f["_error"],
                       "os_package checks of the rhel family need a Rocky Linux/AlmaLinux target")
    entry = f.get(name)
    if entry:
        own = "" if entry["package"] == name else f" (as {entry['package']})"
        return Outcome(True, f"{name} installed", f"{name} {entry['version']}{own}")
    return Outcome(False, f"{name} installed", f"{name} not installed",
                   f"dnf install -y --setopt=install_weak_deps=False {name}")


def rpm_package_version(p, facts):
    """os_package_version, RHEL family: installed at exactly the locked version-release."""
    entry = (facts.get("rpm") or {}).get(p["name"])
    return _locked(p, facts.get("rpm") or {}, entry["version"] if entry else None,
                   "rhel family need a Rocky Linux/AlmaLinux target")


LOCKED_FIX = "re-apply or rebuild from the lock (toolkit apply/build --locked), or refresh the lock (toolkit lock)"


def venv(p, facts):
    path = p["path"]
    f = (facts.get("paths") or {}).get(path) or {}
    ok = bool(f.get("is_dir") and f.get("pyvenv_cfg") and f.get("python"))
    if not f.get("exists"):
        found = f"{path} does not exist"
    elif not f.get("pyvenv_cfg"):
        found = f"{path} exists but has no pyvenv.cfg (not a virtual environment)"
    else:
        found = f"{path} is a virtual environment" + ("" if f.get("python") else " without an executable bin/python")
    return Outcome(ok, f"a virtual environment at {path}", found, f"python3 -m venv {path}")


def file(p, facts):
    path = p["path"]
    ok = bool((facts.get("files") or {}).get(path))
    return Outcome(ok, f"{path} exists", f"{path} {'exists' if ok else 'is missing'}",
                   "re-apply the profile (toolkit apply) so the file is installed")


def writable(p, facts):
    user, dirs, trees = p["user"], list(p["dirs"]), list(p["trees"])
    f = facts.get(writable_key(p)) or {}
    expected = f"{user} can create folders and files in {', '.join(dirs)}"
    if trees:
        expected += f", and write every folder under {', '.join(trees)} (to depth 3)"
    fix = (f"give the folders back to {user}: chown -R {user}: FOLDER (as root; in an image, a RUN step "
           f"before USER). Images built by toolkit get this right: rebuild with toolkit build")
    if f.get("no_user"):
        return Outcome(False, expected, f["_error"], f"create {user} first (re-apply the profile: toolkit apply)")
    if "_error" in f or not f:
        return Outcome(False, expected, f.get("_error", "the probe gathered nothing"),
                       f"run verify as root or as {user} (or give the connecting user sudo -n -u {user})")
    how = f" ({f['how']})" if f.get("how") else ""
    problems = [why for why in (f.get("dirs") or {}).values() if why]
    for tree in trees:
        found = (f.get("trees") or {}).get(tree) or {}
        problems += [f"not writable: {why}" for why in found.get("unwritable", [])]
        if found.get("truncated"):
            problems.append(f"(more under {tree})")
    hidden = f.get("hidden") or []
    if hidden and not f.get("hidden_by_user"):
        problems.append("could not look inside: " + "; ".join(hidden))
    if problems:
        return Outcome(False, expected, "; ".join(problems) + how, fix)
    if "hidden" in f:    # judged by permission bits; what the user's own private folders hide is the user's
        seen = f" (not seen: inside {'; '.join(hidden)})" if hidden else ""
        return Outcome(True, expected, f"owner and mode let {user} write each folder{seen}{how}")
    return Outcome(True, expected, f"{user} wrote a new folder and file in each; no unwritable folder found{how}")


def shm(p, facts):
    mb = (facts.get("shm") or {}).get("mb")
    expected = f"/dev/shm >= {p['min_mb']} MB"
    if mb is None:
        return Outcome(False, expected, "no /dev/shm", "mount a tmpfs on /dev/shm (containers: --shm-size=1g)")
    return Outcome(mb >= p["min_mb"], expected, f"/dev/shm is {mb} MB",
                   "run the container with --shm-size=1g (or --ipc=host); DataLoader workers die with "
                   "'Bus error' otherwise")


def command(p, facts):
    argv = list(p["argv"])
    f = facts.get(command_key(argv)) or {}
    expect = p.get("expect")
    expected = "exit 0" + (f" and output containing {expect!r}" if expect else "")
    output = (f.get("out", "") + f.get("err", "")).strip()
    ok = f.get("rc") == 0 and (not expect or expect in output)
    found = f"exit {f.get('rc')}: {tail(output)}"
    return Outcome(ok, expected, found, f"run it on the target to see why: {shlex.join(argv)}")


def git(p, facts):
    f = facts.get("git") or {}
    want = "git and git-lfs" if p["lfs"] else "git"
    if not f.get("path"):
        return Outcome(False, f"{want} installed", "git not found on PATH", f"apt-get install -y {want.replace(' and ', ' ')}")
    if p["lfs"] and not f.get("lfs"):
        return Outcome(False, f"{want} installed", f"{f.get('version')}; git lfs not available",
                       "apt-get install -y git-lfs && git lfs install --system")
    return Outcome(True, f"{want} installed", "; ".join(v for v in (f.get("version"), f.get("lfs")) if v))


def git_config(p, facts):
    key, value = p["key"], p["value"]
    found = ((facts.get("git") or {}).get("config") or {}).get(key)
    return Outcome(found == value, f"{key} = {value}", f"{key} = {found}" if found is not None else f"{key} unset",
                   f"git config --system {shlex.quote(key)} {shlex.quote(str(value))}")


def user(p, facts):
    name = p["name"]
    f = (facts.get("users") or {}).get(name)
    want = {"uid": p["uid"], "gid": p["gid"], "home": p["home"], "shell": p["shell"], "sudo": p["sudo"]}
    expected = ", ".join(f"{k}={v}" for k, v in want.items())
    if not f:
        return Outcome(False, f"user {name} ({expected})", f"no user {name}",
                       f"useradd --uid {p['uid']} --create-home --shell {p['shell']} {name}")
    have = {"uid": f["uid"], "gid": f["gid"], "home": f["home"], "shell": f["shell"], "sudo": has_sudo(f)}
    wrong = [k for k in want if want[k] is not None and want[k] != have[k]]
    found = ", ".join(f"{k}={have[k]}" for k in want)
    hint = ""
    if "sudo" in wrong:
        hint = (f"grant sudo: usermod -aG sudo {name}" if p["sudo"]
                else f"remove sudo rights: gpasswd -d {name} sudo and drop its /etc/sudoers.d entry")
    elif wrong:
        hint = f"usermod to fix {', '.join(wrong)} of {name} (or re-apply the profile)"
    return Outcome(not wrong, f"user {name} ({expected})", found, hint)


SUDO_GROUPS = {"sudo", "wheel", "admin"}


def has_sudo(f: dict) -> bool:
    """Sudo rights from `sudo -n -l` output, sudoers entries, or membership of a sudo group."""
    if not f.get("sudo_bin"):
        return False
    listed = f.get("sudo_list") or {}
    text = listed.get("out", "") + listed.get("err", "")
    if "may run the following" in text:
        return True
    return bool(f.get("sudoers")) or bool(SUDO_GROUPS & set(f.get("groups", [])))


# --------------------------------------------------------------------------- python
def _interp(p, facts):
    key = "interp:" + p["python"]
    return facts.get(key) or {}, missing(key, facts)


def python_version(p, facts):
    f, problem = _interp(p, facts)
    expected = f"Python {p['version']} at {p['python']}"
    if problem or f.get("missing"):
        return Outcome(False, expected, f.get("_error") or (problem and problem.found),
                       "create the virtual environment: python3 -m venv " + venv_of(p["python"]))
    found = f.get("version", "")
    ok = found == p["version"] or found.startswith(str(p["version"]) + ".")
    return Outcome(ok, expected, f"Python {found}", f"recreate {venv_of(p['python'])} with Python {p['version']}")


def pip_package(p, facts):
    name, spec, py = p["name"], p["specifier"] or "", p["python"]
    f, problem = _interp(p, facts)
    expected = f"{name}{spec} installed and importable"
    install = f"{py} -m pip install {shlex.quote(name + spec)}"
    if problem or f.get("missing"):
        return Outcome(False, expected, f.get("_error") or problem.found, f"create the venv, then {install}")
    dist = (f.get("dists") or {}).get(name)
    if not dist:
        return Outcome(False, expected, f"{name} is not installed in {venv_of(py)}",
                       f"pip install {name} in {venv_of(py)}: {install}")
    version = dist["version"]
    try:
        matches = not spec or SpecifierSet(spec).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion) as exc:
        return Outcome(False, expected, f"{name} {version} ({exc})", install)
    if not matches:
        return Outcome(False, expected, f"{name} {version} does not match {spec}", install)
    imported = _import_fact(p, facts, f)
    if imported is None and not p["import_name"] and not dist.get("top_level"):
        return Outcome(True, expected, f"{name} {version} (declares no importable top-level module)")
    if imported is None:
        imported = {"module": p["import_name"] or dist.get("top_level"), "ok": False, "error": "not probed"}
    if not imported.get("ok"):
        return Outcome(False, expected, f"{name} {version}; import {imported.get('module')} failed: "
                       f"{tail(imported.get('error', ''))}", f"{py} -m pip install --force-reinstall {shlex.quote(name)}")
    via = f" ({imported['via']})" if imported.get("via") else ""
    return Outcome(True, expected, f"{name} {version}, import {imported['module']} ok{via}")


def pip_version(p, facts):
    name, locked, py = p["name"], p["version"], p["python"]
    f, problem = _interp(p, facts)
    expected = f"{name} {locked} (locked)"
    if problem or f.get("missing"):
        return Outcome(False, expected, f.get("_error") or problem.found, LOCKED_FIX)
    dist = (f.get("dists") or {}).get(name)
    if not dist:
        return Outcome(False, expected, f"{name} not installed in {venv_of(py)}, locked {locked}", LOCKED_FIX)
    found = dist["version"]
    return Outcome(found == locked, expected, f"{name} {found}" + ("" if found == locked else f", locked {locked}"),
                   LOCKED_FIX)


def _import_fact(p, facts, interp) -> dict | None:
    framework = FRAMEWORK_MODULES.get(p["import_name"] or "")
    if framework:
        return (facts.get(f"{framework}:{p['python']}") or {}).get("import") or {
            "module": p["import_name"], "ok": False, "error": "not probed"}
    return (interp.get("imports") or {}).get(p["name"])


def pip_check(p, facts):
    key = "pip_check:" + p["python"]
    f = facts.get(key) or {}
    return Outcome(f.get("rc") == 0, "pip check: no broken requirements", tail(f.get("out", "")) or "no output",
                   f"install the missing or compatible versions it names: {p['python']} -m pip check")
