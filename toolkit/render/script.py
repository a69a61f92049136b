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
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from toolkit.model import osfamily
from toolkit.model.plan import Plan
from toolkit.model.steps import (
    PROXY_VARIABLES,
    ContainerToolkit,
    CopyTree,
    CreateUser,
    Environment,
    GitConfig,
    Metadata,
    NvidiaDriver,
    OsPackages,
    PackageRepository,
    PipInstall,
    RunCommand,
    RunStep,
    Service,
    Step,
    TrustCA,
    Venv,
    WriteFile,
    repositories,
)
from toolkit.render import script_accounts, script_gpu, script_repo
from toolkit.render.common import (
    Rendered,
    carries_secret,
    dispatcher,
    json_str,
    pip_command,
    pip_options,
    pip_targets,
    sh,
    template,
)
from toolkit.render.host_files import (  # noqa: F401 - PROFILE_D, unit_text... are used through script too
    CONTROL_CHARS,
    PROFILE_D,
    SECRET_ENSURE,
    SECRET_PROBE,
    VENV_GUARD,
    VENV_GUARD_MESSAGE,
    profile_d_text,
    safe_header,
    unit_name,
    unit_path,
    unit_text,
    venv_owner,
    venv_paths,
)


def _venv_preflight(plan: Plan) -> str:
    guard = sh("sh", "-c", VENV_GUARD, "venv_guard", *venv_paths(plan))
    return ("# Before any step: every venv path is missing, empty or already a virtual environment.\n"
            f'if ! TOOLKIT_BAD_VENV="$({guard})"; then\n'
            f'  echo "setup.sh: $TOOLKIT_BAD_VENV "{sh(VENV_GUARD_MESSAGE)} >&2\n'
            "  exit 1\nfi\n")


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
    cmd = sh(*pip_command(step), *([] if step.uv else ["--no-input"]), *pip_options(step),
             *(pip_targets(step) if step.requirement_file or step.requirement_files else ["--", *step.requirements]))
    return Block(apply="\n".join([cmd, *_chown_venv(venv_owner(plan, step.venv), step.venv)]))


def _git(step: GitConfig, plan: Plan) -> Block:
    lines = [sh("git", "config", "--system", "--", k, v) for k, v in step.settings]
    if step.lfs:
        lines.append("git lfs install --system")
    return Block(apply="\n".join(lines))


def _secret(step: Service, script: str) -> str:
    return sh("sh", "-c", script, "toolkit-secret", step.secret_file, step.secret_variable)


def _service(step: Service, plan: Plan) -> Block:
    if not step.enable_on_host:
        return Block(note="runs in images only; the profile does not ask for a service on hosts")
    unit, path, text = sh(unit_name(step)), unit_path(step), unit_text(plan, step)
    secret = bool(step.secret_file)
    running = f"systemctl is-enabled --quiet -- {unit} && systemctl is-active --quiet -- {unit}"
    probe = (f"{_sha_probe(path, text)}{f' && {_secret(step, SECRET_PROBE)}' if secret else ''} && "
             f"{{ ! systemd_running || {{ {running}; }}; }}")
    apply = "\n".join([
        *([_secret(step, SECRET_ENSURE)] if secret else []),
        _write(path, text),
        "if systemd_running; then",
        "  systemctl daemon-reload",
        f"  systemctl enable -- {unit}",
        # restart, not start: what made the probe fail (the unit, its secret) takes effect now
        f"  systemctl restart -- {unit}",
        "else",
        f"  echo {sh(f'  skipped enabling {unit_name(step)}: PID 1 is not systemd (a container?); start it by hand')}",
        "fi",
    ])
    skip = f"gpu_service_skip {sh(unit_name(step))}" if step.needs_gpu else None
    return Block(probe=probe, apply=apply, skip=skip)


def _metadata(step: Metadata, plan: Plan) -> Block:
    return Block(probe=_sha_probe(step.path, step.profile_json), apply=_write(step.path, step.profile_json))


def _run(step: RunCommand, plan: Plan) -> Block:
    return Block(apply=sh(*step.argv))


def _run_step(step: RunStep, plan: Plan) -> Block:
    lines = [sh(*step.launch())]
    if not (step.creates or step.unless):     # done once: recorded, so the next run skips it
        folder = step.state_path.rsplit("/", 1)[0]
        lines += [f"mkdir -p -- {sh(folder)}", f"printf '%s\\n' {sh(step.digest)} >{sh(step.state_path)}"]
    return Block(apply="\n".join(lines))


def _copy_tree(step: CopyTree, plan: Plan) -> Block:
    return Block(apply=f"need_folder {sh(step.dest, step.source)}")


block: Callable[[Step, Plan], Block] = dispatcher({
    OsPackages: _os_packages, WriteFile: _write_file, TrustCA: _trust_ca, Environment: _environment,
    CreateUser: _create_user, Venv: _venv, PipInstall: _pip, GitConfig: _git, Service: _service,
    Metadata: _metadata, RunCommand: _run, CopyTree: _copy_tree, PackageRepository: _package_repository,
    RunStep: _run_step,
    NvidiaDriver: lambda s, p: Block(**script_gpu.driver(s, p)),
    ContainerToolkit: lambda s, p: Block(**script_gpu.container_toolkit(s, p)),
    **{t: lambda s, p: Block(apply=script_accounts.apply(s)) for t in script_accounts.STEP_TYPES},
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
    if any(script_gpu.guarded(s) for s in plan.steps):
        steps = script_gpu.library(len(plan.steps), family) + "\n" + steps
    if repositories(plan.steps):
        steps = script_repo.library(family) + "\n" + steps
    steps = _venv_preflight(plan) + "\n" + steps
    state_head = (f'"profile": {json_str(plan.name)},\n  "digest": {json_str(plan.digest)},\n'
                  f'  "renderer": "setup.sh"')
    text = template("setup.sh.j2").render(
        header=safe_header(plan), name=plan.name, name_comment=CONTROL_CHARS.sub("?", plan.name),
        count=len(plan.steps), state_head=state_head, steps=steps,
        os_library=template(family.script_library).render(family=family),
        os_lists_stale=family.script_lists_stale, os_config_dir=family.config_dir,
        os_environment=family.environment,
    )
    return Rendered(files={"setup.sh": text}, private=frozenset({"setup.sh"} if carries_secret(plan) else ()))
