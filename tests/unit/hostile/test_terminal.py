"""Control characters from input never reach the terminal raw; narrow encodings and dumb terminals degrade.

Class: terminal control characters (C0 but newline/tab, DEL, C1, bidi overrides, line separators) in
profile values, keys, file names, inventory host names and command-line words, through the CLI."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tty import run_in_pty
from toolkit.ui import printable, safe_for, style

REPO = Path(__file__).resolve().parents[3]
HOSTILE = ["\x1b[2J", "\x1b]0;pwned\x07", "\x07", "\r", "\x08", "\x00", "\x7f", "\x9b31m", "\x85", "\u202e",
           "\u2066", "\u200f", "\u2028", "\ufeff"]
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def toolkit(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, env=full, cwd=cwd,
                          timeout=120, check=False)


def assert_inert(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    raw = RAW.findall(text)
    assert not raw, f"raw control characters {raw!r} in:\n{text}"
    return text


@pytest.mark.parametrize("bad", HOSTILE, ids=ascii)
def test_printable_escapes_each_control_character(bad):
    text = printable(f"a{bad}b")
    assert not RAW.search(text)
    assert text.startswith("a\\") and text.endswith("b")


def test_printable_keeps_newlines_tabs_and_ordinary_text():
    assert printable("line 1\n\tline 2 — café 日本") == "line 1\n\tline 2 — café 日本"


def test_only_toolkits_own_colour_codes_survive_and_only_where_colour_is_on(monkeypatch):
    class Tty:
        def isatty(self):
            return True
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    text = style("name\x1b[2J", Tty(), bold=True) + " \x1b[31mred\x1b[0m"
    assert safe_for(text, Tty()) == "\x1b[1mname\\x1b[2J\x1b[0m \\x1b[31mred\\x1b[0m"
    assert safe_for(text, io.StringIO()) == "name\\x1b[2J \\x1b[31mred\\x1b[0m"


def write_hostile_profiles(folder: Path, bad: str) -> list[Path]:
    quoted = bad.encode("unicode_escape").decode()     # YAML double-quoted escapes: \x1b, \u202e
    files = {"desc.yaml": f'name: x\ndescription: "d{quoted}d"\nos:\n  distro: debian\n  version: "12"\n',
             "name.yaml": f'name: "n{quoted}n"\n',
             "key.yaml": f'name: x\nos:\n  "k{quoted}k": 1\n',
             "extends.yaml": f'name: x\nextends: "p{quoted}p"\n'}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [folder / name for name in files]


@pytest.mark.parametrize("bad", HOSTILE, ids=ascii)
def test_profile_values_keys_and_names_in_plan_and_errors(tmp_path, bad, capsys):
    from toolkit.cli import main

    for path in write_hostile_profiles(tmp_path, bad):
        with pytest.raises(SystemExit) as exc:
            main(["plan", str(path)])
        assert exc.value.code in (0, 2)
        captured = capsys.readouterr()
        assert_inert((captured.out + captured.err).encode())


@pytest.mark.process
def test_every_hostile_value_through_a_real_process(tmp_path):
    for path in write_hostile_profiles(tmp_path, "".join(HOSTILE)):
        res = toolkit("plan", str(path))
        assert res.returncode in (0, 2), res.stderr
        assert_inert(res.stdout + res.stderr)


@pytest.mark.process
def test_command_line_words_in_click_errors():
    res = toolkit("pl\x1b[2Jan")
    assert res.returncode == 2
    assert "No such command 'pl\\x1b[2Jan'" in assert_inert(res.stderr)
    res = toolkit("plan", "base", "--\x1b]0;x\x07")
    assert res.returncode == 2
    assert_inert(res.stderr)
    res = toolkit("plan", "no\u202esuch")
    assert res.returncode == 2 and "no\\u202esuch" in assert_inert(res.stderr)


@pytest.mark.process
def test_inventory_host_names_in_apply_output(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text('name: p\nos:\n  distro: debian\n  version: "12"\n')
    inv = tmp_path / "inv.yaml"
    inv.write_text('hosts:\n  "h\\e]0;x\\a\\u202e\\r":\n    address: 127.0.0.1\n    port: 1\n')
    for extra in ((), ("--json",)):
        res = toolkit("apply", str(profile), "--inventory", str(inv), "--dry-run", "--log-dir", str(tmp_path / "l"),
                      *extra)
        assert res.returncode == 2, res.stdout + res.stderr     # refused as a host name before any connection
        text = assert_inert(res.stdout + res.stderr)
        assert "invalid host name 'h\\x1b]0;x\\x07\\u202e\\r'" in text, text


def test_bundled_profile_descriptions_in_profiles(tmp_path, monkeypatch, capsys):
    from toolkit.cli import main
    from toolkit.profile import bundled

    (tmp_path / "evil.yaml").write_text('name: evil\ndescription: "x\\e[2J\\u202e\\ry"\n')
    monkeypatch.setattr(bundled, "profiles_dir", lambda: tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["profiles"])
    assert exc.value.code == 0
    assert "x\\x1b[2J\\u202e\\x0dy" in assert_inert(capsys.readouterr().out.encode())


@pytest.mark.process
def test_a_bug_traceback_is_printed_inert(tmp_path):
    (tmp_path / "p.yaml").write_text("name: x\n'k\\e[2J[': 1\n".replace("\\e", "\x1b"))
    res = toolkit("validate", str(tmp_path / "p.yaml"))
    assert res.returncode in (1, 2)
    assert_inert(res.stdout + res.stderr)


@pytest.mark.process
def test_narrow_output_encoding_degrades_instead_of_crashing(tmp_path):
    (tmp_path / "p.yaml").write_text('name: wide\ndescription: "Datenanalyse → schnell 日本"\n'
                                     'os:\n  distro: debian\n  version: "12"\n', encoding="utf-8")
    for encoding in ("latin-1", "ascii", "cp1252"):      # (click itself writes UTF-8 to an ASCII stream)
        res = toolkit("plan", str(tmp_path / "p.yaml"), env={"PYTHONIOENCODING": encoding})
        assert res.returncode == 0, res.stderr
        assert b"Traceback" not in res.stderr
        if encoding != "ascii":
            assert b"Datenanalyse \\u2192 schnell \\u65e5\\u672c" in res.stdout
    res = toolkit("plan", "base", "--json", env={"PYTHONIOENCODING": "ascii"})
    assert res.returncode == 0


def plan_in_pty(env_changes: dict) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    env.update(env_changes, PYTHONPATH=str(REPO))
    rc, text = run_in_pty([sys.executable, "-m", "toolkit", "plan", "base"], env, timeout=60)
    assert rc == 0, text
    return text


@pytest.mark.parametrize("env", [{"TERM": "dumb"}, {"TERM": "xterm", "NO_COLOR": "1"}, {"TERM": "xterm-256color", "NO_COLOR": ""}],
                         ids=["TERM=dumb", "NO_COLOR", "NO_COLOR-empty"])
@pytest.mark.process
def test_no_colour_on_a_dumb_terminal_or_with_no_color(env):
    assert "\x1b" not in plan_in_pty(env)


@pytest.mark.process
def test_colour_on_a_terminal_but_never_in_a_pipe():
    assert "\x1b[1m" in plan_in_pty({"TERM": "xterm"})
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    res = subprocess.run([sys.executable, "-m", "toolkit", "plan", "base"], capture_output=True,
                         env=dict(env, TERM="xterm", PYTHONPATH=str(REPO)), check=True)
    assert b"\x1b" not in res.stdout


@pytest.mark.process
def test_input_escapes_stay_escaped_on_a_colour_terminal():
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(TERM="xterm", PYTHONPATH=str(REPO))
    rc, text = run_in_pty([sys.executable, "-m", "toolkit", "plan", "zz\x1b]0;t\x07\x1b[31m"], env, timeout=60)
    assert rc == 2
    assert "zz\\x1b]0;t\\x07\\x1b[31m" in text
    assert "\x1b]" not in text and "\x07" not in text
