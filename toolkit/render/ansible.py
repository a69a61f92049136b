"""Plan -> Ansible playbook (ansible/playbook.yml) built from native ansible.builtin modules.

The playbook is Python data dumped through ansible_tasks.dump (every value quoted by the YAML
emitter, plan text that Ansible would template tagged `!unsafe`).
Where no builtin module exists (git config, the trust store update, RunCommand), the
step's own probe runs first as a read-only task and the command runs only when the probe
fails: a second run reports changed=0 and --check runs nothing that changes the host.
pre_tasks find out whether the host has what the OS family's package module and pip need to simulate
in --check; where it does not, --check skips those tasks rather than failing. Package-manager module
names and arguments come from the OS family (toolkit.model.osfamily).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from toolkit.model import host_probes, osfamily
from toolkit.model.plan import Plan
from toolkit.model.steps import (
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
)
from toolkit.render import ansible_accounts, ansible_gpu, ansible_repo
from toolkit.render.ansible_tasks import (
    PIP_PREREQUISITE,
    Template,
    copy_tasks,
    dump,
    family_of,
    guard,
    long_contents_to_files,
    package_task,
    prerequisites,
    step_name,
)
from toolkit.render.common import Rendered, carries_secret, dispatcher, pip_command, pip_options, pip_targets, sh
from toolkit.render.host_files import (
    PROFILE_D,
    SECRET_ENSURE,
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


def _probe(step: Step, n: int) -> dict:
    """The step's probe as a read-only task that also runs in --check (never fails, never changes)."""
    argv = step.probe()
    if argv is None:
        raise ValueError(f"{type(step).__name__} has no probe to run")     # a bug, not input
    return {"name": step_name(step, "check whether it is done"),
            "ansible.builtin.command": {"argv": list(argv)},
            "register": f"toolkit_probe_{n}", "changed_when": False, "failed_when": False, "check_mode": False}


def _unless_done(n: int, name: str, argv: list[str]) -> dict:
    return {"name": name, "ansible.builtin.command": {"argv": argv},
            "when": f"toolkit_probe_{n}.rc != 0", "changed_when": True}


def _chown(step: Step, owner: str, path: str, plan: Plan) -> list[dict]:
    """Hand the venv to its owner, once: after the last step that writes into it (pip runs as root)."""
    last = [s for s in plan.steps if (isinstance(s, Venv) and s.path == path)
            or (isinstance(s, PipInstall) and s.venv == path)][-1:]
    if owner == "root" or (last and last[0] is not step):
        return []
    return [{"name": step_name(step, f"{path} owned by {owner}"),
             "ansible.builtin.file": {"path": path, "state": "directory", "owner": owner, "recurse": True}}]


def prerequisite_probes(family: osfamily.OsFamily = osfamily.DEBIAN) -> list[dict]:
    return [{"name": f"Check whether Python module {module} is on the host (needed by --check)",
             "ansible.builtin.command": {"argv": [Template("{{ ansible_facts['python']['executable'] }}"), "-c",
                                                  f"import {module}"]},
             "register": var, "changed_when": False, "failed_when": False, "check_mode": False,
             "tags": ["always"]} for module, var in prerequisites(family).items()]


def venv_guard_tasks(plan: Plan) -> list[dict]:
    """Before any task: every venv path is missing, empty or already a virtual environment."""
    return [
        {"name": "Check that every venv path is missing, empty or already a virtual environment",
         "ansible.builtin.command": {"argv": ["sh", "-c", VENV_GUARD, "venv_guard", *venv_paths(plan)]},
         "register": "toolkit_venv_guard", "changed_when": False, "failed_when": False, "check_mode": False,
         "tags": ["always"]},
        {"name": "Refuse a venv path that is not a virtual environment",
         "ansible.builtin.fail": {"msg": Template("{{ toolkit_venv_guard.stdout }} " + VENV_GUARD_MESSAGE)},
         "when": "toolkit_venv_guard.rc != 0", "tags": ["always"]},
    ]


def _os_packages(step: OsPackages, n: int, plan: Plan) -> list[dict]:
    return [package_task(osfamily.get(step.family), step_name(step), step.packages)]


def _write_file(step: WriteFile, n: int, plan: Plan) -> list[dict]:
    tasks = copy_tasks(step_name(step), step.path, step.content, step.mode, step.owner)
    if step.secret:   # a private key: out of Ansible's output, its log and --diff
        tasks[-1].update({"no_log": True, "diff": False})
    return tasks


def _trust_ca(step: TrustCA, n: int, plan: Plan) -> list[dict]:
    tasks = [t for f in step.files for t in copy_tasks(step_name(step, f.path), f.path, f.content)]
    update = list(family_of(plan).ca_update)
    return [*tasks, _probe(step, n), _unless_done(n, step_name(step, " ".join(update)), update)]


def _environment(step: Environment, n: int, plan: Plan) -> list[dict]:
    # The variables themselves are in the play's `environment` (see play_environment).
    if step.build_only:
        return []
    return copy_tasks(step_name(step, PROFILE_D), PROFILE_D, profile_d_text(plan))


def _create_user(step: CreateUser, n: int, plan: Plan) -> list[dict]:
    free = ("ansible_facts.getent_passwd | dict2items | rejectattr('value', 'none') | map(attribute='key') "
            "| reject('equalto', toolkit_user) | list | length == 0")
    return [
        {"name": step_name(step, f"look up uid {step.uid}"),
         "ansible.builtin.getent": {"database": "passwd", "key": str(step.uid), "fail_key": False}},
        {"name": step_name(step, f"uid {step.uid} is free or already {step.name}'s"),
         "ansible.builtin.assert": {
             "that": [free], "quiet": True,
             "fail_msg": f"uid {step.uid} already belongs to another user; choose another user.uid in the "
                         "profile (nothing was changed)"},
         "vars": {"toolkit_user": step.name}},
        {"name": step_name(step, f"group {step.name}"),
         "ansible.builtin.group": {"name": step.name, "gid": step.gid, "state": "present"}},
        {"name": step_name(step), "ansible.builtin.user": {
            "name": step.name, "uid": step.uid, "group": step.name, "home": step.home, "shell": step.shell,
            "create_home": True, "state": "present"}},
    ]


def _venv(step: Venv, n: int, plan: Plan) -> list[dict]:
    return [{"name": step_name(step), "ansible.builtin.command": {
        "argv": [step.python, "-m", "venv", "--", step.path], "creates": f"{step.path}/bin/python"}},
        *_chown(step, step.owner, step.path, plan)]


def _uv_pip(step: PipInstall, n: int, plan: Plan) -> list[dict]:
    """python.installer: uv: the pip module cannot drive uv; the step's probe, then uv when it is not done."""
    targets = pip_targets(step) if step.requirement_file or step.requirement_files else ["--", *step.requirements]
    return [_probe(step, n), _unless_done(n, step_name(step), [*pip_command(step), *pip_options(step), *targets]),
            *_chown(step, venv_owner(plan, step.venv), step.venv, plan)]


def _pip(step: PipInstall, n: int, plan: Plan) -> list[dict]:
    if step.uv:
        return _uv_pip(step, n, plan)
    args: dict = {"name": list(step.requirements), "state": "present", "virtualenv": step.venv,
                  "virtualenv_command": f"{plan.target.python_bin} -m venv"}
    if step.requirement_files and not step.requirement_file:
        # The module takes a list of names or one requirements file (never both).
        del args["name"], args["state"]
        args = {"requirements": step.requirement_files[0], **args}
    opts = pip_options(step)
    if step.requirement_file:      # locked: the hashed file, nothing resolved
        del args["name"]
        args["requirements"] = step.requirement_file
        opts += ["--require-hashes", "--no-deps"]
    if opts:
        args["extra_args"] = sh(*opts)
    tasks = [{"name": step_name(step), "ansible.builtin.pip": args, "when": guard(PIP_PREREQUISITE[1])},
             *_chown(step, venv_owner(plan, step.venv), step.venv, plan)]
    if step is next(s for s in plan.steps if isinstance(s, PipInstall)):
        # ansible.builtin.pip imports `packaging` in the target's system Python.
        family = family_of(plan)
        tasks.insert(0, package_task(family, step_name(step, f"{' '.join(family.pip_module_packages)} for the pip module"),
                                     family.pip_module_packages))
    return tasks


def _git(step: GitConfig, n: int, plan: Plan) -> list[dict]:
    tasks = [_probe(step, n)]
    tasks += [_unless_done(n, step_name(step, k), ["git", "config", "--system", "--", k, v]) for k, v in step.settings]
    if step.lfs:
        tasks.append(_unless_done(n, step_name(step, "git lfs install --system"), ["git", "lfs", "install", "--system"]))
    return tasks


def _service(step: Service, n: int, plan: Plan) -> list[dict]:
    if not step.enable_on_host:
        return []
    unit = unit_name(step)
    tasks = []
    changed = f"toolkit_unit_{n} is changed"
    if step.secret_file:
        # Made on the host by the script (the secret is never in this playbook); skipped in --check.
        tasks.append({"name": step_name(step, f"root-only {step.secret_file} holding {step.secret_variable}"),
                      "ansible.builtin.command": {"argv": ["sh", "-c", SECRET_ENSURE, "toolkit-secret",
                                                           step.secret_file, step.secret_variable]},
                      "register": f"toolkit_secret_{n}", "changed_when": f"toolkit_secret_{n}.stdout | length > 0"})
        changed += f" or toolkit_secret_{n} is changed"
    copy = copy_tasks(step_name(step, unit), unit_path(step), unit_text(plan, step))
    copy[-1]["register"] = f"toolkit_unit_{n}"
    systemd = "ansible_facts['service_mgr'] == 'systemd'"
    if step.needs_gpu:
        return _gpu_only(step, n, [*tasks, *copy, *_systemd_tasks(step, n, unit, changed, systemd)])
    return [*tasks, *copy, *_systemd_tasks(step, n, unit, changed, systemd)]


def _gpu_only(step: Service, n: int, tasks: list[dict]) -> list[dict]:
    """A service only GPU hosts run: skipped, said so, where the PCI bus shows no NVIDIA GPU."""
    found, gpu = f"toolkit_gpu_{n}", f"toolkit_gpu_{n}.rc == 0"
    scan = {"name": step_name(step, "look for an NVIDIA GPU (PCI devices)"),
            "ansible.builtin.command": {"argv": ["sh", "-c", host_probes.HAS_GPU + "has_nvidia_gpu"]},
            "register": found, "changed_when": False, "failed_when": False, "check_mode": False}
    skipped = {"name": step_name(step, "no NVIDIA GPU"),
               "ansible.builtin.debug": {"msg": f"[skipped] no NVIDIA GPU ({unit_name(step)} not set up)"},
               "when": f"{found}.rc != 0"}
    guarded = []
    for task in tasks:
        before = task.get("when")
        guarded.append({**task, "when": [gpu, *([before] if isinstance(before, str) else before or [])]})
    return [scan, skipped, *guarded]


def _systemd_tasks(step: Service, n: int, unit: str, changed: str, systemd: str) -> list[dict]:
    return [{"name": step_name(step, f"enable and start {unit}"),
             # restarted when the unit or its secret changed, so the change takes effect now
             "ansible.builtin.systemd_service": {"name": unit, "enabled": True, "daemon_reload": True,
                                                 "state": Template(f"{{{{ 'restarted' if ({changed}) "
                                                                   "else 'started' }}")},
             # In --check the unit was not really written, so systemd could not find it.
             "when": f"{systemd} and not (ansible_check_mode and toolkit_unit_{n} is changed)"},
            {"name": step_name(step, f"{unit} not started"),
             "ansible.builtin.debug": {"msg": f"skipped enabling {unit}: PID 1 is not systemd; start it by hand"},
             "when": "ansible_facts['service_mgr'] != 'systemd'"}]


def _metadata(step: Metadata, n: int, plan: Plan) -> list[dict]:
    return copy_tasks(step_name(step), step.path, step.profile_json)


def _run(step: RunCommand, n: int, plan: Plan) -> list[dict]:
    if step.creates:
        return [{"name": step_name(step), "ansible.builtin.command": {"argv": list(step.argv), "creates": step.creates}}]
    if step.unless:
        return [_probe(step, n), _unless_done(n, step_name(step), list(step.argv))]
    return [{"name": step_name(step), "ansible.builtin.command": {"argv": list(step.argv)}, "changed_when": True}]


def _run_step(step: RunStep, n: int, plan: Plan) -> list[dict]:
    run: dict[str, Any] = {"name": step_name(step), "ansible.builtin.command": {"argv": list(step.launch())}}
    if step.creates:
        run["ansible.builtin.command"]["creates"] = step.creates
        return [run]
    tasks = [_probe(step, n), {**run, "when": f"toolkit_probe_{n}.rc != 0", "changed_when": True}]
    if not step.unless:         # done once: recorded, so the next run skips it
        tasks += copy_tasks(step_name(step, "record that it ran"), step.state_path, step.digest + "\n")
        tasks[-1]["when"] = f"toolkit_probe_{n}.rc != 0"
    return tasks


def tree_dir(step: CopyTree) -> str:
    """The folder beside the playbook (under files/) that holds a CopyTree's source."""
    return "files/" + (re.sub(r"[^A-Za-z0-9._-]", "_", PurePosixPath(step.dest).name).lstrip(".") or "tree")


def _copy_tree(step: CopyTree, n: int, plan: Plan) -> list[dict]:
    return [{"name": step_name(step), "ansible.builtin.copy": {"src": tree_dir(step) + "/", "dest": step.dest + "/",
                                                           "mode": "preserve"}}]


tasks_for: Callable[[Step, int, Plan], list[dict]] = dispatcher({
    OsPackages: _os_packages, WriteFile: _write_file, TrustCA: _trust_ca, Environment: _environment,
    CreateUser: _create_user, Venv: _venv, PipInstall: _pip, GitConfig: _git, Service: _service,
    Metadata: _metadata, RunCommand: _run, CopyTree: _copy_tree, RunStep: _run_step,
    PackageRepository: lambda s, n, p: ansible_repo.repository_tasks(s, s, f"toolkit_repo_{n}"),
    NvidiaDriver: lambda s, n, p: ansible_gpu.driver_tasks(s, n, p),
    ContainerToolkit: lambda s, n, p: ansible_gpu.container_toolkit_tasks(s, n, p),
    **ansible_accounts.TASKS,
}, "ansible")


def play_environment(plan: Plan) -> dict[str, str]:
    """Every Environment step's variables (proxies, CA paths, the profile's own) for all tasks."""
    env: dict[str, str] = {}
    for s in plan.steps:
        if isinstance(s, Environment):
            env.update(s.variables)
    return env


OS_CHECK_TASK = "OS check"              # the task that refuses a host of another distribution
OS_MISMATCH_VAR = "toolkit_allow_os_mismatch"
_SAME_DISTRO = "(ansible_facts['distribution'] | lower) == toolkit_expect_distro"
_SAME_RELEASE = "(ansible_facts['distribution_version'] ~ '.').startswith(toolkit_expect_version ~ '.')"
_FOUND = ("the host runs {{ ansible_facts['distribution'] }} {{ ansible_facts['distribution_version'] }}, "
          "the profile is for {{ toolkit_expect_distro }} {{ toolkit_expect_version }}")


def os_check_tasks() -> list[dict]:
    """The host's OS against the profile's before anything changes (as apply's native engine does):
    another distribution fails the host unless toolkit_allow_os_mismatch=true (apply
    --allow-os-mismatch); another release of it is a warning. Reads the play's toolkit_expect_* vars."""
    return [
        {"name": OS_CHECK_TASK,
         "ansible.builtin.fail": {"msg": Template(
             _FOUND + ": its packages and repositories would not fit; nothing was changed there "
             f"(apply --allow-os-mismatch, or -e {OS_MISMATCH_VAR}=true, applies anyway)")},
         "when": [f"not ({_SAME_DISTRO})", f"not ({OS_MISMATCH_VAR} | default(false) | bool)"], "tags": ["always"]},
        {"name": "OS check: warn when the release or distribution differs from the profile's",
         "ansible.builtin.debug": {"msg": Template("warning: " + _FOUND + "; applying anyway")},
         "when": f"not (({_SAME_DISTRO}) and ({_SAME_RELEASE}))", "tags": ["always"]},
    ]


def render_tasks(step: Step, n: int, plan: Plan) -> list[dict]:
    """One step's tasks, tagged with its component (the unit of the golden tests)."""
    return [{**t, "tags": [step.component]} for t in tasks_for(step, n, plan)]


@dataclass(frozen=True)
class Wrap:
    """Tasks around the plan's (a bundle's playbook: toolkit.bundle.playbook): `checks` run right after the OS
    check, before anything changes; `setup` first in the tasks' block and `cleanup` in its `always`, so it runs
    however the tasks end. `package_args` are set on every task of the OS family's package module."""

    checks: tuple[dict, ...] = ()
    setup: tuple[dict, ...] = ()
    cleanup: tuple[dict, ...] = ()
    package_args: tuple[tuple[str, object], ...] = ()


def render(plan: Plan, wrap: Wrap | None = None) -> Rendered:
    play: dict = {"name": f"Set up toolkit profile {plan.name}", "hosts": "all", "become": True,
                  "gather_facts": True}
    env = play_environment(plan)
    if env:
        play["environment"] = env
    play["vars"] = {"toolkit_expect_distro": plan.target.distro, "toolkit_expect_version": plan.target.os_version}
    checks = list(wrap.checks) if wrap else []
    play["pre_tasks"] = os_check_tasks() + checks + prerequisite_probes(family_of(plan)) + venv_guard_tasks(plan)
    play["tasks"] = [t for n, s in enumerate(plan.steps, 1) for t in render_tasks(s, n, plan)]
    files = long_contents_to_files(play["tasks"])
    module = family_of(plan).ansible_package_module
    for task in play["tasks"]:
        if wrap and module in task:
            task[module] = {**task[module], **dict(wrap.package_args)}
    if wrap and (wrap.setup or wrap.cleanup):
        play["tasks"] = [{"name": "The plan's steps", "block": [*wrap.setup, *play["tasks"]],
                          "always": list(wrap.cleanup)}]
    files["ansible/playbook.yml"] = safe_header(plan) + dump([play])
    trees = {f"ansible/{tree_dir(s)}": s.source for s in plan.steps if isinstance(s, CopyTree)}
    return Rendered(files=files, trees=trees, private=frozenset(files if carries_secret(plan) else ()))
