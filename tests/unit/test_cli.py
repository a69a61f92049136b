"""The CLI boundary: lazily loaded commands, version, exit codes."""

from __future__ import annotations

import importlib

import pytest

from toolkit.cli import COMMAND_MODULES, main


def test_every_command_module_is_mapped_and_every_mapping_resolves():
    modules = set(COMMAND_MODULES.values())
    declared = {c.name for m in modules for c in importlib.import_module(f"toolkit.commands.{m}").COMMANDS}
    assert declared == set(COMMAND_MODULES)


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2 and "No such command" in capsys.readouterr().err


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0 and all(name in out for name in COMMAND_MODULES)


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and "toolkit, version" in capsys.readouterr().out
