"""What both host renderers (setup.sh in script.py, the playbook in ansible.py) derive from a plan:
the profile.d file, the venv guard, systemd units and the comment header that stays one line.
Text only; neither renderer's format lives here."""

from __future__ import annotations

import dataclasses
import re

from toolkit.model.plan import Plan
from toolkit.model.steps import Environment, PipInstall, Service, Venv
from toolkit.render.common import header, sh

PROFILE_D = "/etc/profile.d/toolkit.sh"
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
UNIT_DIR = "/etc/systemd/system"


def persistent_env(plan: Plan) -> tuple[tuple[str, str], ...]:
    """Variables of every Environment step that stays behind (build_only=False), in plan order."""
    return tuple(kv for s in plan.steps if isinstance(s, Environment) and not s.build_only
                 for kv in s.variables)


def profile_d_text(plan: Plan) -> str:
    """/etc/profile.d/toolkit.sh: one quoted `export` per persistent variable."""
    lines = [f"export {sh(f'{k}={v}')}\n" for k, v in persistent_env(plan)]
    return safe_header(plan) + "".join(lines)


def venv_owner(plan: Plan, venv: str) -> str:
    """Who owns the venv a PipInstall installs into (pip runs as root, then hands it back)."""
    for s in plan.steps:
        if isinstance(s, Venv) and s.path == venv:
            return s.owner
    return "root"


# A venv path that exists but is not a virtual environment (a file, a dangling link, a folder that
# is neither empty nor holds pyvenv.cfg) is refused before anything changes: `python -m venv` would
# mix its files into a venv and `chown -R` would hand them to the profile's user. Prints the first
# such path and exits 3. Shared by setup.sh and the playbook's pre_tasks.
VENV_GUARD = ('for p in "$@"; do if [ -e "$p" ] || [ -L "$p" ]; then if [ -d "$p" ]; then '
              '[ -f "$p/pyvenv.cfg" ] && continue; c="$(ls -A -- "$p" 2>/dev/null)" || c=unreadable; '
              '[ -z "$c" ] && continue; fi; printf "%s" "$p"; exit 3; fi; done')
VENV_GUARD_MESSAGE = ("exists and is not a Python virtual environment (no pyvenv.cfg): toolkit would make it one and "
                      "hand it to the profile's user with chown -R. Nothing was changed; choose another python.venv "
                      "in the profile, or move that folder away")


def venv_paths(plan: Plan) -> tuple[str, ...]:
    """Every venv the plan creates or installs into, the profile's own first."""
    paths = [plan.target.venv] + [s.path for s in plan.steps if isinstance(s, Venv)] + [
        s.venv for s in plan.steps if isinstance(s, PipInstall)]
    return tuple(dict.fromkeys(p for p in paths if p))


def _systemd_escape(name: str) -> str:
    """systemd-escape(1): any text -> a valid unit name part."""
    out = []
    for i, ch in enumerate(name):
        if ch == "/":
            out.append("-")
        elif (ch.isascii() and (ch.isalnum() or ch in ":_.")) and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.extend(f"\\x{b:02x}" for b in ch.encode())
    return "".join(out) or "\\x2d"


def unit_name(step: Service) -> str:
    return f"toolkit-{_systemd_escape(step.name)}.service"


def unit_path(step: Service) -> str:
    return f"{UNIT_DIR}/{unit_name(step)}"


def _unit_quote(text: str, dollar: str) -> str:
    """A double-quoted unit-file word: C escapes for \\, ", control and unprintable characters (as UTF-8
    bytes), % doubled (specifiers), $ written as `dollar`."""
    special = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "%": "%%", "$": dollar}

    def one(c: str) -> str:
        if c in special:
            return special[c]
        return c if c.isprintable() else "".join(f"\\x{b:02x}" for b in c.encode())
    return '"' + "".join(one(c) for c in text) + '"'


def _unit_arg(arg: str) -> str:
    """One ExecStart word: $ doubled too, so nothing expands."""
    return _unit_quote(arg, "$$")


def unit_env(name: str, value: str) -> str:
    """One Environment= assignment as one quoted word. systemd.exec(5): Environment= expands no
    variables (a $ stays as it is) but does expand specifiers (% doubled) and C escapes."""
    return _unit_quote(f"{name}={value}", "$")


# systemd.exec(5) settings that keep the service from changing the system and that a notebook server
# does not need. Not PrivateDevices (GPUs are devices) nor ProtectHome (notebooks live there).
# NoNewPrivileges: sudo does not work from the service's terminals (use SSH for that).
HARDENING = ("NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectSystem=full", "ProtectKernelTunables=yes",
             "ProtectKernelModules=yes", "ProtectControlGroups=yes", "RestrictSUIDSGID=yes", "LockPersonality=yes")
READ_ONLY_UNDER_PROTECT_SYSTEM = ("/usr/", "/boot/", "/efi/", "/etc/")   # ProtectSystem=full
UNIT_PATH = re.compile(r"^/[A-Za-z0-9._@+/-]+$")     # a path a unit line holds as it is
SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _unit_path_value(what: str, step: Service, path: str) -> str:
    if not UNIT_PATH.fullmatch(path) or ".." in path.split("/"):
        raise ValueError(f"service {step.name!r}: {what} {path!r} cannot be written into a systemd unit")
    return path.replace("%", "%%")


def unit_text(plan: Plan, step: Service) -> str:
    """The unit: the service's own variables, then the profile's persistent env, then the root-only
    secret file (which wins over both); ExecStart holds no secret."""
    if not step.user or any(not c.isprintable() for c in step.user):
        raise ValueError(f"service {step.name!r}: user {step.user!r} cannot be written into a systemd unit")
    if step.secret_variable and not SECRET_NAME.fullmatch(step.secret_variable):
        raise ValueError(f"service {step.name!r}: {step.secret_variable!r} is not a variable name")
    description = "".join(c if c.isprintable() else " " for c in f"toolkit {plan.name}: {step.title}")
    service = [f"User={step.user}", "WorkingDirectory=~"]
    service += [f"Environment={unit_env(k, v)}" for k, v in (*step.environment, *persistent_env(plan))]
    if step.secret_file:
        service.append(f"EnvironmentFile={_unit_path_value('secret file', step, step.secret_file)}")
    service += [f"ExecStart={' '.join(_unit_arg(a) for a in step.host_command or step.command)}",
                "Restart=on-failure", *HARDENING]
    venv = plan.target.venv
    if venv and venv.startswith(READ_ONLY_UNDER_PROTECT_SYSTEM):
        service.append(f"ReadWritePaths=-{_unit_path_value('venv', step, venv)}")
    return (
        safe_header(plan)
        + "[Unit]\n"
        + f"Description={description.replace('%', '%%')}\n"
        + "After=network-online.target\nWants=network-online.target\n\n"
        + "[Service]\nType=simple\n"
        + "".join(line + "\n" for line in service)
        + "\n[Install]\nWantedBy=multi-user.target\n"
    )


# The service's secret file (sh -c SCRIPT NAME FILE VARIABLE), shared by setup.sh and the playbook.
# Done: FILE is a regular root-owned 0600 file holding VARIABLE= with a value.
SECRET_PROBE = ('f="$1"; v="$2"; [ -f "$f" ] && [ ! -L "$f" ] && [ "$(stat -c %u:%g:%a -- "$f")" = 0:0:600 ] '
                '&& grep -q -- "^$v=." "$f"')
# Makes it so: an existing file is kept (made 0600 root if it was not) and VARIABLE is added only when
# missing, its value 24 random bytes as hex from the host's /dev/urandom through a pipe (never an
# argument, a variable or a log line). Prints what it changed, nothing when nothing changed.
SECRET_ENSURE = """\
f="$1"; v="$2"; d="$(dirname -- "$f")"
if [ -L "$f" ] || { [ -e "$f" ] && [ ! -f "$f" ]; }; then
  echo "$f is not a regular file; move it away, then apply again" >&2; exit 1
fi
mkdir -p -- "$d"
umask 077
if [ -f "$f" ] && [ "$(stat -c %u:%g:%a -- "$f")" != 0:0:600 ]; then
  chmod 0600 -- "$f" && chown 0:0 -- "$f"
  echo "made $f readable by root only (0600); if others could read it before, remove it and apply again"
fi
grep -q -- "^$v=." "$f" 2>/dev/null && exit 0
t="$(mktemp -- "$d/.toolkit.XXXXXX")"
{
  if [ -s "$f" ]; then cat -- "$f"; [ -z "$(tail -c 1 -- "$f")" ] || echo; fi
  printf '%s=' "$v"; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \\n'; echo
} >"$t"
chown 0:0 -- "$t"
mv -f -- "$t" "$f"
echo "generated $v in $f (readable by root only)"
"""


def safe_header(plan: Plan, comment: str = "#") -> str:
    """header(), with control characters in the profile name shown as '?' so it stays one comment line."""
    clean = dataclasses.replace(plan, name=CONTROL_CHARS.sub("?", plan.name), digest=CONTROL_CHARS.sub("?", plan.digest))
    return header(clean, comment)
