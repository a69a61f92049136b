"""Strict patterns for every profile value that can reach a shell, a Dockerfile or YAML.

Validation is the first line of defence; renderers quote everything as well.
None of these patterns admit quotes, backticks, `$`, backslashes or newlines.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

from toolkit import redact

VERSION = re.compile(r"^\d+(\.\d+){0,3}$")
PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
APT_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]{0,99}(=[A-Za-z0-9.+:~-]{1,64})?$")
_PIP_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?"
_PIP_VERSION = r"[A-Za-z0-9.*+!_-]{1,64}"
_PIP_CLAUSE = rf"(?:===|==|!=|<=|>=|~=|<|>)\s*{_PIP_VERSION}"
PIP_REQUIREMENT = re.compile(
    rf"^{_PIP_NAME}(?:\[{_PIP_NAME}(?:,{_PIP_NAME})*\])?"
    rf"(?:\s*{_PIP_CLAUSE}(?:\s*,\s*{_PIP_CLAUSE})*)?$"
)
PIP_NAME = re.compile(rf"^{_PIP_NAME}$")
UNIX_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
ABS_PATH = re.compile(r"^/(?:[A-Za-z0-9._@+-]+/?)*$")
LOCAL_PATH = re.compile(r"^[A-Za-z0-9._/@+~-]{1,4096}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
ENV_VALUE = re.compile(r"^[A-Za-z0-9_./:,=@%+ -]{0,1024}$")
# No credentials (user:pass@) in URLs: a profile is not a place for secrets.
URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[A-Za-z0-9._~/%+=-]*)?$")
NO_PROXY_ENTRY = re.compile(r"^(?:\*|\.?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d{1,5})?|[0-9a-fA-F.:]+(?:/\d{1,3})?)$")
IMAGE_REF = re.compile(
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d{1,5})?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
GIT_CONFIG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9_.-]+)*\.[A-Za-z][A-Za-z0-9-]*$")
SAFE_TEXT = re.compile(r"^[A-Za-z0-9 _.,:@/+=%-]{0,512}$")
# Arguments of user-defined check commands: run as argv (never through a shell) and
# quoted by every renderer; still no quotes, backticks, `$`, pipes or redirects.
CHECK_ARG = re.compile(r"^[A-Za-z0-9 _.,:;@/+=%()\[\]{}*!?#~-]{1,1024}$")
# An NVIDIA driver branch: the major version, e.g. 550 or 580.
DRIVER_BRANCH = re.compile(r"^[1-9]\d{2,3}$")
IP_ADDRESS = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|::1?|[0-9a-fA-F:]+)$")

DESCRIBE = {
    VERSION: "a version such as \"3.11\" or \"12.8\" (digits and dots, quoted)",
    PROFILE_NAME: "lower-case letters, digits, '.', '_' or '-'",
    APT_PACKAGE: "an OS package name, optionally '=version' (e.g. git or curl=7.88.1-10; on Rocky Linux/AlmaLinux "
                 "the same form, written name-version for dnf)",
    PIP_REQUIREMENT: "a pip requirement such as numpy, numpy==1.26.4 or pandas>=2,<3 (no URLs, markers or shell text)",
    UNIX_NAME: "a Unix user name (lower-case letters, digits, '_' or '-', starting with a letter or '_')",
    ABS_PATH: "an absolute path of letters, digits, '.', '_', '@', '+', '-' and '/'",
    LOCAL_PATH: "a file path of letters, digits, '.', '_', '/', '@', '+', '~' or '-'",
    ENV_NAME: "an environment variable name (letters, digits, '_'; not starting with a digit)",
    ENV_VALUE: "plain text without quotes, '$', backticks, backslashes or newlines",
    URL: "an http(s) URL without credentials, quotes or shell characters",
    NO_PROXY_ENTRY: "a host name, domain (.example.com), IP address or CIDR",
    IMAGE_REF: "an image reference such as debian:12 or registry.example.com/ns/image:tag",
    GIT_CONFIG_KEY: "a git config key such as user.name or init.defaultBranch",
    SAFE_TEXT: "plain text without quotes, '$', backticks, backslashes or newlines",
    CHECK_ARG: "one command argument without quotes, '$', backticks, '|', '&', '<', '>' or newlines",
    IP_ADDRESS: "an IP address such as 127.0.0.1 or 0.0.0.0",
    DRIVER_BRANCH: "auto or a driver branch (major version) such as \"550\" or \"580\"",
}


def check_quiet(pattern: re.Pattern[str], value: str) -> str:
    """check() for a character-class pattern whose values may be secrets (env values): the error
    names the first character at fault, never the value."""
    if pattern.fullmatch(value):
        return value
    bad = next((i for i, ch in enumerate(value) if not pattern.fullmatch(ch)), None)
    if bad is None:
        raise ValueError(f"expected {DESCRIBE[pattern]}, at most the allowed length ({len(value)} characters; "
                         "the value is not shown: it may be a secret)")
    ch = value[bad]
    shown = repr(ch) if ch.isascii() and ch.isprintable() else f"U+{ord(ch):04X}"
    raise ValueError(f"expected {DESCRIBE[pattern]}: character {bad + 1} ({shown}) is not allowed "
                     "(the value is not shown: it may be a secret)")


def check(pattern: re.Pattern[str], value: str) -> str:
    """Return value if it matches pattern, else raise ValueError saying what was expected."""
    if not pattern.fullmatch(value):
        raise ValueError(f"expected {DESCRIBE[pattern]}, got {redact.value(value)!r}")
    return value


# ----------------------------------------------------------------------------- free text
# Text that only reaches labels, comments and JSON (a profile's description): any printable
# character, quotes and non-ASCII letters included (every renderer quotes it), but nothing that
# controls a terminal or reorders text: C0/C1 controls, DEL, format characters such as the bidi
# overrides U+202A-U+202E and U+2066-U+2069, zero-width characters, line/paragraph separators,
# surrogates, private-use and unassigned code points.
FREE_TEXT_MAX = 300
_NOT_TEXT = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def not_text(value: str, allowed: str = "") -> str | None:
    """'U+XXXX at position N' for the first control or invisible formatting character not in `allowed`."""
    for i, ch in enumerate(value):
        if ch not in allowed and unicodedata.category(ch) in _NOT_TEXT:
            return f"U+{ord(ch):04X} at position {i + 1}"
    return None


def free_text(value: str) -> str:
    """Return value if it is one line of printable text; the error never echoes the value."""
    if len(value) > FREE_TEXT_MAX:
        raise ValueError(f"text longer than {FREE_TEXT_MAX} characters ({len(value)})")
    bad = not_text(value)
    if bad:
        raise ValueError(f"control or invisible formatting character {bad} is not allowed (one line of printable text)")
    return value


def ip_address(value: str) -> str:
    """Return value if it is an IPv4 or IPv6 address (no zone index, no host names)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"expected an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::1, "
                         f"got {value[:64]!r}") from None
    if "%" in value:
        raise ValueError("IPv6 zone indexes (fe80::1%eth0) are not supported; use an address without '%'")
    return value


# ----------------------------------------------------------------------------- argv of run: steps
# One argument of a run: step's command or unless (passed as argv, never through a shell, quoted by every
# renderer): any printable text, non-ASCII letters included, but no control, bidi or zero-width character
# (a newline or a right-to-left override would hide what runs from the person reading the profile).
RUN_ARG_MAX = 4096


def run_arg(value: str) -> str:
    """Return value if it is one non-empty argument of printable text; the error never echoes it raw."""
    if not value:
        raise ValueError("an empty argument; leave it out")
    if len(value) > RUN_ARG_MAX:
        raise ValueError(f"argument longer than {RUN_ARG_MAX} characters ({len(value)}); put long text in a script:")
    bad = not_text(value)
    if bad:
        raise ValueError(f"control or invisible formatting character {bad} (arguments are one line of printable "
                         "text; put multi-line code in a script: file)")
    if redact.has_credentials(value):
        raise ValueError("holds credentials (a URL with user@ or user:password@; not shown): a profile ends up in "
                         "the image, its history and profile.json; read them at run time (env of the host, a file)")
    return value


def program(value: str) -> str:
    """The first argument of a run: command: the program (a name found on PATH, or an absolute path)."""
    run_arg(value)
    if value.startswith("-") or "=" in value or value != value.strip():
        raise ValueError(f"the first argument is the program to run: a name such as git or an absolute path, "
                         f"without '=', leading '-' or surrounding spaces, got {redact.value(value)[:80]!r}")
    return value
