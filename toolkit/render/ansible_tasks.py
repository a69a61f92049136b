"""What every Ansible task builder shares: the YAML dumper that keeps plan text inert, and the
small task helpers (task names, file copies, the OS family's package module, the --check guards).

The playbook is Python data dumped by a SafeDumper subclass, never text glued together, so every
value is quoted by the YAML emitter. Strings that Ansible would template (they hold `{{`, `{%` or
`{#`) are tagged `!unsafe`, so profile text is never evaluated as Jinja; `Template` marks the Jinja
the renderers write themselves. Below ansible.py (the plan's steps), ansible_gpu.py (the GPU host
steps) and ansible_repo.py (package repositories), so none of them imports another's half.
Package-manager module names and arguments come from the OS family (toolkit.model.osfamily).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath

import yaml

from toolkit.model import osfamily
from toolkit.model.plan import Plan
from toolkit.model.steps import Step

# Folders every host has: a copy into them needs no directory task (which would have to force a mode
# on, e.g., /etc/sudoers.d). The OS families add their own (package configuration, trust store).
EXISTING_DIRS = {"/etc", "/etc/profile.d", "/etc/sudoers.d", "/etc/systemd/system"} | {
    d for f in osfamily.FAMILIES for d in (f.config_dir, f.sources_dir, f.ca_dir)}
_JINJA = re.compile(r"\{\{|\{%|\{#")
# In --check, the OS family's package module needs its Python binding (ansible_check_module) and
# ansible.builtin.pip needs packaging on the host (outside --check they install what they need, in the
# tasks before them). Where they are missing, --check skips those tasks instead of failing; pre_tasks
# find out.
PIP_PREREQUISITE = ("packaging", "toolkit_has_packaging")


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


def _represent_unsafe(dumper: yaml.SafeDumper, value: str):
    return _represent_str(dumper, value, "!unsafe")


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Unsafe, _represent_unsafe)
_Dumper.add_representer(Template, _represent_str)


def inert(data):
    """Tag every string (keys too) that Ansible would template."""
    if isinstance(data, dict):
        return {inert(k): inert(v) for k, v in data.items()}
    if isinstance(data, list):
        return [inert(v) for v in data]
    if isinstance(data, str) and not isinstance(data, Template) and _JINJA.search(data):
        return Unsafe(data)
    return data


def dump(data) -> str:
    return yaml.dump(inert(data), Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120,
                     explicit_start=True)


def step_name(step: Step, what: str = "") -> str:
    title = step.title[:1].upper() + step.title[1:]
    return f"{title}: {what}" if what else title


def copy_tasks(name: str, path: str, content: str, mode: str = "0644", owner: str = "root") -> list[dict]:
    """A file with this content (and a task for its folder where the host may lack it)."""
    tasks = []
    parent = str(PurePosixPath(path).parent)
    if parent not in EXISTING_DIRS:
        tasks.append({"name": f"{name}: folder {parent}",
                      "ansible.builtin.file": {"path": parent, "state": "directory", "mode": "0755"}})
    tasks.append({"name": name, "ansible.builtin.copy": {"dest": path, "content": content, "mode": mode,
                                                         "owner": owner}})
    return tasks


LONG_LINE = 140          # a file line longer than this would break the playbook's 160-column lines (yamllint)


def long_contents_to_files(tasks: list[dict]) -> dict[str, str]:
    """Copy tasks whose content has a line too long for the playbook (a pinned direct URL in a requirements
    file) take it from `ansible/files/` (`src:`, copied as is, never templated) instead of inline; returns
    those files by their path in the rendered output. Named by a digest of the destination, never by it."""
    files: dict[str, str] = {}
    for task in tasks:
        copy = task.get("ansible.builtin.copy")
        if not copy or not any(len(line) > LONG_LINE for line in str(copy.get("content", "")).splitlines()):
            continue
        dest = str(copy["dest"])
        base = re.sub(r"[^A-Za-z0-9._-]", "_", PurePosixPath(dest).name)[:40].lstrip(".") or "file"
        rel = f"files/{hashlib.sha256(dest.encode()).hexdigest()[:12]}-{base}"
        files[f"ansible/{rel}"] = str(copy.pop("content"))
        task["ansible.builtin.copy"] = {"src": rel, **copy}
    return files


def prerequisites(family: osfamily.OsFamily) -> dict[str, str]:
    """Python module on the host -> the fact registering whether it is there (for --check)."""
    return {family.ansible_check_module: family.ansible_check_fact, PIP_PREREQUISITE[0]: PIP_PREREQUISITE[1]}


def guard(fact: str) -> str:
    return f"not ansible_check_mode or {fact}.rc == 0"


def package_guard(family: osfamily.OsFamily) -> str:
    """`when` of a package-module task: skipped in --check where the module could not simulate."""
    return guard(family.ansible_check_fact)


def package_task(family: osfamily.OsFamily, name: str, packages, update_cache: bool = True) -> dict:
    """The family's package module installing `packages` (refreshing stale lists first unless told not to)."""
    args = {"name": list(packages), "state": "present", **dict(family.ansible_install_args)}
    if update_cache:
        args |= dict(family.ansible_refresh_args)
    return {"name": name, family.ansible_package_module: {**args, **dict(family.ansible_lock_args)},
            "when": package_guard(family)}


def family_of(plan: Plan) -> osfamily.OsFamily:
    return osfamily.for_distro(plan.target.distro)
