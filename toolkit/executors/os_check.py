"""Compare a target's OS (its /etc/os-release) with the one the profile was written for, before apply
changes anything: another family (an Ubuntu profile on Debian) is refused unless allowed, another
release of the same family is a warning."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

OS_RELEASE = "/etc/os-release"
OS_RELEASE_FALLBACK = "/usr/lib/os-release"
REFUSED_STEP = "OS check"
OVERRIDE = "--allow-os-mismatch"


@dataclass(frozen=True)
class OsRelease:
    id: str
    version_id: str

    def __str__(self) -> str:
        return f"{self.id or 'unknown OS'} {self.version_id}".strip()


@dataclass(frozen=True)
class Verdict:
    kind: str            # "ok" | "release" (warn) | "family" (refuse) | "unknown" (warn)
    message: str


def read_os_release(open_binary: Callable[[str], AbstractContextManager[Any]]) -> str:
    """The target's os-release text, through open_binary (this machine's open, or the upload's SFTP session: no
    command, no shell on a host): /etc first, then /usr/lib (os-release(5)); empty when neither is there."""
    for path in (OS_RELEASE, OS_RELEASE_FALLBACK):
        try:
            with open_binary(path) as fh:
                return fh.read(65536).decode("utf-8", "replace")
        except OSError:
            continue
    return ""


def parse_os_release(text: str) -> OsRelease:
    """ID and VERSION_ID of an os-release file (shell-style KEY=value lines, values maybe quoted)."""
    values = {}
    for line in text.splitlines():
        key, sep, raw = line.strip().partition("=")
        if not sep or key.startswith("#"):
            continue
        try:
            words = shlex.split(raw)
        except ValueError:
            words = [raw]
        values[key] = words[0] if words else ""
    return OsRelease(values.get("ID", "").lower(), values.get("VERSION_ID", ""))


def compare(distro: str, version: str, found: OsRelease, host: str) -> Verdict:
    wanted = f"{distro} {version}"
    if not found.id:
        return Verdict("unknown", f"{host}: could not read {OS_RELEASE}; the profile is for {wanted}")
    if found.id != distro.lower():
        return Verdict("family", f"{host} runs {found}, but the profile is for {wanted}")
    if found.version_id != version:
        return Verdict("release", f"{host} runs {found}, the profile is for {wanted}; applying anyway")
    return Verdict("ok", "")
