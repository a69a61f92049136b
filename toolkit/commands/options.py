"""Options more than one command takes, declared once: each is a decorator (or a factory of one).

- `compat_data`: --compat-data FILE (validate, plan, render, build, apply, verify).
- `as_json(help)`: --json, the machine-readable form (stdout carries the JSON document alone).
- `target_options(...)`: --target TARGET (repeatable), --inventory FILE, --limit PATTERN, the one
  way apply, verify and doctor name what they work on (forms: toolkit.targets.address).
- `ssh_options`: --known-hosts, --ssh-config, --identity, --accept-new-host-keys.
- `deprecated_alias(...)`: an old spelling kept working; it prints a note to stderr saying what to use.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from toolkit.executors import inventory_limit
from toolkit.targets.address import FORMS
from toolkit.ui import err

Decorator = Callable[[Callable], Callable]


def _stack(*decorators: Decorator) -> Decorator:
    def apply(f: Callable) -> Callable:
        for d in reversed(decorators):
            f = d(f)
        return f
    return apply


compat_data: Decorator = click.option(
    "--compat-data", type=click.Path(dir_okay=False), default=None,
    help="Extra compatibility data (YAML) overlaid on toolkit's own.")


def as_json(help: str = "Print the results as JSON.") -> Decorator:
    return click.option("--json", "as_json", is_flag=True, help=help)


def target_options(default: str) -> Decorator:
    """--target/--inventory/--limit; `default` says in the help what runs when none is given."""
    return _stack(
        click.option("--target", "targets", multiple=True, metavar="TARGET",
                     help=f"What to work on (repeatable): {FORMS}. {default}"),
        click.option("--inventory", "inventory_file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                     help="Inventory of SSH hosts: an Ansible inventory (INI or YAML) or toolkit's own YAML "
                          "(hosts, groups, user/port/identity/jump)."),
        click.option("--limit", "limit", default=None, metavar="PATTERN",
                     help="With --inventory: only these hosts or groups, as Ansible reads --limit "
                          "(a,b or a:b, all, !exclude, &both, gpu*)."),
    )


ssh_options: Decorator = _stack(
    click.option("--known-hosts", type=click.Path(dir_okay=False), default=None,
                 help="known_hosts file to check host keys against (default ~/.ssh/known_hosts)."),
    click.option("--ssh-config", type=click.Path(dir_okay=False), default=None,
                 help="OpenSSH config (default ~/.ssh/config); host keys are always checked."),
    click.option("--identity", type=click.Path(exists=True, dir_okay=False), default=None,
                 help="Private key for SSH hosts without one."),
    click.option("--accept-new-host-keys", is_flag=True,
                 help="Trust unknown SSH hosts, adding their keys to known_hosts (a changed key is still refused)."),
)


def deprecated_alias(*names: str, dest: str, use: str, multiple: bool = True, help: str | None = None) -> Decorator:
    """An old spelling of an option, still accepted: each use prints `NAME is deprecated: use USE` to stderr.
    Hidden from --help unless `help` is given (a documented alias)."""
    def note(ctx: click.Context, param: click.Parameter, value):
        if value:
            err(f"toolkit {ctx.info_name}: {'/'.join(names)} is deprecated: use {use}")
        return value
    return click.option(*names, dest, multiple=multiple, metavar="TARGET", callback=note, expose_value=True,
                        hidden=help is None, help=help)


def limit_names(limit: str | None) -> tuple[str, ...]:
    """--limit a,b (or a:b, as Ansible writes it) -> ('a', 'b'); blanks around names are dropped."""
    return inventory_limit.split(limit)
