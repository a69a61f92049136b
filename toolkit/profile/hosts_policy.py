"""Rules for the host fields `users:`, `directories:` and `mounts:`: values that pass a pattern but
would be dangerous or silently mean something else.

Each rule returns None when the value is fine, else why not and what to do; model.py turns those into
located validation errors (the rules across fields are in hosts_semantics.py).
"""

from __future__ import annotations

import re

from toolkit.profile.policy import SYSTEM_TREES, normalised, system_folder

# ----------------------------------------------------------------------------- accounts
# Login shells toolkit knows, and the OS package that provides each (None: every host has it).
SHELLS = {
    "/bin/bash": None, "/usr/bin/bash": None, "/bin/sh": None, "/usr/bin/sh": None, "/bin/dash": None,
    "/usr/bin/dash": None, "/bin/zsh": "zsh", "/usr/bin/zsh": "zsh", "/usr/bin/fish": "fish",
    "/usr/sbin/nologin": None, "/sbin/nologin": None, "/bin/false": None, "/usr/bin/false": None,
}
# Groups whose membership is root (or reads every password hash or raw disk): not a side effect of a list.
PRIVILEGED_GROUPS = {
    "root": "is root's own group", "sudo": "grants sudo", "wheel": "grants sudo", "admin": "grants sudo",
    "shadow": "reads every password hash", "disk": "writes raw disks (root in all but name)",
    "kmem": "reads kernel memory",
}


def shell_problem(shell: str) -> str | None:
    if shell in SHELLS:
        return None
    return f"{shell} is not a login shell toolkit knows; use one of {', '.join(sorted(SHELLS))}"


def group_problem(name: str) -> str | None:
    why = PRIVILEGED_GROUPS.get(name)
    if why is None:
        return None
    hint = "use `sudo: true` for sudo rights" if "sudo" in why else "leave it out"
    return f"group {name} {why}; {hint}"


# ----------------------------------------------------------------------------- directories
def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def directory_path_problem(path: str) -> str | None:
    """Why `path` cannot be a managed folder (a system folder, or inside one the OS owns), or None."""
    norm = normalised(path)
    why = system_folder(norm)
    if why is None:
        return None
    return (f"{norm} {why}; toolkit would change its owner and mode. Give your data a folder of its own "
            "(/data/NAME, /srv/NAME, /opt/models)")


MODE = re.compile(r"^[0-7]{3,4}$")


def mode_problem(mode: str) -> str | None:
    if not MODE.fullmatch(mode):
        return f"expected 3 or 4 octal digits such as \"0755\" or \"2775\", got {mode[:12]!r}"
    bits = int(mode, 8)
    if bits & 0o4000:
        return "the setuid bit (4xxx) does nothing on a folder; use 2xxx (setgid: new files get the folder's group)"
    if bits & 0o002 and not bits & 0o1000:
        return ("world-writable without the sticky bit: anyone could delete or replace anyone's files; use 1777 "
                "(like /tmp) or a group: 2775 with `group:`")
    return None


def check_mode_type(value):
    """YAML reads an unquoted 2775 as the number 2775 and 0755 as the octal number 493: say so (with the
    quoted mode meant) instead of 'expected a string'."""
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value)
        meant = digits.zfill(4) if set(digits) <= set("01234567") and len(digits) <= 4 else f"0{value:o}"
        raise ValueError(f"write the mode in quotes: \"{meant}\" (YAML reads an unquoted 0755 as the number 493)")
    return value


# ----------------------------------------------------------------------------- mounts
BLOCK_FSTYPES = ("ext4", "xfs", "btrfs", "ext3", "ext2", "vfat")
NET_FSTYPES = ("nfs", "nfs4")
FSTYPES = (*BLOCK_FSTYPES, *NET_FSTYPES, "tmpfs")
# OS packages a host needs to mount (or make) each file system; the others come with every host.
FSTYPE_PACKAGES = {"xfs": ("xfsprogs",), "btrfs": ("btrfs-progs",), "vfat": ("dosfstools",),
                   "nfs": ("nfs-common",), "nfs4": ("nfs-common",)}

_UUID = re.compile(r"^UUID=[0-9A-Fa-f][0-9A-Fa-f-]{3,35}$")
_PARTUUID = re.compile(r"^PARTUUID=[0-9A-Fa-f][0-9A-Fa-f-]{3,35}$")
_LABEL = re.compile(r"^LABEL=[A-Za-z0-9._-]{1,64}$")
_DEV = re.compile(r"^/dev/[A-Za-z0-9._-]+(?:/[A-Za-z0-9._:-]+)*$")
_NFS = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]{2,45}\])"
                  r":/(?:[A-Za-z0-9._@+-][A-Za-z0-9._@+/-]{0,4000})?$")
DEVICE_HELP = ("UUID=..., PARTUUID=..., LABEL=..., a /dev/... path (e.g. /dev/nvme1n1), server:/export (NFS) or "
               "tmpfs")
OPTION = re.compile(r"^[a-z0-9_][a-z0-9_.-]{0,63}(?:=[A-Za-z0-9_.:/@+-]{1,256})?$")
# Options that do not describe a file system at boot (or hand a block device's files to anyone).
REFUSED_OPTIONS = {"remount": "is an action, not a setting", "bind": "makes a bind mount, not a file system mount",
                   "rbind": "makes a bind mount", "move": "is an action, not a setting",
                   "defaults": "is what an empty options list means"}


def device_kind(device: str) -> str | None:
    """block, nfs or tmpfs: what kind of source `device` names; None when it names none."""
    if device == "tmpfs":
        return "tmpfs"
    if _UUID.fullmatch(device) or _PARTUUID.fullmatch(device) or _LABEL.fullmatch(device):
        return "block"
    if _DEV.fullmatch(device) and ".." not in device.split("/"):
        return "block"
    if _NFS.fullmatch(device) and ".." not in device.split("/"):
        return "nfs"
    return None


def device_problem(device: str) -> str | None:
    if device_kind(device) is None:
        return f"expected {DEVICE_HELP}; got {device[:80]!r}"
    return None


def mount_path_problem(path: str) -> str | None:
    """Why nothing may be mounted at `path` (the root, or where the OS keeps itself), or None."""
    norm = normalised(path)
    if norm == "/" or _under(norm, "/usr") or any(_under(norm, t) for t in SYSTEM_TREES):
        return (f"{norm} is where the operating system keeps itself; mounting there would hide it. Mount data at a "
                "folder of its own (/data, /srv/NAME, /mnt/NAME)")
    return None


def option_problem(option: str) -> str | None:
    if "," in option:
        return "one option per list item (write [noatime, nodev], not \"noatime,nodev\")"
    if not OPTION.fullmatch(option):
        return (f"expected a mount option such as noatime, nofail or size=8g (letters, digits, '_', '.', '-', "
                f"then =value), got {option[:60]!r}")
    name = option.split("=", 1)[0]
    if name in REFUSED_OPTIONS:
        return f"{name} {REFUSED_OPTIONS[name]}; leave it out"
    return None


def fits(device: str, fstype: str) -> str | None:
    """Why this device cannot hold this file system type, or None."""
    kind = device_kind(device)
    if kind is None:
        return None                  # the device's own rule reports it
    want = "nfs" if fstype in NET_FSTYPES else "tmpfs" if fstype == "tmpfs" else "block"
    if kind == want:
        return None
    needs = {"nfs": "server:/export", "tmpfs": "the word tmpfs", "block": "a block device (UUID=, LABEL=, /dev/...)"}
    return f"fstype {fstype} needs {needs[want]} as its device"
