"""Ansible tasks of the host steps of `users:`, `directories:` and `mounts:`.

Groups and accounts use ansible.builtin.group / user, after an assert that refuses what setup.sh
refuses (a uid or gid held by another name, an account that exists with other ids or home); sudo
rights are a copy validated with `visudo -cf`; keys are lines of ~/.ssh/authorized_keys written as the
account itself (become_user, so a link planted in its home leads nowhere it could not write anyway);
folders are ansible.builtin.file after their parent is made as `mkdir -p` would. ansible-core has no
mount module: a mount runs the same script as setup.sh (toolkit.model.host_accounts) when its probe
says it is not done, with `-e toolkit_allow_format=true` as the --allow-format of setup.sh.
Plan values reach Jinja only through task `vars` (never inside an expression).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

from toolkit.model.plan import Plan
from toolkit.model.steps import Account, AuthorizedKeys, Directory, Groups, Mount, Step
from toolkit.render.ansible_tasks import Template, step_name

STEP_TYPES = (Groups, Account, AuthorizedKeys, Directory, Mount)
ALLOW_FORMAT_VAR = "toolkit_allow_format"
_GROUPS = "ansible_facts.getent_group"
_PASSWD = "ansible_facts.getent_passwd"
# --check on a fresh host: the accounts and groups a task names are not really made, so a task that uses
# them (the user's groups, become_user, a folder's owner) cannot be simulated there: its error is noted.
CHECK_ONLY_ERRORS = {"ignore_errors": Template("{{ ansible_check_mode }}")}


def _getent(step: Step, database: str) -> dict:
    return {"name": step_name(step, f"read the {database} database"),
            "ansible.builtin.getent": {"database": database}, "check_mode": False}


def groups_tasks(step: Groups, n: int, plan: Plan) -> list[dict]:
    tasks = [_getent(step, "group")]
    for name, gid in step.groups:
        if gid:
            tasks.append({
                "name": step_name(step, f"gid {gid} is free or already {name}'s"),
                "ansible.builtin.assert": {"that": [
                    f"{_GROUPS}[toolkit_group] is not defined or {_GROUPS}[toolkit_group][1] == toolkit_gid",
                    f"{_GROUPS} | dict2items | selectattr('value.1', 'equalto', toolkit_gid) | map(attribute='key') "
                    "| reject('equalto', toolkit_group) | list | length == 0"],
                    "quiet": True,
                    "fail_msg": f"group {name} exists with another gid, or gid {gid} belongs to another group; fix "
                                "it by hand or change the profile (nothing was changed)"},
                "vars": {"toolkit_group": name, "toolkit_gid": str(gid)}})
        tasks.append({"name": step_name(step, f"group {name}"),
                      "ansible.builtin.group": {"name": name, **({"gid": gid} if gid else {}), "state": "present"}})
    return tasks


def account_tasks(step: Account, n: int, plan: Plan) -> list[dict]:
    user = {"name": step.name, "uid": step.uid, "group": step.name, "home": step.home, "shell": step.shell,
            "create_home": True, "state": "present"}
    if step.groups:
        user |= {"groups": list(step.groups), "append": True}
    sudo: dict = ({"name": step_name(step, "sudo rights"), "ansible.builtin.copy": {
        "dest": step.sudoers_path, "content": step.sudoers_line + "\n", "mode": "0440", "owner": "root",
        "group": "root", "validate": "visudo -cf %s"}} if step.sudo else
        {"name": step_name(step, "no sudo rights from toolkit"),
         "ansible.builtin.file": {"path": step.sudoers_path, "state": "absent"}})
    return [
        _getent(step, "passwd"),
        {"name": step_name(step, f"uid {step.uid} is free or already {step.name}'s, with its ids and home"),
         "ansible.builtin.assert": {"that": [
             f"{_PASSWD} | dict2items | selectattr('value.1', 'equalto', toolkit_uid) | map(attribute='key') "
             "| reject('equalto', toolkit_user) | list | length == 0",
             "toolkit_have is none or (toolkit_have[1:3] == [toolkit_uid, toolkit_gid] and toolkit_have[4] == toolkit_home)"],
             "quiet": True,
             "fail_msg": f"uid {step.uid} belongs to another user, or {step.name} exists with other ids or home; "
                         "fix it by hand or change the profile (nothing was changed)"},
         "vars": {"toolkit_user": step.name, "toolkit_uid": str(step.uid), "toolkit_gid": str(step.gid),
                  "toolkit_home": step.home,
                  "toolkit_have": Template(f"{{{{ {_PASSWD}[toolkit_user] | default(none) }}}}")}},
        {"name": step_name(step), "ansible.builtin.user": user, **CHECK_ONLY_ERRORS},
        sudo,
    ]


def keys_tasks(step: AuthorizedKeys, n: int, plan: Plan) -> list[dict]:
    as_user = {"become": True, "become_user": step.user, "vars": {"ansible_pipelining": True}, **CHECK_ONLY_ERRORS}
    folder = f"{step.home}/.ssh"
    tasks = [{"name": step_name(step, f"{folder} (0700)"),
              "ansible.builtin.file": {"path": folder, "state": "directory", "mode": "0700"}, **as_user}]
    for i, key in enumerate(step.keys, 1):
        tasks.append({"name": step_name(step, f"key {i} of {len(step.keys)}"),
                      "ansible.builtin.lineinfile": {"path": f"{folder}/authorized_keys", "line": key, "create": True,
                                                     "mode": "0600"}, **as_user})
    return tasks


def directory_tasks(step: Directory, n: int, plan: Plan) -> list[dict]:
    parent = str(PurePosixPath(step.path).parent)
    reg, up = f"toolkit_dir_{n}", f"toolkit_dir_{n}_parent"
    return [
        {"name": step_name(step, "look at the folder"),
         "ansible.builtin.stat": {"path": step.path, "follow": False, "get_checksum": False}, "register": reg},
        {"name": step_name(step, "look at its parent"),
         "ansible.builtin.stat": {"path": parent, "get_checksum": False}, "register": up},
        {"name": step_name(step, "refuse a link or a file where the folder belongs"),
         "ansible.builtin.fail": {"msg": f"{step.path} exists and is not a folder (a symbolic link or a file); "
                                         "move it away, then apply again"},
         "when": f"{reg}.stat.exists and ({reg}.stat.islnk or not {reg}.stat.isdir)"},
        {"name": step_name(step, "parent folders as mkdir -p makes them"),
         "ansible.builtin.file": {"path": parent, "state": "directory", "mode": "0755", "owner": "root",
                                  "group": "root"},
         "when": f"not {up}.stat.exists"},
        {"name": step_name(step), "ansible.builtin.file": {
            "path": step.path, "state": "directory", "owner": step.owner, "group": step.group, "mode": step.mode},
         **CHECK_ONLY_ERRORS},
    ]


def mount_tasks(step: Mount, n: int, plan: Plan) -> list[dict]:
    reg = f"toolkit_probe_{n}"
    allow = Template(f"{{{{ ({ALLOW_FORMAT_VAR} | default(false) | bool) | ternary('1', '0') }}}}")
    return [
        {"name": step_name(step, "check whether it is done"), "ansible.builtin.command": {"argv": list(step.probe())},
         "register": reg, "changed_when": False, "failed_when": False, "check_mode": False},
        {"name": step_name(step, f"mount {step.path} (and /etc/fstab)"),
         "ansible.builtin.command": {"argv": list(step.apply(allow))},
         "when": f"{reg}.rc != 0", "changed_when": True},
    ]


TASKS: dict[type[Step], Callable[..., list[dict]]] = {Groups: groups_tasks, Account: account_tasks, AuthorizedKeys: keys_tasks, Directory: directory_tasks,
         Mount: mount_tasks}
