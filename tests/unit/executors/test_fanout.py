"""Fan-out over hosts (fake work functions), output tracking/classification, the final table,
and the local executor's root command and wrapper."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest

from toolkit.commands.apply_cmd import conclude
from toolkit.errors import EXIT_FAILED, EXIT_VERIFY_FAILED, ToolkitError
from toolkit.executors import fanout
from toolkit.executors.inventory import Host
from toolkit.executors.local_apply import Job, apply_local, root_command, wrapper_text
from toolkit.executors.results import (
    CHANGED,
    FAILED,
    REDACTED,
    UNCHANGED,
    UNREACHABLE,
    WOULD_CHANGE,
    HostResult,
    OutputTracker,
    Progress,
)

OUTPUT = """\
[ok] unchanged  step 1/3: os: OS packages
[run] step 2/3: user: user alice
[changed] step 2/3: user: user alice
[run] step 3/3: python: venv
"""


def hosts(n: int) -> list[Host]:
    return [Host(name=f"h{i}", hostname=f"10.0.0.{i}", user="deploy") for i in range(n)]


def test_tracker_classifies_and_redacts(tmp_path):
    events: list[Progress] = []
    log = (tmp_path / "h.log").open("w")
    t = OutputTracker("h", 3, log=log, log_path="h.log", secrets=("s3cret",), progress=events.append)
    t.feed(OUTPUT[:50])
    t.feed(OUTPUT[50:] + "sudo said s3cret\n[failed] step 3/3: python: venv (exit status 1 at line 9 of setup.sh)\n")
    r = t.result(1, 2.0)
    log.close()
    assert (r.status, r.steps_changed, r.steps_total, r.failed_step) == (FAILED, 1, 3, "step 3/3: python: venv")
    assert "sudo said " + REDACTED in r.tail and not any("s3cret" in line for line in r.tail)
    assert "s3cret" not in (tmp_path / "h.log").read_text()
    assert [(e.tag, e.step) for e in events] == [("ok", 1), ("run", 2), ("changed", 2), ("run", 3), ("failed", 3)]


@pytest.mark.parametrize("text, rc, dry, status", [
    (OUTPUT + "[changed] step 3/3: python: venv\n", 0, False, CHANGED),
    ("[ok] unchanged  step 1/1: a\n", 0, False, UNCHANGED),
    ("[would change] step 1/1: a\n", 0, True, WOULD_CHANGE),
    ("[ok] unchanged  step 1/1: a\n", 0, True, UNCHANGED),
    (OUTPUT, None, False, UNREACHABLE),
    ("sudo: a password is required\n", 1, False, FAILED),
])
def test_classification(text, rc, dry, status):
    t = OutputTracker("h", 1, dry_run=dry)
    t.feed(text)
    r = t.result(rc, 1.0)
    assert r.status == status
    assert bool(r.tail) == (status in (FAILED, UNREACHABLE))
    if status == UNREACHABLE:
        assert r.failed_step == "step 3/3: python: venv" and "run apply again to continue" in r.tail[-1]


def test_reboot_marker():
    t = OutputTracker("h", 1)
    t.feed("[changed] step 1/1: a\ntoolkit: reboot required (/var/run/reboot-required exists)\n")
    assert t.result(0, 1.0).reboot_required


def test_forks_limit_and_one_bad_host_does_not_stop_the_others():
    running, peak, lock = [0], [0], threading.Lock()
    lines: list[str] = []

    def work(host: Host, progress) -> HostResult:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            progress(Progress(host.name, "changed", 1, 1, "thing"))
            time.sleep(0.05)
            if host.name == "h1":
                raise RuntimeError("bug in toolkit")
            if host.name == "h2":
                return HostResult(host.name, UNREACHABLE, failed_step="connect", tail=["refused"])
            return HostResult(host.name, CHANGED, 1, 1, 0.05)
        finally:
            with lock:
                running[0] -= 1

    results = fanout.run_all(hosts(6), work, forks=2, display=fanout.PlainDisplay(lines.append))
    assert [r.host for r in results] == [f"h{i}" for i in range(6)]
    assert [r.status for r in results] == [CHANGED, FAILED, UNREACHABLE, CHANGED, CHANGED, CHANGED]
    assert "toolkit error: RuntimeError" == results[1].failed_step and "bug in toolkit" in results[1].tail[-1]
    assert peak[0] == 2
    assert "h0: [changed] step 1/1: thing" in lines and any(line.startswith("h2: unreachable") for line in lines)


def test_summary_table_lines():
    results = [HostResult("gpu01", CHANGED, 3, 9, 12.34, verify="passed 20"),
               HostResult("gpu02", FAILED, 1, 9, 3.0, failed_step="step 2/9: os: OS packages",
                          tail=["E: Unable to locate package nope"], log_path="/logs/gpu02.log", reboot_required=True)]
    lines = fanout.summary_lines(results)
    assert lines[0].split() == list(fanout.COLUMNS)
    assert lines[1].split() == ["gpu01", "changed", "3/9", "12.3s", "passed", "20"]
    assert lines[2].split() == ["gpu02", "failed", "1/9", "3.0s", "-", "required"]
    assert lines[3:] == ["  gpu02: failed at step 2/9: os: OS packages", "    | E: Unable to locate package nope",
                         "    full log: /logs/gpu02.log"]
    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(fanout.summary_table(results))
    text = console.export_text()
    assert "gpu02" in text and "Unable to locate" in text


def test_live_display_tracks_steps():
    from rich.console import Console

    display = fanout.LiveDisplay(hosts(2), console=Console(width=100, record=True, force_terminal=False))
    display.update(Progress("h0", "run", 2, 5, "user alice"))
    display.done(HostResult("h1", UNCHANGED, 0, 5, 1.0))
    console = Console(width=100, record=True)
    console.print(display._table())
    text = console.export_text()
    assert "2/5 user alice" in text and "running" in text and "0/5 changed" in text


def test_exit_codes():
    ok = HostResult("a", CHANGED, verify_ok=True)
    conclude([ok])
    with pytest.raises(ToolkitError) as info:
        conclude([ok, HostResult("b", UNREACHABLE)])
    assert info.value.exit_code == EXIT_FAILED
    with pytest.raises(ToolkitError) as info:
        conclude([ok, HostResult("b", UNCHANGED, verify_ok=False)])
    assert info.value.exit_code == EXIT_VERIFY_FAILED


def test_root_command_keeps_the_password_off_the_command_line():
    assert root_command("/t/run.sh", is_root=True, password="pw", dry_run=True) == ["bash", "/t/run.sh", "--dry-run"]
    assert root_command("/t/run.sh", is_root=False, password="pw", dry_run=False) == [
        "sudo", "-S", "-p", "", "--", "bash", "/t/run.sh"]
    assert root_command("/t/run.sh", is_root=False, password=None, dry_run=False)[:2] == ["sudo", "-n"]


def test_wrapper_is_valid_bash_and_quotes_paths(tmp_path):
    text = wrapper_text("/tmp/toolkit-apply.x", [("/tmp/toolkit-apply.x/tree0", "/opt/wheel house; id")])
    assert "place /tmp/toolkit-apply.x/tree0 '/opt/wheel house; id' || exit 1" in text
    path = tmp_path / "run.sh"
    path.write_text(text)
    assert subprocess.run(["bash", "-n", str(path)], check=False).returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="runs the wrapper as root without sudo; needs root")
def test_local_apply_streams_classifies_and_places_folders(tmp_path):
    """The local executor end to end with a stand-in setup.sh (it touches nothing on this machine)."""
    src = tmp_path / "wheels"
    (src / "sub").mkdir(parents=True)
    (src / "w-1.0-py3-none-any.whl").write_text("w")
    (src / "secret.whl").symlink_to("/etc/shadow")      # never followed: skipped and noted in the log
    dest = tmp_path / "placed" / "wheelhouse"
    fake = f'test -f {dest}/w-1.0-py3-none-any.whl\necho "[changed] step 1/2: a"\necho "[ok] unchanged  step 2/2: b"\n'
    events: list[Progress] = []
    r = apply_local(Job(script=fake, trees=((str(src), str(dest)),), total=2, log_dir=str(tmp_path / "logs")),
                    progress=events.append)
    assert (r.status, r.steps_changed, r.steps_total) == (CHANGED, 1, 2), r
    assert [e.tag for e in events] == ["changed", "ok"] and (dest / "w-1.0-py3-none-any.whl").read_text() == "w"
    assert sorted(p.name for p in dest.iterdir()) == ["w-1.0-py3-none-any.whl"]
    log = (tmp_path / "logs" / "local.log").read_text()
    assert "[changed] step 1/2: a" in log and "skipped secret.whl (a symbolic link" in log
    r = apply_local(Job(script="echo '[failed] step 1/1: a'\nexit 1\n", total=1, dry_run=True))
    assert (r.status, r.failed_step) == (FAILED, "step 1/1: a")


def test_setup_sh_on_this_machine_gets_none_of_toolkits_own_python_settings():
    """A PYTHONPATH made pip skip packages it saw there (a venv left incomplete); an activated venv's python3 would
    come first on PATH. As sudo's env_reset does for a non-root user, they are left out when toolkit runs as root."""
    from toolkit.executors.local_apply import SECURE_PATH, root_env

    env = root_env({"PYTHONPATH": "/x", "VIRTUAL_ENV": "/v", "PIP_INDEX_URL": "http://i", "PATH": "/v/bin:/usr/bin",
                    "HOME": "/root", "http_proxy": "http://p:3128"})
    assert env == {"HOME": "/root", "http_proxy": "http://p:3128", "PATH": SECURE_PATH}
