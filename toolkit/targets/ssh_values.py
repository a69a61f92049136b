"""What may go into an SSH address, an OpenSSH config or an Ansible inventory, and how to show it.

Every value from an inventory, an ssh config or the command line that toolkit hands to OpenSSH or
Ansible passes one of these checks first. Names and users match strict patterns (matched whole:
`$` would let a trailing newline through). Paths are free text in principle, but some characters
mean something to a reader further down: `{` and `%` start Jinja in Ansible and tokens in OpenSSH,
`$` environment expansion, quotes and backslashes end or escape a quoted word, `#` a comment,
`*?[]` a glob in Include, and control or invisible characters (newline, ESC, U+202E) start a new
config line or rewrite the terminal. Such paths are refused (exit 2) with the reason, never escaped
silently: a key file with such a name is better renamed than half-quoted.
"""

from __future__ import annotations

import re

from toolkit.errors import UsageError

SSH_USER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
SSH_HOST_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[[0-9A-Fa-f:.]{2,45}\]")
# An inventory host name: the address itself, or an alias for it (a Host in the ssh config).
HOST_NAME_RE = re.compile(r"[A-Za-z0-9_\[][A-Za-z0-9_.:@\[\]-]{0,252}")
GROUP_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
PATH_SPECIAL = frozenset("{}%$\"'\\`#*?[]")
MAX_PATH = 4096
SHOWN = 48
SHOWN_PATH = 240


def shown(value: object, limit: int = SHOWN) -> str:
    """A value as an error message may show it: repr (control characters escaped), cut short."""
    plain = isinstance(value, (str, int, float)) or value is None      # bool is an int
    text = repr(value) if plain else type(value).__name__
    if not text.isascii():
        text = text.encode("ascii", "backslashreplace").decode()
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def is_user(value: object) -> bool:
    return isinstance(value, str) and SSH_USER_RE.fullmatch(value) is not None


def is_host(value: object) -> bool:
    """A host name or an IP address; IPv6 in brackets or bare."""
    if not isinstance(value, str):
        return False
    return SSH_HOST_RE.fullmatch(f"[{value}]" if ":" in value and not value.startswith("[") else value) is not None


def path_problem(value: object) -> str | None:
    """Why `value` cannot be used as a path in an ssh config or an inventory; None when it can."""
    if not isinstance(value, str):
        return f"must be a path (text), got {type(value).__name__}"
    if not value.strip():
        return "is empty"
    if len(value) > MAX_PATH:
        return f"is longer than {MAX_PATH} characters"
    if not value.isprintable():
        return "contains a control or invisible character (newline, ESC, U+202E...)"
    bad = sorted(set(value) & PATH_SPECIAL)
    if bad:
        return f"contains {', '.join(map(repr, bad))}, which OpenSSH or Ansible would read as syntax"
    if value.startswith("-"):
        return "starts with '-' (it would read as an option)"
    return None


def check_path(what: str, value: object) -> str:
    """`value` if it is a path safe to hand to OpenSSH and Ansible, else UsageError naming `what`."""
    why = path_problem(value)
    if why:
        raise UsageError(f"{what}: {shown(value, SHOWN_PATH)} {why}",
                         "rename the file (or link it) to a plain path: letters, digits, space, . _ - / ~ + @ = , :")
    return value  # type: ignore[return-value]
