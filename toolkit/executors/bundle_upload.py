"""Carry a bundle to an SSH host over SFTP, resuming by checksum.

The bundle goes to ~/.toolkit-bundles/ID on the host (ID: the first 16 hex digits of the sha256 of
its SHA256SUMS; folders 0700, owned by the login user), where it stays between runs: a dropped
connection leaves what arrived, and the next run sends only what is missing. Per file of SHA256SUMS:
present with the right size and hash (one `sha256sum` over SSH for all of them) -> not sent again;
shorter -> the rest is appended (resumed), then checked; anything else -> sent whole. What install.sh
finds is checked again there, against the same SHA256SUMS, before anything changes.
"""

from __future__ import annotations

import hashlib
import posixpath
import shlex
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from toolkit.bundle import layout
from toolkit.bundle.manifest import parse_sums

CHUNK = 1 << 18
REMOTE_BASE = ".toolkit-bundles"


@dataclass
class Sent:
    remote: str
    skipped: list[str] = field(default_factory=list)   # already there with the right hash
    resumed: list[str] = field(default_factory=list)   # a partial file completed
    sent: list[str] = field(default_factory=list)      # sent whole
    bytes_sent: int = 0


def bundle_id(local: Path) -> str:
    return hashlib.sha256((local / layout.SUMS).read_bytes()).hexdigest()[:16]


def launcher(remote: str) -> str:
    """The setup.sh apply runs (through its root wrapper): the staged bundle's install.sh."""
    return ("#!/usr/bin/env bash\n# toolkit apply --bundle: run the bundle's installer (it checks SHA256SUMS first)\n"
            f"exec bash {shlex.quote(remote + '/' + layout.INSTALL)} \"$@\"\n")


def files(local: Path) -> dict[str, str]:
    """rel path -> sha256 for every file the bundle lists, plus SHA256SUMS itself."""
    sums = (local / layout.SUMS).read_bytes()
    listed = parse_sums(sums.decode())
    return {**listed, layout.SUMS: hashlib.sha256(sums).hexdigest()}


def _mkdirs(sftp: paramiko.SFTPClient, path: str) -> None:
    parts = path.split("/")
    for n in range(2, len(parts) + 1):
        here = "/".join(parts[:n])
        try:
            st = sftp.stat(here)
            if not stat.S_ISDIR(st.st_mode or 0):
                raise OSError(f"{here} exists and is not a folder")
        except FileNotFoundError:
            sftp.mkdir(here, 0o700)


def _remote_hashes(run: Callable[[str, float], tuple[int, str]], remote: str, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    rc, out = run(f"cd {shlex.quote(remote)} && sha256sum -- {' '.join(shlex.quote(n) for n in names)}", 600)
    found = {}
    for line in out.splitlines():
        hexdigest, sep, name = line.partition("  ")
        if sep and len(hexdigest) == 64:
            found[name] = hexdigest
    return found


def stage(sftp: paramiko.SFTPClient, run: Callable[[str, float], tuple[int, str]], local: Path,
          say: Callable[[str], None], on_bytes: Callable[[int, int], None] | None = None) -> Sent:
    """Make the host's copy of `local` whole (see above); returns where it is and what was sent."""
    wanted = files(local)
    home = sftp.normalize(".")
    remote = posixpath.join(home, REMOTE_BASE, bundle_id(local))
    _mkdirs(sftp, remote)
    sizes = {rel: (local / rel).stat().st_size for rel in wanted}
    total = sum(sizes.values())
    present: dict[str, int] = {}
    for rel in wanted:
        try:
            present[rel] = sftp.stat(f"{remote}/{rel}").st_size or 0
        except FileNotFoundError:
            pass
    same_size = [rel for rel, size in present.items() if size == sizes[rel]]
    there = _remote_hashes(run, remote, same_size)
    result = Sent(remote)
    done = 0
    for rel in sorted(wanted):
        if there.get(rel) == wanted[rel]:
            result.skipped.append(rel)
            done += sizes[rel]
            continue
        offset = present.get(rel, 0) if present.get(rel, 0) < sizes[rel] else 0
        _mkdirs(sftp, posixpath.dirname(f"{remote}/{rel}"))
        done = _send(sftp, local / rel, f"{remote}/{rel}", offset, result, done, total, on_bytes)
        (result.resumed if offset else result.sent).append(rel)
    after = _remote_hashes(run, remote, result.resumed + result.sent)
    wrong = [rel for rel in result.resumed + result.sent if after.get(rel) != wanted[rel]]
    for rel in wrong:     # a resumed file whose first part was not ours: sent again whole
        say(f"bundle: {rel} did not match after resuming; sending it whole")
        _send(sftp, local / rel, f"{remote}/{rel}", 0, result, 0, total, None)
    sftp.chmod(f"{remote}/{layout.INSTALL}", 0o700)
    return result


def _send(sftp: paramiko.SFTPClient, src: Path, dest: str, offset: int, result: Sent, done: int, total: int,
          on_bytes: Callable[[int, int], None] | None) -> int:
    with open(src, "rb") as fh, sftp.open(dest, "ab" if offset else "wb") as out:
        out.set_pipelined(True)
        fh.seek(offset)
        done += offset
        while block := fh.read(CHUNK):
            out.write(block)
            result.bytes_sent += len(block)
            done += len(block)
            if on_bytes:
                on_bytes(done, total)
    sftp.chmod(dest, 0o600)
    return done
