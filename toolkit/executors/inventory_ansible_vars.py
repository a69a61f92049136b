"""Ansible connection variables as toolkit host settings, checked where they are set.

| Ansible (the later name wins when both are set, as in Ansible) | toolkit |
|---|---|
| ansible_host, ansible_ssh_host | address |
| ansible_port, ansible_ssh_port | port |
| ansible_user, ansible_ssh_user | user |
| ansible_private_key_file, ansible_ssh_private_key_file | identity |
| `-J HOP` or `-o ProxyJump=HOP` in ansible_ssh_common_args / _extra_args / _args | jump |

Other options in those arguments that only tune the connection (ControlMaster, ControlPersist,
ServerAliveInterval, ConnectTimeout...) are ignored: toolkit runs ssh with its own options. Anything
else there (ProxyCommand, StrictHostKeyChecking, UserKnownHostsFile, unknown options) is refused:
toolkit always checks host keys (--accept-new-host-keys trusts new ones), and a ProxyCommand runs a
program. `ansible_connection` must be ssh (or paramiko/smart) for the hosts a run uses; `local` is
`--target local`. Every other variable (become, interpreter, the playbook's own) is accepted and ignored,
never checked or echoed. Values toolkit uses pass the same checks as its own inventory
(inventory_check, toolkit.targets.ssh_values) wherever they are set, used or not; Jinja (`{{ }}`) is
refused: toolkit does not template.
"""

from __future__ import annotations

import re
import shlex
from typing import NoReturn

from toolkit.executors import inventory_check
from toolkit.executors.inventory_ansible import Inventory, Var
from toolkit.inputs import key_name
from toolkit.targets.ssh_values import shown

NAMES = {"address": ("ansible_host", "ansible_ssh_host"), "port": ("ansible_port", "ansible_ssh_port"),
         "user": ("ansible_user", "ansible_ssh_user"),
         "identity": ("ansible_private_key_file", "ansible_ssh_private_key_file")}
SETTING_OF = {name: key for key, names in NAMES.items() for name in names}
SSH_ARGS = ("ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args")
SSH_CONNECTIONS = ("ssh", "paramiko", "paramiko_ssh", "smart", "ansible.builtin.ssh", "ansible.builtin.paramiko_ssh")
PASSWORDS = ("ansible_password", "ansible_ssh_pass", "ansible_ssh_password")
FLAGS = frozenset(("-q", "-C", "-A", "-a", "-x", "-T", "-4", "-6"))     # quiet, compression, agent...: ignored
TUNING = frozenset(o.lower() for o in (
    "ControlMaster", "ControlPersist", "ControlPath", "ServerAliveInterval", "ServerAliveCountMax",
    "ConnectTimeout", "ConnectionAttempts", "Compression", "TCPKeepAlive", "IdentitiesOnly", "LogLevel",
    "ForwardAgent", "PreferredAuthentications", "PubkeyAuthentication", "PasswordAuthentication",
    "KbdInteractiveAuthentication", "GSSAPIAuthentication", "AddKeysToAgent"))
REFUSED = {"proxycommand": "a ProxyCommand runs a program: write -o ProxyJump=user@bastion:port instead",
           "stricthostkeychecking": "toolkit always checks host keys: drop it, and pass --accept-new-host-keys "
                                    "to trust hosts seen for the first time",
           "userknownhostsfile": "give the file with --known-hosts (or UserKnownHostsFile in an ssh config)",
           "globalknownhostsfile": "give the file with --known-hosts (or UserKnownHostsFile in an ssh config)"}


class _At(inventory_check.Checker):
    """inventory_check's value checks, with errors located where the Ansible variable was set."""

    def __init__(self, inv: Inventory, var: Var):
        super().__init__(inv.path, lambda keys: None)
        self.inv, self.var = inv, var

    def fail(self, keys: tuple, message: str, hint: str | None = None) -> NoReturn:
        self.inv.fail(self.var.line, self.var.label, message, hint)


def _templated(value: object) -> bool:
    return isinstance(value, str) and any(t in value for t in ("{{", "{%", "{#"))


def check(inv: Inventory, name: str, var: Var) -> object:
    """The toolkit value of one variable toolkit uses (None for one it ignores); refused when bad."""
    if var.value is None:
        return None
    at = _At(inv, var)
    if _templated(var.value) and (name in SETTING_OF or name in SSH_ARGS or name == "ansible_connection"):
        at.fail((), "toolkit does not evaluate Jinja templates", "write the value itself")
    if name in SETTING_OF:
        key, value = SETTING_OF[name], var.value
        if key == "port" and isinstance(value, str) and re.fullmatch(r"[0-9]{1,5}", value.strip()):
            value = int(value.strip())
        return at.settings((), {key: value})[key]
    if name in SSH_ARGS:
        jump = ssh_args_jump(at, var.value)
        if jump is not None:
            at.settings((), {"jump": jump})
        return jump
    if name == "ansible_connection" and not isinstance(var.value, str):
        at.fail((), f"must be text, got {type(var.value).__name__}", "ansible_connection=ssh")
    return var.value if name == "ansible_connection" else None


def ssh_args_jump(at: _At, text: object) -> str | None:
    """The ProxyJump in ssh arguments (-J HOP, -o ProxyJump=HOP); None without one."""
    if not isinstance(text, str):
        at.fail((), f"must be text, got {type(text).__name__}", "ansible_ssh_common_args='-o ProxyJump=ops@bastion'")
    if not text.isprintable():
        at.fail((), "contains a control or invisible character (newline, ESC, U+202E...)", "one line of ssh options")
    try:
        words = shlex.split(text)
    except ValueError as exc:
        at.fail((), f"cannot split it: {str(exc).lower()}", "close the quote")
    jump, n = None, 0
    while n < len(words):
        word = words[n]
        if word in ("-J", "-o") and n + 1 < len(words):
            option, value = (("proxyjump", words[n + 1]) if word == "-J" else _option(words[n + 1]))
            n += 2
        elif word.startswith(("-J", "-o")) and len(word) > 2:
            option, value = ("proxyjump", word[2:]) if word[1] == "J" else _option(word[2:])
            n += 1
        elif word in FLAGS:
            n += 1
            continue
        else:
            at.fail((), f"ssh argument {key_name(word)!r} is not supported",
                    "toolkit runs ssh with its own options; only -J HOP or -o ProxyJump=HOP is taken from here")
        if option == "proxyjump":
            if jump is not None and jump != value:
                at.fail((), "two different ProxyJump values", "give one: -o ProxyJump=hop1,hop2")
            jump = value
        elif option in REFUSED:
            at.fail((), f"ssh option {option!r} is not supported", REFUSED[option])
        elif option not in TUNING:
            at.fail((), f"ssh option {key_name(option)!r} is not supported",
                    "toolkit runs ssh with its own options; only ProxyJump is taken from here (connection tuning "
                    "such as ControlPersist is ignored)")
    return jump


def _option(text: str) -> tuple[str, str]:
    """`ProxyJump=x`, `ProxyJump x` -> ('proxyjump', 'x')."""
    sep = min((i for i in (text.find("="), text.find(" ")) if i >= 0), default=len(text))
    return text[:sep].strip().lower(), text[sep + 1:].strip()


def check_all(inv: Inventory) -> None:
    """Every variable toolkit would use, wherever it is set: a bad one is refused even where it is
    overridden or its hosts are left out by --limit (the file is wrong either way)."""
    places = [*(g.vars for g in inv.groups.values()), *inv.hosts.values()]
    for variables in places:
        for name, var in variables.items():
            check(inv, name, var)


def settings(inv: Inventory, host: str, variables: dict[str, Var]) -> dict:
    """toolkit settings (address, port, user, identity, jump) of one chosen host from its variables."""
    connection = variables.get("ansible_connection")
    if connection is not None and connection.value is not None and connection.value not in SSH_CONNECTIONS:
        how = ("this machine is `--target local`, in a run of its own" if connection.value == "local"
               else "toolkit reaches hosts over SSH")
        inv.fail(connection.line, f"{connection.label} (host {host})",
                 f"connection {shown(connection.value)} is not supported: {how}",
                 f"leave the host out: --limit 'all:!{host}'")
    out: dict = {}
    for key, names in NAMES.items():
        for name in names:                              # the later name wins
            if name in variables and variables[name].value is not None:
                out[key] = check(inv, name, variables[name])
    jumps = [(n, check(inv, n, variables[n])) for n in SSH_ARGS if n in variables]
    jumps = [(n, j) for n, j in jumps if j]
    if jumps:
        out["jump"] = jumps[-1][1]
    return out


def password_vars(hosts: list[str], variables: dict[str, dict[str, Var]]) -> list[str]:
    """Names of the password variables set for `hosts` (ignored: toolkit logs in with keys)."""
    return sorted({n for h in hosts for n in PASSWORDS if n in variables[h]})
