"""Hostile values on their way into the Jupyter service's systemd unit: the profile's env (Environment=),
the venv and the secret file (EnvironmentFile=, ReadWritePaths=). A value a unit would read differently
(% specifiers, $, quotes, backslashes, newlines) is refused at the profile with file:line, or written so
that systemd reads back exactly the value (checked with systemd's own unquoting rules, systemd.syntax(7)
and systemd.exec(5); tests/integration/test_jupyter_service.py reads them back from a real systemd)."""

from __future__ import annotations

import base64
import dataclasses
import re

import pytest
import yaml

from toolkit.cli import main
from toolkit.errors import EXIT_INVALID
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import ansible, script
from toolkit.render.host_files import unit_env, unit_text

PROFILE = """\
name: svc
os: {{distro: debian, version: "12"}}
jupyter: {{enabled: true, service: true}}
env:
  {name}: {value}
"""
C_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f",
             "v": "\v", "s": " "}


def systemd_word(quoted: str) -> str:
    """What systemd makes of one double-quoted Environment= word: C escapes (\\xNN are bytes, so UTF-8
    comes back whole), then specifiers (only %% here: any other % would be a specifier)."""
    assert quoted.startswith('"') and quoted.endswith('"') and len(quoted) >= 2, quoted
    body, out, i = quoted[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        if c == '"':
            raise AssertionError(f"an unescaped quote ends the word early: {quoted!r}")
        if c == "\\":
            nxt = body[i + 1]
            if nxt == "x":
                out.append(int(body[i + 2:i + 4], 16))
                i += 4
                continue
            out += C_ESCAPES[nxt].encode()
            i += 2
            continue
        out += c.encode()
        i += 1
    text = out.decode("utf-8")
    assert not re.search(r"%[^%]", text.replace("%%", "")), f"a bare specifier: {quoted!r}"
    return text.replace("%%", "%")


def environment_lines(text: str) -> list[str]:
    return [line[len("Environment="):] for line in text.splitlines() if line.startswith("Environment=")]


# values the renderer may be handed (validation bypassed): each must come back exactly
RAW = {
    "percent specifiers": "%h %u %% %n 100%",
    "dollar": "$HOME ${PATH} $$",
    "double quote": 'say "hi"',
    "single quote": "it's",
    "backslash": "C:\\path\\n not a newline",
    "newline": "line1\nEnvironment=INJECTED=1\n[Service]\nExecStartPre=/bin/touch /tmp/PWNED",
    "tab and carriage return": "a\tb\rc",
    "control characters": "bell\a esc\x1b[2J nul-free",
    "non-ASCII": "café ☃ \u202e",
    "empty": "",
    "equals": "a=b=c",
}


@pytest.mark.parametrize("case", sorted(RAW))
def test_any_value_comes_back_from_the_unit_exactly(case):
    value = RAW[case]
    line = unit_env("NAME", value)
    assert "\n" not in line and "\r" not in line
    assert systemd_word(line) == f"NAME={value}"


def test_a_newline_in_a_value_cannot_add_a_unit_line(tmp_path):
    from tests.unit.render_hosts import CASES, plan_of
    from toolkit.model.steps import Environment

    env = Environment("env", "profile environment", variables=(("EVIL", RAW["newline"]),))
    text = unit_text(plan_of(CASES["service_host"], env), CASES["service_host"])
    assert "INJECTED" not in "".join(line for line in text.splitlines() if not line.startswith("Environment="))
    assert not any(line.startswith(("ExecStartPre", "[Service]\n")) for line in text.splitlines()[1:]
                   if "PWNED" in line)
    assert [systemd_word(w) for w in environment_lines(text)][-1] == "EVIL=" + RAW["newline"]


def _profile(tmp_path, name: str, value: str):
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE.format(name=name, value=value), encoding="utf-8")
    return path


@pytest.mark.parametrize("value,expected", [
    ('"50%h"', "50%h"), ('"%%"', "%%"), ("a b c", "a b c"), ('"x=1,y=2"', "x=1,y=2"), ('"http://proxy:3128/"',
                                                                                    "http://proxy:3128/")])
def test_accepted_profile_values_reach_the_unit_exactly(tmp_path, value, expected):
    plan = build_plan(load_profile(_profile(tmp_path, "MY_SETTING", value)))
    service = next(s for s in plan.steps if type(s).__name__ == "Service")
    words = [systemd_word(w) for w in environment_lines(unit_text(plan, service))]
    assert f"MY_SETTING={expected}" in words
    assert words[:2] == ["VIRTUAL_ENV=/opt/venv", "PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                                                  "/usr/bin:/sbin:/bin"]
    # the same unit in both host formats (base64 in setup.sh, a YAML block in the playbook)
    text = unit_text(plan, service)
    assert base64.encodebytes(text.encode()).decode() in script.render(plan).files["setup.sh"]
    assert text in "\n".join(str(t.get("ansible.builtin.copy", {}).get("content")) for t in
                             yaml.safe_load(ansible.render(plan).files["ansible/playbook.yml"])[0]["tasks"])


@pytest.mark.parametrize("value,why", [
    ("'x$HOME'", "'$'"), ('"say \\"hi\\""', "'\"'"), ('"a\\nb"', "newlines"), ('"back\\\\slash"', "'\\\\'"),
    ("'`id`'", "'`'"), ('"tab\\there"', "is not allowed")])
def test_values_a_unit_would_misread_are_refused_at_the_profile(tmp_path, capsys, value, why):
    path = _profile(tmp_path, "MY_SETTING", value)
    with pytest.raises(SystemExit) as exc:
        main(["validate", str(path)])
    err = capsys.readouterr().err
    assert exc.value.code == EXIT_INVALID, err
    assert f"{path.name}:5:" in err and "env.MY_SETTING" in err
    assert why in err or "is not allowed" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("field,value", [("secret_file", "/etc/toolkit/a b.env"), ("secret_file", "relative.env"),
                                         ("secret_file", "/etc/toolkit/x\nExecStartPre=/bin/sh"),
                                         ("secret_file", "/etc/../etc/shadow"),
                                         ("secret_variable", "JUPYTER TOKEN"), ("secret_variable", "X\nY")])
def test_secret_file_and_variable_that_a_unit_cannot_hold_are_refused(field, value):
    from tests.unit.render_hosts import CASES, plan_of

    step = dataclasses.replace(CASES["service_host"], **{field: value})
    with pytest.raises(ValueError, match="cannot be written into a systemd unit|is not a variable name"):
        unit_text(plan_of(step), step)


def test_a_venv_under_usr_stays_writable_for_the_service(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE.format(name="A", value="b") + "python: {venv: /usr/local/ml-venv}\n", encoding="utf-8")
    plan = build_plan(load_profile(path))
    service = next(s for s in plan.steps if type(s).__name__ == "Service")
    text = unit_text(plan, service)
    assert "ProtectSystem=full" in text and "ReadWritePaths=-/usr/local/ml-venv" in text
    plain = build_plan(load_profile(_profile(tmp_path, "A", "b")))
    assert "ReadWritePaths" not in unit_text(plain, next(s for s in plain.steps if type(s).__name__ == "Service"))
