"""What every Ansible task builder shares: the YAML dumper that keeps plan text inert, and the
small task helpers (task names, file copies, apt, the --check guard).

The playbook is Python data dumped by a SafeDumper subclass, never text glued together, so every
value is quoted by the YAML emitter. Strings that Ansible would template (they hold `{{`, `{%` or
`{#`) are tagged `!unsafe`, so profile text is never evaluated as Jinja; `Template` marks the Jinja
the renderers write themselves. Below both ansible.py (the plan's steps) and ansible_gpu.py (the
GPU host steps), so neither imports the other's half.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import yaml

from toolkit.model.steps import Step

# Folders every Debian/Ubuntu host has: a copy into them needs no directory task (which would
# have to force a mode on, e.g., /etc/sudoers.d).
EXISTING_DIRS = {"/etc", "/etc/apt", "/etc/apt/sources.list.d", "/etc/profile.d", "/etc/sudoers.d",
                 "/etc/systemd/system", "/usr/local/share/ca-certificates"}
_JINJA = re.compile(r"\{\{|\{%|\{#")
# In --check, ansible.builtin.apt needs python3-apt and ansible.builtin.pip needs packaging on the
# host (outside --check they install what they need, in the tasks before them). Where they are missing,
# --check skips those tasks instead of failing; pre_tasks find out.
PREREQUISITES = {"apt": "toolkit_has_python_apt", "packaging": "toolkit_has_packaging"}


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


def check_mode_guard(module: str) -> str:
    return f"not ansible_check_mode or {PREREQUISITES[module]}.rc == 0"


def apt_task(name: str, packages, update_cache: bool = True) -> dict:
    args = {"name": list(packages), "state": "present", "install_recommends": False}
    if update_cache:
        args |= {"update_cache": True, "cache_valid_time": 3600}
    return {"name": name, "ansible.builtin.apt": {**args, "lock_timeout": 600}, "when": check_mode_guard("apt")}
