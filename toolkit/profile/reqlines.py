"""One line of a pip requirements file, read the way pip reads it but never through a shell, and judged.

pip's own rules: a `#` at the start of a line or after whitespace starts a comment; a line ending in `\\`
continues on the next; the words before the first one starting with `-` are the requirement, the rest
its options. What toolkit accepts of that:

- requirements `packaging` parses (extras, specifiers, environment markers), with `--hash=ALG:HEX`;
- direct URLs `name @ https://...` (https only, no user:password@, no secret-looking query parameter),
  and git: `name @ git+https://host/repo@<40-hex commit>` or `git+https://host/repo@<commit>#egg=name`
  (pinned: a branch or tag can move under you);
- `-r FILE` / `-c FILE` includes (the caller follows them), `--pre`, `--prefer-binary`, `--require-hashes`,
  `--only-binary`/`--no-binary` with package names.

Refused, each with what to do: index options (`-i`, `--extra-index-url`, `-f`, `--no-index`,
`--trusted-host`: they belong in `network:`), `-e` and local paths (build a wheel into network.wheelhouse),
`${VAR}` (pip would expand it from the target's environment), per-requirement build options, other VCS
and schemes, and control or bidi characters anywhere in the line.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from toolkit.profile import policy
from toolkit.profile.patterns import not_text
from toolkit.redact import looks_secret
from toolkit.redact import value as redacted

COMMENT = re.compile(r"(^|\s+)#.*$")
URL_CHARS = re.compile(r"^[A-Za-z0-9._~:/?#\[\]@!&*+,;=%-]+$")
HOST = re.compile(r"^[A-Za-z0-9.-]+(?::\d{1,5})?$")
COMMIT = re.compile(r"^[0-9a-fA-F]{40}$")
HASH = re.compile(r"^(sha256:[0-9a-fA-F]{64}|sha384:[0-9a-fA-F]{96}|sha512:[0-9a-fA-F]{128})$")
BINARY_VALUE = re.compile(r"^(?::all:|:none:|[A-Za-z0-9][A-Za-z0-9._-]*)(?:,(?::all:|:none:|[A-Za-z0-9][A-Za-z0-9._-]*))*$")
FRAGMENT_KEYS = ("egg", "subdirectory", "sha256", "sha384", "sha512", "md5")
ARCHIVE = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar")
KEPT_FLAGS = ("--pre", "--prefer-binary", "--require-hashes")
WITH_VALUE = {"-r": "-r", "--requirement": "-r", "-c": "-c", "--constraint": "-c", "-e": "-e", "--editable": "-e",
              "-i": "-i", "--index-url": "-i", "--extra-index-url": "--extra-index-url", "-f": "-f",
              "--find-links": "-f", "--trusted-host": "--trusted-host", "--only-binary": "--only-binary",
              "--no-binary": "--no-binary"}
INDEX_HINT = ("set the index in the profile instead: network.pip.index_url / extra_index_urls (logins come from "
              "TOOLKIT_PIP_INDEX_USERNAME/PASSWORD or a netrc when build or apply runs, never from a file)")
LOCAL_HINT = ("build a wheel (pip wheel PATH -w wheels), put it in the folder network.wheelhouse names and require it "
              "by name (name==version); or install it yourself in a run: step")
REFUSED = {
    "-i": INDEX_HINT, "--extra-index-url": INDEX_HINT,
    "-f": "put the wheels in a folder and name it in network.wheelhouse",
    "--no-index": "set network.offline: true (with network.wheelhouse)",
    "--trusted-host": "--trusted-host turns TLS verification off; trust your CA with network.ca_certificates instead",
    "-e": "editable installs of a local folder need your source tree on the target: " + LOCAL_HINT
          + "; for a git URL, drop the -e (a pinned git requirement is installed normally)",
}


class LineError(ValueError):
    """Why a line is refused (message, hint); never holds a credential."""

    def __init__(self, message: str, hint: str, line: int | None = None):
        super().__init__(message)
        self.message, self.hint, self.line = message, hint, line


@dataclass(frozen=True)
class Parsed:
    """What one logical line is: a requirement (with hashes), an include, a kept option, or nothing."""

    kind: str                       # "requirement" | "include" | "option" | "empty"
    requirement: str = ""           # normalised PEP 508 text (str(Requirement)), e.g. foo[x]>=1; python_version < "3.12"
    name: str = ""                  # canonical project name
    hashes: tuple[str, ...] = ()    # ALG:HEX
    include: str = ""               # -r / -c
    target: str = ""                # the included file, as written
    option: tuple[str, ...] = ()    # a kept global option and its value
    url: bool = False               # a direct URL or VCS requirement


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) per logical line, as pip joins them: a line ending in `\\` continues on the
    next unless it is a comment line; then comments are stripped."""
    joined: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for n, raw in enumerate(text.splitlines(), 1):
        bad = not_text(raw, allowed="\t")
        if bad:
            raise LineError(f"control or invisible formatting character {bad.replace('position', 'column')}",
                            "requirement files are plain text; remove it (a bidi or zero-width character can hide "
                            "what a line really says)", n)
        line = raw.replace("\t", " ")
        if not line.endswith("\\") or COMMENT.match(line):
            line = " " + line if COMMENT.match(line) else line
            joined.append((start, "".join(pending) + line) if pending else (n, line))
            pending = []
        else:
            start = start if pending else n
            pending.append(line.strip("\\"))
    if pending:
        joined.append((start, "".join(pending)))
    return [(n, COMMENT.sub("", line).strip()) for n, line in joined]


def _split(line: str) -> tuple[str, list[str]]:
    """pip's break_args_options: words up to the first word starting with '-' are the requirement."""
    words = line.split(" ")
    for i, word in enumerate(words):
        if word.startswith("-"):
            return " ".join(words[:i]).strip(), [w for w in words[i:] if w]
    return line.strip(), []


def _options(words: list[str]) -> list[tuple[str, str | None]]:
    """(option, value) pairs: `--opt=value`, `--opt value`, `-rFILE` and `-r FILE`."""
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(words):
        word = words[i]
        value: str | None
        if word.startswith("--") and "=" in word:
            name, value = word.split("=", 1)
            out.append((name, value))
        elif word.startswith("--"):
            takes = word in WITH_VALUE or word == "--hash"
            value = words[i + 1] if takes and i + 1 < len(words) else None
            out.append((word, value))
            i += 1 if takes else 0
        elif word.startswith("-") and len(word) > 2:
            out.append((word[:2], word[2:]))
        elif word.startswith("-"):
            value = words[i + 1] if i + 1 < len(words) else None
            out.append((word, value))
            i += 1
        else:
            raise LineError(f"{_shown(word)!r} is not an option: pip reads everything from the first word starting "
                            "with '-' as options", "one requirement or option per line; a marker goes after ';' "
                            "and holds no word starting with '-'")
        i += 1
    return out


def _shown(text: str, limit: int = 80) -> str:
    safe = redacted(text)
    return safe if len(safe) <= limit else safe[:limit] + "..."


def parse_line(line: str, constraint: bool = False) -> Parsed:
    """One logical line (comments already stripped); raises LineError."""
    if not line:
        return Parsed("empty")
    if "${" in line:
        raise LineError("${...} would be expanded by pip from the environment of the machine it runs on",
                        "write the value itself; logins for an index come from the environment when build or "
                        "apply runs (network.pip), never from a requirements file")
    req_text, words = _split(line)
    if req_text:
        return _requirement(req_text, _options(words) if words else [], constraint)
    return _option(_options(words), constraint)


def _option(pairs: list[tuple[str, str | None]], constraint: bool) -> Parsed:
    if len(pairs) != 1:
        raise LineError("one option per line, please", "split the options over separate lines")
    name, value = pairs[0]
    key = WITH_VALUE.get(name, name)
    if key in REFUSED:
        raise LineError(f"{name} is not taken from requirement files by toolkit", REFUSED[key])
    if key in ("-r", "-c"):
        if not value:
            raise LineError(f"{name} needs a file name", f"write {key} other.txt")
        if constraint and key == "-r":
            raise LineError("-r inside a constraints file", "list that file in packages.pip_requirements instead")
        return Parsed("include", include=key, target=value)
    if key in KEPT_FLAGS:
        if value is not None:
            raise LineError(f"{name} takes no value", f"write {key} alone")
        return Parsed("option", option=(key,))
    if key in ("--only-binary", "--no-binary"):
        if not value or not BINARY_VALUE.match(value):
            raise LineError(f"{name} needs :all:, :none: or package names separated by commas",
                            f"e.g. {key}=:all: or {key}=numpy,scipy")
        return Parsed("option", option=(key, value))
    raise LineError(f"option {_shown(name, 40)!r} is not supported in requirement files by toolkit",
                    "remove it; supported: -r, -c, --hash, --pre, --prefer-binary, --require-hashes, --only-binary, "
                    "--no-binary (index options go in network.pip)")


def _hashes(pairs: list[tuple[str, str | None]]) -> tuple[str, ...]:
    out = []
    for name, value in pairs:
        if name != "--hash":
            hint = ("build options run code you cannot review here; build the wheel yourself and use "
                    "network.wheelhouse" if name in ("--config-settings", "--global-option", "--install-option",
                                                     "-C") else "only --hash=ALG:HEX may follow a requirement")
            raise LineError(f"option {_shown(name, 40)!r} after a requirement is not supported by toolkit", hint)
        if not value or not HASH.match(value):
            raise LineError("--hash needs ALG:HEX with sha256, sha384 or sha512 and the full digest",
                            "copy the line from `pip hash FILE` or `pip-compile --generate-hashes`")
        out.append(value.lower())
    return tuple(out)


def _looks_local(text: str) -> bool:
    head = text.split(";", 1)[0].strip()
    if "@" in head:                       # name @ URL: judged as a URL
        return False
    return (head.startswith((".", "/", "~")) or head.lower().endswith(ARCHIVE)
            or ("/" in head and "@" not in head and "://" not in head) or head.lower().startswith("file:"))


def _requirement(text: str, pairs: list[tuple[str, str | None]], constraint: bool) -> Parsed:
    hashes = _hashes(pairs)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        text = _named_url(text)
    elif _looks_local(text):
        raise LineError(f"{_shown(text)!r} is a local path", LOCAL_HINT)
    why = policy.requirement_problem(text)
    if why:
        raise LineError(why, "requirement lines are PEP 508: name[extras] specifiers ; marker, or name @ URL")
    req = Requirement(text)
    if req.url:
        url_problem(req.url)
        if constraint and req.extras:
            raise LineError("a constraint cannot have extras", "write the constraint without [extras]")
    elif constraint and req.extras:
        raise LineError("a constraint cannot have extras (pip refuses them)", "write the constraint without [extras]")
    return Parsed("requirement", requirement=str(req), name=canonicalize_name(req.name), hashes=hashes,
                  url=bool(req.url))


def _named_url(text: str) -> str:
    """`git+https://...@commit#egg=name` (pip's older spelling) as `name @ URL`; a bare archive URL is refused."""
    url, _, marker = text.partition(";")
    url = url.strip()
    fragment = urllib.parse.urlsplit(url).fragment if URL_CHARS.match(url) else ""
    egg = urllib.parse.parse_qs(fragment).get("egg", [""])[0]
    if not egg:
        raise LineError(f"{_shown(url)!r} has no project name", "write it as NAME @ URL (PEP 508), so toolkit can "
                        "check the installed distribution; for git, NAME @ git+https://host/repo@COMMIT")
    kept = "&".join(p for p in fragment.split("&") if p and not p.startswith("egg="))
    bare = url.split("#", 1)[0] + (f"#{kept}" if kept else "")
    return f"{egg} @ {bare}" + (f" ;{marker}" if marker else "")


def url_problem(url: str) -> None:
    """Raise LineError unless url is an https archive URL or a pinned git+https URL without credentials."""
    shown = _shown(url)
    if not URL_CHARS.match(url):
        raise LineError(f"URL {shown!r} has characters toolkit does not take (quotes, spaces, '$', '(' ...)",
                        "percent-encode them (%20 for a space)")
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    for name, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if looks_secret(name) or name.lower() in ("sig", "signature", "x-amz-signature", "key"):
            raise LineError(f"URL {_shown(url.split('?', 1)[0])!r} has a query parameter {_shown(name, 40)!r} that "
                            "looks like a secret", "use a URL without credentials (a public file, or an index in "
                            "network.pip with its login from the environment)")
    if scheme in ("git+http", "http", "git+git", "git+ssh", "ssh", "git"):
        raise LineError(f"URL {shown!r}: only https is taken (an {scheme} download is not verified, ssh needs keys "
                        "on the target)", "use the https:// (or git+https://) URL of the same thing")
    if scheme == "file":
        raise LineError(f"URL {shown!r} is a local file", LOCAL_HINT)
    if scheme not in ("https", "git+https"):
        raise LineError(f"URL {shown!r}: scheme {scheme}: is not taken", "use https:// for a file, git+https:// for a "
                        "git repository (other version control systems are not supported)")
    if "@" in parts.netloc:
        raise LineError(f"URL {shown!r} holds credentials (user@ or user:password@)",
                        "a profile and its files end up in the image and its history; serve the file from an "
                        "index named in network.pip, whose login comes from the environment or a netrc")
    if not HOST.match(parts.netloc):
        raise LineError(f"URL {shown!r} has no valid host", "write https://host/path")
    for key in urllib.parse.parse_qs(parts.fragment):
        if key not in FRAGMENT_KEYS:
            raise LineError(f"URL fragment #{_shown(key, 20)}= is not one pip knows",
                            f"use #{'/#'.join(FRAGMENT_KEYS[:3])}= or none")
    if scheme == "git+https":
        ref = parts.path.rpartition("@")[2] if "@" in parts.path else ""
        if not COMMIT.match(ref):
            raise LineError(f"git URL {shown!r} is not pinned to a commit" + (f" ({_shown(ref, 40)!r} can move)"
                                                                              if ref else ""),
                            "end the URL with @ and the full 40-character commit id: git+https://host/repo@COMMIT "
                            "(`git ls-remote URL REF` prints it)")
