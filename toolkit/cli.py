"""The `toolkit` command: one error boundary around the click group."""

from __future__ import annotations

import difflib
import importlib
import logging
import sys
import traceback

import click

from toolkit import __version__
from toolkit.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_INVALID, ToolkitError
from toolkit.ui import PrintableFormatter, degrade_encoding, err

# Each command's module is imported only when that command runs (start-up stays quick).
COMMAND_MODULES = {
    "profiles": "profile_cmds", "validate": "profile_cmds", "schema": "profile_cmds", "plan": "profile_cmds",
    "render": "render_cmd", "build": "build_cmd", "apply": "apply_cmd", "verify": "verify_cmd",
    "doctor": "doctor_cmd", "compat": "compat_cmd", "lock": "lock_cmd", "init": "init_cmd",
    "jupyter-token": "jupyter_cmd", "bundle": "bundle_cmd",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(name)
        if module is None:
            return None
        commands = importlib.import_module(f"toolkit.commands.{module}").COMMANDS
        return next(c for c in commands if c.name == name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        if args and name not in COMMAND_MODULES and not name.startswith("-"):
            close = difflib.get_close_matches(name, sorted(COMMAND_MODULES), n=1, cutoff=0.6)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            ctx.fail(f"No such command '{name}'.{hint} (`toolkit --help` lists them)")
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="toolkit")
@click.option("-v", "--verbose", count=True, help="More detail (repeat for debug logs).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Take a GPU machine or a container image from nothing to a verified deep-learning environment.

    A profile (YAML) describes the stack; toolkit validates and resolves it, renders it
    (Dockerfile, setup script, Ansible playbook, testinfra suite), applies it and verifies it.
    """
    ctx.obj = {"verbose": verbose}
    handler = logging.StreamHandler()
    handler.setFormatter(PrintableFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING,
                        handlers=[handler])


def click_message(exc: click.ClickException) -> str:
    """What click would print for exc, built here so that err() escapes what came from the command line."""
    lines = []
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        lines.append(ctx.get_usage())
        if ctx.command.get_help_option(ctx) is not None:
            lines += [f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help.", ""]
    lines.append(f"Error: {exc.format_message()}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Entry point: toolkit's own errors become a message and an exit code; bugs keep their traceback."""
    degrade_encoding()
    try:
        cli.main(args=argv, prog_name="toolkit", standalone_mode=False)
    except ToolkitError as exc:
        err(exc.render())
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        err("interrupted")
        sys.exit(EXIT_INTERRUPTED)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        err(click_message(exc))
        sys.exit(EXIT_INVALID if isinstance(exc, click.UsageError) else exc.exit_code)
    except Exception:       # a bug: keep its traceback, but printed like everything else (control characters escaped)
        err(traceback.format_exc().rstrip("\n"))
        sys.exit(EXIT_FAILED)
    sys.exit(0)
