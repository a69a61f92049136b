"""Plan -> setup.sh: a bash script that applies the plan to the host it runs on.

Every step becomes two shell functions, `sN_probe` (the step's own probe argv) and
`sN_apply`, and one `run_step` call that prints `[ok] unchanged`, `[changed]` or
`[failed]`. The library those calls use (atomic file writes, the ERR trap, the state file,
--dry-run) lives in templates/setup.sh.j2; the OS family's package installer (lock waits, list
refreshes) in templates/<family.script_library>. Every value from the plan
reaches the script through `sh()` quoting, a quoted base64 heredoc, or a comment made
inert by JSON escaping.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from toolkit.model import osfamily
from toolkit.model.plan import Plan
from toolkit.model.steps import (
    PROXY_VARIABLES, ContainerToolkit, CopyTree, CreateUser, Environment, GitConfig, Metadata, NvidiaDriver,
    OsPackages, PackageRepository, PipInstall, RunCommand, Service, Step, TrustCA, Venv, WriteFile, repositories,
)
from toolkit.render import script_gpu, script_repo
from toolkit.render.common import Rendered, dispatcher, header, json_str, pip_options, sh, template

PROFILE_D = "/etc/profile.d/toolkit.sh"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
UNIT_DIR = "/etc/systemd/system"


# --------------------------------------------------------------------------- #
# facts both host renderers (this one and ansible.py) derive from a plan
# --------------------------------------------------------------------------- #
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


def _venv_preflight(plan: Plan) -> str:
    guard = sh("sh", "-c", VENV_GUARD, "venv_guard", *venv_paths(plan))
    return ("# Before any step: every venv path is missing, empty or already a virtual environment.\n"
            f'if ! TOOLKIT_BAD_VENV="$({guard})"; then\n'
            f'  echo "setup.sh: $TOOLKIT_BAD_VENV "{sh(VENV_GUARD_MESSAGE)} >&2\n'
            "  exit 1\nfi\n")


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
    clean = dataclasses.replace(plan, name=_CONTROL.sub("?", plan.name), digest=_CONTROL.sub("?", plan.digest))
    return header(clean, comment)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- #
# one function per step type: each returns the step's Block
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Block:
    apply: str = ""                 # body of sN_apply (lines, no indentation)
    probe: str | None = None        # body of sN_probe; None: the step's own probe() argv
    note: str | None = None         # set: nothing to do on a host, say why instead of probing
    prelude: str = ""               # runs before the step, in --dry-run too (exports)
    skip: str | None = None         # body of sN_skip: prints why and succeeds when the host needs nothing


def _probe(step: Step) -> str:
    argv = step.probe()
    return sh(*argv) if argv else "return 1"


def _write(path: str, content: str, mode: str = "0644", owner: str = "root") -> str:
    encoded = base64.encodebytes(content.encode()).decode()
    return f"write_file {sh(path, mode, owner)} <<'TOOLKIT_BASE64'\n{encoded}TOOLKIT_BASE64"


def _sha_probe(path: str, content: str) -> str:
    return sh("sh", "-c", 'echo "$1  $2" | sha256sum -c --status', "probe", sha256(content), path)


def _exports(variables) -> str:
    # A proxy URL gets the proxy's login from `--credentials` (a root-only file) at run time.
    return "".join(f"{k}=\"$(proxy_url {sh(v)})\"; export {k}\n" if _is_proxy_url(k) else f"export {sh(f'{k}={v}')}\n"
                   for k, v in variables)


def _is_proxy_url(name: str) -> bool:
    return name in PROXY_VARIABLES and name.lower() != "no_proxy"


def family_of(plan: Plan) -> osfamily.OsFamily:
    return osfamily.for_distro(plan.target.distro)


def _os_packages(step: OsPackages, plan: Plan) -> Block:
    return Block(apply=f"{osfamily.get(step.family).script_install} {sh(*step.packages)}")


def _package_repository(step: PackageRepository, plan: Plan) -> Block:
    return Block(apply=script_repo.call(step))


def _write_file(step: WriteFile, plan: Plan) -> Block:
    return Block(apply=_write(step.path, step.content, step.mode, step.owner))


def _trust_ca(step: TrustCA, plan: Plan) -> Block:
    writes = [_write(f.path, f.content, "0644", "root") for f in step.files]
    return Block(apply="\n".join([*writes, sh(*family_of(plan).ca_update)]))


def _environment(step: Environment, plan: Plan) -> Block:
    exports = _exports(step.variables)
    if step.build_only:
        return Block(prelude=exports, note="exported for this run only, nothing left on the host")
    text = profile_d_text(plan)
    return Block(prelude=exports, probe=_sha_probe(PROFILE_D, text), apply=_write(PROFILE_D, text))


def _create_user(step: CreateUser, plan: Plan) -> Block:
    return Block(apply=f"create_user {sh(step.name, step.uid, step.gid, step.home, step.shell)}")


def _chown_venv(owner: str, path: str) -> list[str]:
    return [] if owner == "root" else [f"chown -R -- {sh(owner, path)}"]


def _venv(step: Venv, plan: Plan) -> Block:
    lines = [f"{sh(step.python, '-m', 'venv', '--', step.path)}", *_chown_venv(step.owner, step.path)]
    return Block(apply="\n".join(lines))


def _pip(step: PipInstall, plan: Plan) -> Block:
    cmd = sh(f"{step.venv}/bin/python", "-m", "pip", "install", "--no-input", *pip_options(step),
             "--", *step.requirements)
    return Block(apply="\n".join([cmd, *_chown_venv(venv_owner(plan, step.venv), step.venv)]))


def _git(step: GitConfig, plan: Plan) -> Block:
    lines = [sh("git", "config", "--system", "--", k, v) for k, v in step.settings]
    if step.lfs:
        lines.append("git lfs install --system")
    return Block(apply="\n".join(lines))


def _service(step: Service, plan: Plan) -> Block:
    if not step.enable_on_host:
        return Block(note="runs in images only; the profile does not ask for a service on hosts")
    unit, path, text = sh(unit_name(step)), unit_path(step), unit_text(plan, step)
    probe = (f"{_sha_probe(path, text)} && {{ ! systemd_running || "
             f"{{ systemctl is-enabled --quiet -- {unit} && systemctl is-active --quiet -- {unit}; }}; }}")
    apply = "\n".join([
        _write(path, text),
        "if systemd_running; then",
        "  systemctl daemon-reload",
        f"  systemctl enable --now -- {unit}",
        "else",
        f"  echo {sh(f'  skipped enabling {unit_name(step)}: PID 1 is not systemd (a container?); start it by hand')}",
        "fi",
    ])
    return Block(probe=probe, apply=apply)


def _metadata(step: Metadata, plan: Plan) -> Block:
    return Block(probe=_sha_probe(step.path, step.profile_json), apply=_write(step.path, step.profile_json))


def _run(step: RunCommand, plan: Plan) -> Block:
    return Block(apply=sh(*step.argv))


def _copy_tree(step: CopyTree, plan: Plan) -> Block:
    return Block(apply=f"need_folder {sh(step.dest, step.source)}")


block: Callable[[Step, Plan], Block] = dispatcher({
    OsPackages: _os_packages, WriteFile: _write_file, TrustCA: _trust_ca, Environment: _environment,
    CreateUser: _create_user, Venv: _venv, PipInstall: _pip, GitConfig: _git, Service: _service,
    Metadata: _metadata, RunCommand: _run, CopyTree: _copy_tree, PackageRepository: _package_repository,
    NvidiaDriver: lambda s, p: Block(**script_gpu.driver(s, p)),
    ContainerToolkit: lambda s, p: Block(**script_gpu.container_toolkit(s, p)),
}, "setup script")


# --------------------------------------------------------------------------- #
# assembly
# --------------------------------------------------------------------------- #
def render_step(step: Step, n: int, plan: Plan) -> str:
    """One step's shell text (the unit of the golden tests).

    Function bodies are not indented: that would change multi-line quoted words (probe code).
    """
    b = block(step, plan)
    label = f"{step.component}: {step.title}"
    info = json.dumps({"step": n, "kind": step.kind, "component": step.component, "title": step.title},
                      ensure_ascii=True)
    out = [f"# step {n}: {json_str(label)} ({step.kind})\n", b.prelude]
    if b.note is not None:
        out.append(f"note_step {sh(n, info, label, b.note)}\n")
        return "".join(out)
    probe = b.probe if b.probe is not None else _probe(step)
    out.append(f"s{n}_probe() {{\n{probe}\n}}\n")
    out.append(f"s{n}_apply() {{\n{b.apply}\n}}\n")
    if b.skip is not None:
        out.append(f"s{n}_skip() {{\n{b.skip}\n}}\n")
        out.append(f"guarded_step {sh(n, info, label)}\n")
    else:
        out.append(f"run_step {sh(n, info, label)}\n")
    return "".join(out)


def render(plan: Plan) -> Rendered:
    steps = "\n".join(render_step(s, i, plan) for i, s in enumerate(plan.steps, 1))
    family = family_of(plan)
    if any(isinstance(s, script_gpu.STEP_TYPES) for s in plan.steps):
        steps = script_gpu.library(len(plan.steps), family) + "\n" + steps
    if repositories(plan.steps):
        steps = script_repo.library(family) + "\n" + steps
    steps = _venv_preflight(plan) + "\n" + steps
    state_head = (f'"profile": {json_str(plan.name)},\n  "digest": {json_str(plan.digest)},\n'
                  f'  "renderer": "setup.sh"')
    text = template("setup.sh.j2").render(
        header=safe_header(plan), name=plan.name, name_comment=_CONTROL.sub("?", plan.name),
        count=len(plan.steps), state_head=state_head, steps=steps,
        os_library=template(family.script_library).render(family=family),
        os_lists_stale=family.script_lists_stale, os_config_dir=family.config_dir,
        os_environment=family.environment,
    )
    return Rendered(files={"setup.sh": text})
