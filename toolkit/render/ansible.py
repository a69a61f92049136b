"""Plan -> Ansible playbook (ansible/playbook.yml) built from native ansible.builtin modules.

The playbook is Python data dumped by a SafeDumper subclass, never text glued together, so
every value is quoted by the YAML emitter. Strings that Ansible would template (they hold
`{{`, `{%` or `{#`) are tagged `!unsafe`, so profile text is never evaluated as Jinja.
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
from pathlib import PurePosixPath

import yaml

from toolkit.model import osfamily
from toolkit.model.plan import Plan
from toolkit.model.steps import (
    ContainerToolkit, CopyTree, CreateUser, Environment, GitConfig, Metadata, NvidiaDriver, OsPackages,
    PackageRepository, PipInstall, RunCommand, Service, Step, TrustCA, Venv, WriteFile,
)
from toolkit.render import ansible_gpu, ansible_repo
from toolkit.render.common import Rendered, dispatcher, pip_options, sh
from toolkit.render.script import (
    PROFILE_D, VENV_GUARD, VENV_GUARD_MESSAGE, profile_d_text, safe_header, unit_name, unit_path, unit_text,
    venv_owner, venv_paths,
)

# Folders every host has: a copy into them needs no directory task (which would have to force a mode
# on, e.g., /etc/sudoers.d). The OS families add their own (package configuration, trust store).
EXISTING_DIRS = {"/etc", "/etc/profile.d", "/etc/sudoers.d", "/etc/systemd/system"} | {
    d for f in osfamily.FAMILIES for d in (f.config_dir, f.sources_dir, f.ca_dir)}
_JINJA = re.compile(r"\{\{|\{%|\{#")


class Unsafe(str):
    """A string Ansible must not template (YAML tag !unsafe)."""


class Template(str):
    """Jinja written by this renderer itself (never plan text): left for Ansible to evaluate."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        # Indent block sequences under their key, as yamllint (ansible-lint) expects.
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str, tag: str = "tag:yaml.org,2002:str"):
    style = "|" if "\n" in value else None   # block scalar where the emitter allows it
    return dumper.represent_scalar(tag, str(value), style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Unsafe, lambda d, v: _represent_str(d, v, "!unsafe"))
_Dumper.add_representer(Template, _represent_str)


def _inert(data):
    """Tag every string (keys too) that Ansible would template."""
    if isinstance(data, dict):
        return {_inert(k): _inert(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_inert(v) for v in data]
    if isinstance(data, str) and not isinstance(data, Template) and _JINJA.search(data):
        return Unsafe(data)
    return data


def _name(step: Step, what: str = "") -> str:
    title = step.title[:1].upper() + step.title[1:]
    return f"{title}: {what}" if what else title


def _copy(name: str, path: str, content: str, mode: str = "0644", owner: str = "root") -> list[dict]:
    tasks = []
    parent = str(PurePosixPath(path).parent)
    if parent not in EXISTING_DIRS:
        tasks.append({"name": f"{name}: folder {parent}",
                      "ansible.builtin.file": {"path": parent, "state": "directory", "mode": "0755"}})
    tasks.append({"name": name, "ansible.builtin.copy": {"dest": path, "content": content, "mode": mode,
                                                         "owner": owner}})
    return tasks


def _probe(step: Step, n: int) -> dict:
    """The step's probe as a read-only task that also runs in --check (never fails, never changes)."""
    return {"name": _name(step, "check whether it is done"),
            "ansible.builtin.command": {"argv": list(step.probe())},
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
    return [{"name": _name(step, f"{path} owned by {owner}"),
             "ansible.builtin.file": {"path": path, "state": "directory", "owner": owner, "recurse": True}}]


# In --check, the OS family's package module needs its Python binding (ansible_check_module) and
# ansible.builtin.pip needs packaging on the host (outside --check they install what they need, in the
# tasks before them). Where they are missing, --check skips those tasks instead of failing; pre_tasks
# find out.
PIP_PREREQUISITE = ("packaging", "toolkit_has_packaging")


def _prerequisites(family: osfamily.OsFamily) -> dict[str, str]:
    return {family.ansible_check_module: family.ansible_check_fact, PIP_PREREQUISITE[0]: PIP_PREREQUISITE[1]}


def _guard(fact: str) -> str:
    return f"not ansible_check_mode or {fact}.rc == 0"


def package_guard(family: osfamily.OsFamily) -> str:
    """`when` of a package-module task: skipped in --check where the module could not simulate."""
    return _guard(family.ansible_check_fact)


def prerequisite_probes(family: osfamily.OsFamily = osfamily.DEBIAN) -> list[dict]:
    return [{"name": f"Check whether Python module {module} is on the host (needed by --check)",
             "ansible.builtin.command": {"argv": [Template("{{ ansible_facts['python']['executable'] }}"), "-c",
                                                  f"import {module}"]},
             "register": var, "changed_when": False, "failed_when": False, "check_mode": False,
             "tags": ["always"]} for module, var in _prerequisites(family).items()]


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


def package_task(family: osfamily.OsFamily, name: str, packages, update_cache: bool = True) -> dict:
    """The family's package module installing `packages` (refreshing stale lists first unless told not to)."""
    args = {"name": list(packages), "state": "present", **dict(family.ansible_install_args)}
    if update_cache:
        args |= dict(family.ansible_refresh_args)
    return {"name": name, family.ansible_package_module: {**args, **dict(family.ansible_lock_args)},
            "when": package_guard(family)}


def family_of(plan: Plan) -> osfamily.OsFamily:
    return osfamily.for_distro(plan.target.distro)


def _os_packages(step: OsPackages, n: int, plan: Plan) -> list[dict]:
    return [package_task(osfamily.get(step.family), _name(step), step.packages)]


def _write_file(step: WriteFile, n: int, plan: Plan) -> list[dict]:
    return _copy(_name(step), step.path, step.content, step.mode, step.owner)


def _trust_ca(step: TrustCA, n: int, plan: Plan) -> list[dict]:
    tasks = [t for f in step.files for t in _copy(_name(step, f.path), f.path, f.content)]
    update = list(family_of(plan).ca_update)
    return [*tasks, _probe(step, n), _unless_done(n, _name(step, " ".join(update)), update)]


def _environment(step: Environment, n: int, plan: Plan) -> list[dict]:
    # The variables themselves are in the play's `environment` (see play_environment).
    if step.build_only:
        return []
    return _copy(_name(step, PROFILE_D), PROFILE_D, profile_d_text(plan))


def _create_user(step: CreateUser, n: int, plan: Plan) -> list[dict]:
    free = ("ansible_facts.getent_passwd | dict2items | rejectattr('value', 'none') | map(attribute='key') "
            "| reject('equalto', toolkit_user) | list | length == 0")
    return [
        {"name": _name(step, f"look up uid {step.uid}"),
         "ansible.builtin.getent": {"database": "passwd", "key": str(step.uid), "fail_key": False}},
        {"name": _name(step, f"uid {step.uid} is free or already {step.name}'s"),
         "ansible.builtin.assert": {
             "that": [free], "quiet": True,
             "fail_msg": f"uid {step.uid} already belongs to another user; choose another user.uid in the "
                         "profile (nothing was changed)"},
         "vars": {"toolkit_user": step.name}},
        {"name": _name(step, f"group {step.name}"),
         "ansible.builtin.group": {"name": step.name, "gid": step.gid, "state": "present"}},
        {"name": _name(step), "ansible.builtin.user": {
            "name": step.name, "uid": step.uid, "group": step.name, "home": step.home, "shell": step.shell,
            "create_home": True, "state": "present"}},
    ]


def _venv(step: Venv, n: int, plan: Plan) -> list[dict]:
    return [{"name": _name(step), "ansible.builtin.command": {
        "argv": [step.python, "-m", "venv", "--", step.path], "creates": f"{step.path}/bin/python"}},
        *_chown(step, step.owner, step.path, plan)]


def _pip(step: PipInstall, n: int, plan: Plan) -> list[dict]:
    args = {"name": list(step.requirements), "state": "present", "virtualenv": step.venv,
            "virtualenv_command": f"{plan.target.python_bin} -m venv"}
    opts = pip_options(step)
    if opts:
        args["extra_args"] = sh(*opts)
    tasks = [{"name": _name(step), "ansible.builtin.pip": args, "when": _guard(PIP_PREREQUISITE[1])},
             *_chown(step, venv_owner(plan, step.venv), step.venv, plan)]
    if step is next(s for s in plan.steps if isinstance(s, PipInstall)):
        # ansible.builtin.pip imports `packaging` in the target's system Python.
        family = family_of(plan)
        tasks.insert(0, package_task(family, _name(step, f"{' '.join(family.pip_module_packages)} for the pip module"),
                                     family.pip_module_packages))
    return tasks


def _git(step: GitConfig, n: int, plan: Plan) -> list[dict]:
    tasks = [_probe(step, n)]
    tasks += [_unless_done(n, _name(step, k), ["git", "config", "--system", "--", k, v]) for k, v in step.settings]
    if step.lfs:
        tasks.append(_unless_done(n, _name(step, "git lfs install --system"), ["git", "lfs", "install", "--system"]))
    return tasks


def _service(step: Service, n: int, plan: Plan) -> list[dict]:
    if not step.enable_on_host:
        return []
    unit = unit_name(step)
    copy = _copy(_name(step, unit), unit_path(step), unit_text(plan, step))
    copy[-1]["register"] = f"toolkit_unit_{n}"
    systemd = "ansible_facts['service_mgr'] == 'systemd'"
    return [*copy,
            {"name": _name(step, f"enable and start {unit}"),
             "ansible.builtin.systemd_service": {"name": unit, "enabled": True, "state": "started",
                                                 "daemon_reload": True},
             # In --check the unit was not really written, so systemd could not find it.
             "when": f"{systemd} and not (ansible_check_mode and toolkit_unit_{n} is changed)"},
            {"name": _name(step, f"{unit} not started"),
             "ansible.builtin.debug": {"msg": f"skipped enabling {unit}: PID 1 is not systemd; start it by hand"},
             "when": "ansible_facts['service_mgr'] != 'systemd'"}]


def _metadata(step: Metadata, n: int, plan: Plan) -> list[dict]:
    return _copy(_name(step), step.path, step.profile_json)


def _run(step: RunCommand, n: int, plan: Plan) -> list[dict]:
    if step.creates:
        return [{"name": _name(step), "ansible.builtin.command": {"argv": list(step.argv), "creates": step.creates}}]
    if step.unless:
        return [_probe(step, n), _unless_done(n, _name(step), list(step.argv))]
    return [{"name": _name(step), "ansible.builtin.command": {"argv": list(step.argv)}, "changed_when": True}]


def tree_dir(step: CopyTree) -> str:
    """The folder beside the playbook (under files/) that holds a CopyTree's source."""
    return "files/" + (re.sub(r"[^A-Za-z0-9._-]", "_", PurePosixPath(step.dest).name).lstrip(".") or "tree")


def _copy_tree(step: CopyTree, n: int, plan: Plan) -> list[dict]:
    return [{"name": _name(step), "ansible.builtin.copy": {"src": tree_dir(step) + "/", "dest": step.dest + "/",
                                                           "mode": "preserve"}}]


# What the GPU host tasks (ansible_gpu.py) build on.
step_name, copy_tasks = _name, _copy

tasks_for: Callable[[Step, int, Plan], list[dict]] = dispatcher({
    OsPackages: _os_packages, WriteFile: _write_file, TrustCA: _trust_ca, Environment: _environment,
    CreateUser: _create_user, Venv: _venv, PipInstall: _pip, GitConfig: _git, Service: _service,
    Metadata: _metadata, RunCommand: _run, CopyTree: _copy_tree,
    PackageRepository: lambda s, n, p: ansible_repo.repository_tasks(s, s, f"toolkit_repo_{n}"),
    NvidiaDriver: lambda s, n, p: ansible_gpu.driver_tasks(s, n, p),
    ContainerToolkit: lambda s, n, p: ansible_gpu.container_toolkit_tasks(s, n, p),
}, "ansible")


def play_environment(plan: Plan) -> dict[str, str]:
    """Every Environment step's variables (proxies, CA paths, the profile's own) for all tasks."""
    env: dict[str, str] = {}
    for s in plan.steps:
        if isinstance(s, Environment):
            env.update(s.variables)
    return env


def render_tasks(step: Step, n: int, plan: Plan) -> list[dict]:
    """One step's tasks, tagged with its component (the unit of the golden tests)."""
    return [{**t, "tags": [step.component]} for t in tasks_for(step, n, plan)]


def dump(data) -> str:
    return yaml.dump(_inert(data), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120,
                     explicit_start=True)


def render(plan: Plan) -> Rendered:
    play: dict = {"name": f"Set up toolkit profile {plan.name}", "hosts": "all", "become": True,
                  "gather_facts": True}
    env = play_environment(plan)
    if env:
        play["environment"] = env
    play["pre_tasks"] = prerequisite_probes(family_of(plan)) + venv_guard_tasks(plan)
    play["tasks"] = [t for n, s in enumerate(plan.steps, 1) for t in render_tasks(s, n, plan)]
    files = {"ansible/playbook.yml": safe_header(plan) + dump([play])}
    trees = {f"ansible/{tree_dir(s)}": s.source for s in plan.steps if isinstance(s, CopyTree)}
    return Rendered(files=files, trees=trees)
