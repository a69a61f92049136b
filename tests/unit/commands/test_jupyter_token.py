"""`toolkit jupyter-token`: what it reads, what it prints and what it refuses. The command against a real
systemd host over SSH is in tests/integration/test_jupyter_service.py; here the host is a stand-in runner."""

from __future__ import annotations

import json

import pytest

from toolkit.cli import main
from toolkit.commands import jupyter_cmd
from toolkit.errors import ToolkitError, UsageError
from toolkit.executors.inventory import Host

TOKEN = "0f" * 24
PROFILE = {"profile": {"jupyter": {"enabled": True, "service": True, "port": 8888, "ip": None, "flavor": "lab",
                                   "auth": "token"}}}


def runner(files: dict, calls: list | None = None):
    def run(argv, root):
        if calls is not None:
            calls.append((argv, root))
        if argv[0] == "systemctl":
            return 0, b"active\n", ""
        path = argv[-1]
        if path not in files:
            return 1, b"", f"cat: {path}: No such file or directory\n"
        return 0, files[path].encode(), ""
    return run


GPU01 = Host("gpu01", "gpu01.lan", 2222, "alice")


def shown(capsys, files, host=GPU01, token_only=False) -> str:
    jupyter_cmd.show(runner(files), host, "gpu01", token_only)
    return capsys.readouterr().out


def test_prints_the_token_the_state_and_the_tunnel(capsys):
    calls: list = []
    files = {jupyter_cmd.PROFILE_JSON: json.dumps(PROFILE), jupyter_cmd.JUPYTER_ENV_FILE: f"JUPYTER_TOKEN={TOKEN}\n"}
    jupyter_cmd.show(runner(files, calls), Host("gpu01", "gpu01.lan", 2222, "alice"), "gpu01", False)
    out = capsys.readouterr().out
    assert f"token:    {TOKEN}" in out and "toolkit-jupyter.service is active" in out
    assert "tunnel:   ssh -N -L 8888:127.0.0.1:8888 -p 2222 alice@gpu01.lan" in out
    assert f"open:     http://127.0.0.1:8888/lab?token={TOKEN}" in out
    # only the token file is read as root
    assert [argv[-1] for argv, root in calls if root] == [jupyter_cmd.JUPYTER_ENV_FILE]


def test_token_only_prints_the_token_alone(capsys):
    files = {jupyter_cmd.PROFILE_JSON: json.dumps(PROFILE), jupyter_cmd.JUPYTER_ENV_FILE: f"JUPYTER_TOKEN={TOKEN}\n"}
    assert shown(capsys, files, token_only=True) == TOKEN + "\n"


def test_ipv6_wildcard_jump_host_and_password_mode(capsys):
    profile = json.loads(json.dumps(PROFILE))
    profile["profile"]["jupyter"] |= {"ip": "::", "port": 9000, "flavor": "notebook", "auth": "password"}
    host = Host("b", "fd00::5", 22, "bob", jump=Host("j", "bastion", 2200, "ops"))
    files = {jupyter_cmd.PROFILE_JSON: json.dumps(profile),
             jupyter_cmd.JUPYTER_ENV_FILE: f"JUPYTER_TOKEN={TOKEN}\nJUPYTER_PASSWORD_HASH='argon2:$x$y'\n"}
    out = shown(capsys, files, host)
    assert "ssh -N -L '9000:[::1]:9000' -J ops@bastion:2200 'bob@[fd00::5]'" in out
    assert "http://127.0.0.1:9000/tree?token=" in out and "password: set" in out and "argon2" not in out


def test_the_last_assignment_wins_as_in_systemd():
    assert jupyter_cmd.env_values("# x\nJUPYTER_TOKEN=a\nJUPYTER_TOKEN='b'\n")["JUPYTER_TOKEN"] == "b"


@pytest.mark.parametrize("files,error,message", [
    ({}, UsageError, "no toolkit profile was applied"),
    ({jupyter_cmd.PROFILE_JSON: "{not json"}, ToolkitError, "is not a profile toolkit wrote"),
    ({jupyter_cmd.PROFILE_JSON: json.dumps({"profile": {"jupyter": {"enabled": True, "service": False, "port": 8888}}})},
     UsageError, "runs no Jupyter service"),
    ({jupyter_cmd.PROFILE_JSON: json.dumps(PROFILE)}, ToolkitError, "could not read /etc/toolkit/jupyter.env as root"),
    ({jupyter_cmd.PROFILE_JSON: json.dumps(PROFILE), jupyter_cmd.JUPYTER_ENV_FILE: "JUPYTER_TOKEN=\n"}, ToolkitError,
     "holds no JUPYTER_TOKEN"),
])
def test_what_it_cannot_show_it_says(files, error, message, capsys):
    with pytest.raises(error, match=message):
        shown(capsys, files)
    assert capsys.readouterr().out == ""


def test_a_failed_read_never_shows_what_stdout_held(capsys):
    def run(argv, root):
        if root:       # e.g. sudo failed half-way: whatever came on stdout must not reach the message
            return 1, b"JUPYTER_TOKEN=leaked", "sudo: a password is required"
        return 0, json.dumps(PROFILE).encode(), ""
    with pytest.raises(ToolkitError) as exc:
        jupyter_cmd.show(run, Host("h", "h"), "h", False)
    assert "leaked" not in exc.value.render() and "a password is required" in exc.value.render()


@pytest.mark.parametrize("argv,message", [
    (["--target", "docker://box"], "containers run no Jupyter service"),
    (["--target", "docker-image://debian:12"], "containers run no Jupyter service"),
    (["--target", "ssh://a@127.0.0.1", "--target", "ssh://b@127.0.0.1"], "reads one host's token; 2 targets"),
    ([], "give --target TARGET"),
])
def test_usage_errors_exit_2_without_connecting(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["jupyter-token", *argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and "Traceback" not in err
