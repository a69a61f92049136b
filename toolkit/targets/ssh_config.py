"""Writing OpenSSH config files: every line toolkit writes goes through `config_line`.

OpenSSH reads one option per line, splits words on blanks, honours double quotes and backslash
escapes, expands `%` tokens and `${VAR}` in paths, and keeps the FIRST value it reads for an option.
A value that could start a new line or end its quoting could add any option (ProxyCommand runs a
command), so each value is checked against what its keyword takes (ssh_values) and refused when it
does not fit; paths are written in double quotes (they may hold spaces).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import UsageError
from toolkit.targets.ssh_values import check_path, is_host, is_user, shown

ALIAS_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
PATHS = ("UserKnownHostsFile", "IdentityFile", "Include")
CHOICES = {"StrictHostKeyChecking": ("yes", "accept-new"), "BatchMode": ("yes", "no"),
           "IdentitiesOnly": ("yes", "no")}


@dataclass(frozen=True)
class HostEntry:
    """One `Host` block; `proxy_jump` names another entry's alias."""

    alias: str
    hostname: str
    port: int
    user: str
    known_hosts: str
    identity: str | None = None
    proxy_jump: str | None = None

    def lines(self) -> list[str]:
        out = [config_line("Host", self.alias), config_line("HostName", self.hostname, indent=True),
               config_line("Port", self.port, indent=True), config_line("User", self.user, indent=True),
               config_line("UserKnownHostsFile", self.known_hosts, indent=True)]
        if self.identity:
            out += [config_line("IdentityFile", self.identity, indent=True),
                    config_line("IdentitiesOnly", "yes", indent=True)]
        if self.proxy_jump:
            out.append(config_line("ProxyJump", self.proxy_jump, indent=True))
        return out


def config_line(keyword: str, value: object, indent: bool = False) -> str:
    """`Keyword value` for an ssh config; UsageError when `value` is not what the keyword takes."""
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    word: str | None
    if keyword in PATHS:
        word = '"' + check_path(f"ssh config {keyword}", value) + '"'
    elif keyword in CHOICES:
        word = text if text in CHOICES[keyword] else None
    elif keyword == "Port":
        word = text if text is not None and text.isdigit() and 0 < int(text) < 65536 else None
    elif keyword == "HostName":
        word = text if is_host(text) else None
    elif keyword == "User":
        word = text if is_user(text) else None
    elif keyword in ("Host", "ProxyJump"):
        word = text if text is not None and ALIAS_RE.fullmatch(text) else None
    else:
        raise ValueError(f"toolkit does not write {keyword} into ssh configs")   # a bug, not input
    if word is None:
        raise UsageError(f"cannot write {keyword} {shown(value)} into an ssh config: not a valid value",
                         "check the host's address, port and user in the inventory or --host URL")
    return ("    " if indent else "") + f"{keyword} {word}"


def render(entries: Iterable[HostEntry] = (), options: Iterable[tuple[str, str]] = (),
           includes: Iterable[str | Path] = ()) -> str:
    """Global options first (the first value wins), then Host blocks, then Includes for every host."""
    lines = [config_line(k, v) for k, v in options]
    entries = list(entries)
    for entry in entries:
        lines += entry.lines()
    include_lines = [config_line("Include", str(p)) for p in includes]
    if include_lines and entries:
        lines.append("Host *")     # an Include after a Host block would apply to that host only
    return "\n".join(lines + include_lines) + "\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path
