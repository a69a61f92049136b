"""Dockerfile words: quoting of every value a plan puts in a Dockerfile, and the per-render build state.

Quoting rules (no plan value is ever glued raw):
- RUN lines: every value goes through `q()`: shlex quoting, or bash ANSI-C quoting ($'...') when the
  value holds a backslash, a control character or non-ASCII text, so no raw newline or trailing
  backslash can end or continue a Dockerfile line. The SHELL is bash (Debian/Ubuntu targets).
- ENV, ARG and LABEL values (and LABEL keys) are JSON string literals; CMD, HEALTHCHECK, COPY and
  RunCommand use the JSON exec form.
- What Dockerfile syntax cannot quote (FROM image, USER, WORKDIR, ENV/ARG names, --chown, --chmod,
  --mount targets) is checked against the profile's strict patterns; a mismatch raises ValueError
  (a bug: validation should have refused the profile).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass, field

from toolkit.model.plan import Plan
from toolkit.profile import patterns
from toolkit.render.common import json_str

CONT = " \\\n    "          # continuation between the parts of one instruction
ITEM = " \\\n        "      # continuation before each package / requirement
MODE = re.compile(r"^[0-7]{3,4}$")
OWNER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}(?::[a-z_][a-z0-9_-]{0,31})?$")
_PLAIN = re.compile(r"^[\x20-\x5b\x5d-\x7e]*$")   # printable ASCII without backslash


# ---------------------------------------------------------------- quoting and validation

def q(value: object) -> str:
    """One shell word for a RUN line (bash), whatever the value holds."""
    text = str(value)
    if _PLAIN.match(text):
        return shlex.quote(text)
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch == "\\":
            out.append("\\\\")
        elif ch == "'":
            out.append("\\x27")
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    return "$'" + "".join(out) + "'"


def words(*values: object) -> str:
    return " ".join(q(v) for v in values)


def exec_form(argv) -> str:
    return "[" + ", ".join(json_str(str(a)) for a in argv) + "]"


def comment(text: str) -> str:
    """A one-line Dockerfile comment: control characters (newlines) become spaces, no trailing backslash."""
    return ("# " + "".join(c if c.isprintable() else " " for c in str(text))).rstrip(" \\")


def checked(pattern: re.Pattern[str], value: object, what: str) -> str:
    text = str(value)
    if not pattern.fullmatch(text):
        raise ValueError(f"cannot write {what} {text!r} into a Dockerfile unquoted: "
                         f"expected {patterns.DESCRIBE.get(pattern, pattern.pattern)}")
    return text


def context_name(taken: dict[str, str], prefix: str, path: str, content: str, fallback: str) -> str:
    """A safe, unique, deterministic build-context name (prefix + basename) for a file or folder."""
    base = prefix + (re.sub(r"[^A-Za-z0-9._-]", "_", posixpath.basename(str(path).rstrip("/"))).lstrip(".")
                     or fallback)
    name, n = base, 1
    while name in taken and taken[name] != content:
        n += 1
        name = f"{base}-{n}"
    taken[name] = content
    return name


# ---------------------------------------------------------------- build state (per render call)

@dataclass
class Build:
    plan: Plan
    buildkit: bool
    created: str | None
    shared_caches: bool = False                            # podman: no sharing=locked (see render)
    files: dict[str, str] = field(default_factory=dict)    # context file name (under files/) -> text
    trees: dict[str, str] = field(default_factory=dict)    # context folder -> local source folder
    mounts: dict[str, str] = field(default_factory=dict)   # CopyTree dest -> context folder
    owners: dict[str, str] = field(default_factory=dict)   # venv path -> owner
    cmd_owner: str | None = None                           # the service step that wrote the CMD
    lists_fresh: bool = False                              # package lists refreshed in this build, unchanged since
    tools: dict[str, list[str]] = field(default_factory=dict)  # build-tool venv (BuildKit) -> commands making it
    user: str = "root"                                     # who the next RUN runs as
    run_mounts: tuple[str, ...] = ()                       # BuildKit mounts of every RUN (build --bundle)

    def user_ref(self, name: str) -> str:
        """USER argument: uid:gid for the plan's user (Kubernetes runAsNonRoot needs numbers)."""
        t = self.plan.target
        if name == "root":
            return "0:0"
        if name == t.user and t.uid is not None and t.gid is not None:
            return f"{int(t.uid)}:{int(t.gid)}"
        return checked(patterns.UNIX_NAME, name, "user name")

    def switch_to(self, name: str) -> list[str]:
        if name == self.user:
            return []
        self.user = name
        return [f"USER {self.user_ref(name)}"]

    def run(self, commands: list[str], mounts: tuple[str, ...] = (), as_user: str = "root",
            ignore: tuple[tuple[str, str], ...] = ()) -> list[str]:
        """One RUN instruction (after a USER switch if needed), commands joined with &&; `ignore`: the
        hadolint rules (code, why) it is exempt from."""
        parts = list(mounts) + list(self.run_mounts) + [commands[0]] + [f"&& {c}" for c in commands[1:]]
        lines = self.switch_to(as_user)
        if ignore:
            lines += [comment(f"{code}: {why}") for code, why in ignore]
            lines.append(f"# hadolint ignore={','.join(code for code, _ in ignore)}")
        return lines + ["RUN " + CONT.join(parts)]

    def copy(self, path: str, content: str, mode: str, owner: str) -> list[str]:
        """COPY a context file to path; --chmod needs BuildKit, the legacy builder gets a RUN chmod."""
        name = context_name(self.files, "files/", path, content, "file")
        mode = checked(MODE, mode, "file mode")
        flags = ""
        if owner != "root":
            flags += f"--chown={checked(OWNER, owner, 'file owner')} "
        if self.buildkit:
            return [f"COPY --chmod={mode} {flags}{exec_form([name, path])}"]
        lines = [f"COPY {flags}{exec_form([name, path])}"]
        if mode != "0644":   # context files are written 0644; the legacy builder keeps that mode
            lines += self.run([f"chmod {words(mode, path)}"])
        return lines
