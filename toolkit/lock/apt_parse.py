"""What apt prints, read without running anything: `apt-get install -s` lines, /etc/os-release,
`apt-cache madison`, apt's error lines; and the text and argv a locked install needs.

Pure functions over text, tested in tests/unit/lock/test_apt_parse.py; apt_resolve.py runs apt and
hands its output here."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from toolkit.lock.model import AptResolution, Interpreter, OsPackage
from toolkit.model.osfamily import DEBIAN

# apt's pkgSimulate: `Inst NAME [CURRENT] (CANDIDATE RELEASE, RELEASE... [ARCH])`, then maybe ` [BROKEN]`.
# CURRENT is there when the image already has the package (an upgrade or downgrade); RELEASE may be empty.
_INST = re.compile(r"^Inst (?P<name>\S+)(?: \[(?P<current>[^\]]*)\])? "
                   r"\((?P<version>\S+)(?: (?P<suites>[^\[\]]*?))? ?\[(?P<arch>[^\]]+)\]\)")
_MADISON = re.compile(r"^\s*(?P<name>\S+)\s*\|\s*(?P<version>\S+)\s*\|")
_UNMET = "The following packages have unmet dependencies:"
MAX_ERROR_LINES = 20


@dataclass(frozen=True)
class Inst:
    """One package `apt-get install -s` would install or change."""

    name: str
    version: str
    arch: str
    current: str | None = None   # the version the image has now (an upgrade), None for a new package
    suites: str = ""             # "Debian:12.5/stable, Debian-Security:12/stable-security"


def parse_inst(output: str) -> list[Inst]:
    """Every `Inst` line of a simulated install, in apt's order (Conf/Remv lines are left out)."""
    found = []
    for line in output.splitlines():
        m = _INST.match(line)
        if m:
            found.append(Inst(m["name"], m["version"], m["arch"], m["current"], (m["suites"] or "").strip()))
    return found


def parse_os_release(text: str) -> str:
    """/etc/os-release as a lock names the release: "debian 12 (bookworm)"; "unknown" when it says nothing."""
    values = {}
    for line in text.splitlines():
        key, eq, value = line.strip().partition("=")
        if eq and key and not key.startswith("#"):
            values[key] = value.strip().strip("\"'")
    release = " ".join(v for v in (values.get("ID"), values.get("VERSION_ID")) if v) or "unknown"
    codename = values.get("VERSION_CODENAME")
    return f"{release} ({codename})" if codename else release


def parse_madison(output: str) -> dict[str, list[str]]:
    """`apt-cache madison NAME...`: the versions the archive offers per package, apt's order (newest first)."""
    found: dict[str, list[str]] = {}
    for line in output.splitlines():
        m = _MADISON.match(line)
        if m and m["version"] not in found.setdefault(m["name"], []):
            found[m["name"]].append(m["version"])
    return found


def apt_errors(stdout: str, stderr: str) -> str:
    """The lines of a failed apt run that say why: `E:` lines and the unmet-dependencies block."""
    lines = []
    out = stdout.splitlines()
    if _UNMET in out:
        block = out[out.index(_UNMET):]
        lines += [block[0]] + [line for line in block[1:] if line.startswith(" ")]
    lines += [line for line in stderr.splitlines() if line.startswith(("E:", "W:", "Err:"))]
    if not lines:
        lines = [line for line in (stderr or stdout).splitlines() if line.strip()][-5:]
    return "\n".join(lines[:MAX_ERROR_LINES])


def preferences(pins: Iterable[tuple[str, str]]) -> str:
    """An apt preferences file that makes each (name, version) the candidate when the archive has it
    (priority 1001: kept even where the archive has a newer one), without installing anything itself."""
    return "".join(f"Package: {name}\nPin: version {version}\nPin-Priority: 1001\n\n" for name, version in pins)


def pinned(packages: Sequence[OsPackage]) -> tuple[str, ...]:
    """What a locked install passes to the package manager: `name=version` for each package, in order."""
    return tuple(f"{p.name}{DEBIAN.version_separator}{p.version}" for p in packages)


def upstream_version(version: str) -> str:
    """A Debian version's upstream part: 3.11.2-6+deb12u6 -> 3.11.2, 1:2.39.5-0+deb12u3 -> 2.39.5."""
    version = version.split(":", 1)[1] if ":" in version else version
    return version.rsplit("-", 1)[0]


def interpreter(resolution: AptResolution, python_version: str) -> Interpreter | None:
    """The system Python the locked OS packages install for `python_version` ("3.11" or "3.11.2"):
    the python3.X package (or python3.X-minimal) of the resolution. None when the resolution holds
    neither (the base image brings its own Python, or the plan installs none)."""
    minor = ".".join(python_version.split(".")[:2])
    by_name = {p.name.split(":", 1)[0]: p for p in resolution.packages}
    for name in (f"python{minor}", f"python{minor}-minimal"):
        package = by_name.get(name)
        if package:
            return Interpreter(upstream_version(package.version), f"os package {name} {package.version}")
    return None
