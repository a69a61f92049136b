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


def _unit_arg(arg: str) -> str:
    """One ExecStart word: double-quoted with C escapes; % and $ doubled so nothing expands."""
    special = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "%": "%%", "$": "$$"}
    body = "".join(special.get(c, c if c.isprintable() else f"\\x{ord(c):02x}") for c in arg)
    return f'"{body}"'


def unit_text(plan: Plan, step: Service) -> str:
    if not step.user or any(not c.isprintable() for c in step.user):
        raise ValueError(f"service {step.name!r}: user {step.user!r} cannot be written into a systemd unit")
    description = "".join(c if c.isprintable() else " " for c in f"toolkit {plan.name}: {step.title}")
    return (
        safe_header(plan)
        + "[Unit]\n"
        + f"Description={description.replace('%', '%%')}\n"
        + "After=network-online.target\nWants=network-online.target\n\n"
        + "[Service]\nType=simple\n"
        + f"User={step.user}\n"
        + "WorkingDirectory=~\n"
        + f"ExecStart={' '.join(_unit_arg(a) for a in step.host_command or step.command)}\n"
        + "Restart=on-failure\n\n"
        + "[Install]\nWantedBy=multi-user.target\n"
    )


def safe_header(plan: Plan, comment: str = "#") -> str:
    """header(), with control characters in the profile name shown as '?' so it stays one comment line."""
    clean = dataclasses.replace(plan, name=CONTROL_CHARS.sub("?", plan.name), digest=CONTROL_CHARS.sub("?", plan.digest))
    return header(clean, comment)
