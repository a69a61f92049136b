"""Hostile and careless outputs (issue 12): no command that writes deletes or overwrites what toolkit
did not write, writes through a symbolic link, hangs on a pipe or device, or copies a wheelhouse's
links and specials. Classes: destructive output folder; path and file-type abuse for outputs;
wheelhouse abuse; apply log folders. Each case runs the real CLI entry point (`toolkit.cli.main`) in this
process; those where a regression would hang (pipes, devices) run it in a subprocess with a time limit."""

from __future__ import annotations

import contextlib
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.cli import main
from toolkit.executors import logdirs
from toolkit.executors.results import open_log

REPO = Path(__file__).resolve().parents[3]
PROFILE = str(REPO / "profiles" / "datascience-cpu.yaml")


def toolkit(*args: str, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    """`toolkit ARGS` through its entry point in this process: exit status and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.update({"NO_COLOR": "1", **(env or {})})
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def toolkit_process(*args: str) -> subprocess.CompletedProcess:
    """`toolkit ARGS` in a subprocess with a time limit: for cases where a regression would hang."""
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=120, env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPO)})


def tree(root: Path) -> dict[str, bytes | str]:
    return {str(p.relative_to(root)): (os.readlink(p) if p.is_symlink() else p.read_bytes() if p.is_file() else "dir")
            for p in sorted(root.rglob("*"))}


def refused(res: subprocess.CompletedProcess, *names: str) -> None:
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    for name in names:
        assert name in res.stderr, res.stderr


# --- destructive output folder ------------------------------------------------------------------

@pytest.mark.parametrize("rel", ["Dockerfile", "tests/conftest.py", ".devcontainer/devcontainer.json", "setup.sh",
                                 "ansible/playbook.yml", "files/profile.json", "k8s/kustomization.yaml",
                                 "apptainer/datascience-cpu.def"])
def test_render_into_a_project_keeps_the_users_files(tmp_path, rel):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / rel).write_text("the user's own\n")
    before = tree(tmp_path)
    res = toolkit("render", PROFILE, "-o", str(tmp_path))
    refused(res, rel, "--force")
    assert tree(tmp_path) == before
    forced = toolkit("render", PROFILE, "-o", str(tmp_path), "--force")
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"


def test_render_twice_replaces_its_own_output_but_not_an_edit(tmp_path):
    assert toolkit("render", PROFILE, "-o", str(tmp_path)).returncode == 0
    assert toolkit("render", PROFILE, "-o", str(tmp_path)).returncode == 0
    with open(tmp_path / "tests" / "conftest.py", "a") as fh:
        fh.write("# my fixture\n")
    refused(toolkit("render", PROFILE, "-o", str(tmp_path)), "tests/conftest.py")
    assert "# my fixture" in (tmp_path / "tests" / "conftest.py").read_text()


def test_build_keep_context_dot_in_a_project_deletes_nothing(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "src.py").write_text("print(1)\n")
    before = tree(tmp_path)
    # refused before the engine is reached: DOCKER_HOST points nowhere
    res = toolkit("build", PROFILE, "-t", "t:1", "--keep-context", ".", cwd=tmp_path,
                  env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    refused(res, "Dockerfile", "--force")
    assert tree(tmp_path) == before


def test_render_into_the_profiles_own_wheelhouse_folder_is_refused_even_forced(tmp_path):
    (tmp_path / "wheelhouse").mkdir()
    (tmp_path / "wheelhouse" / "a-1.0-py3-none-any.whl").write_bytes(b"wheel")
    profile = tmp_path / "p.yaml"
    profile.write_text(f"name: p\nextends: {PROFILE}\nnetwork:\n  wheelhouse: wheelhouse\n")
    for extra in ((), ("--force",)):
        res = toolkit("render", str(profile), "--format", "dockerfile", "-o", str(tmp_path), *extra)
        refused(res, "wheelhouse")
        assert (tmp_path / "wheelhouse" / "a-1.0-py3-none-any.whl").read_bytes() == b"wheel"


def test_save_facts_and_junit_keep_an_existing_file(tmp_path):
    mine = tmp_path / "report.xml"
    mine.write_text("<mine/>")
    refused(toolkit("verify", PROFILE, "-t", "local", "--junit", str(mine)), "report.xml", "--force")
    refused(toolkit("doctor", "--save-facts", str(mine)), "report.xml", "--force")
    assert mine.read_text() == "<mine/>"


def test_apply_log_dir_keeps_a_user_file_named_like_a_log(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    name = logdirs.log_name("deploy@127.0.0.1:1")
    (logs / name).write_text("mine\n")
    res = toolkit("apply", PROFILE, "--host", "ssh://deploy@127.0.0.1:1", "--log-dir", str(logs), "--no-verify")
    refused(res, name, "--force")
    assert (logs / name).read_text() == "mine\n"


# --- path and file-type abuse for outputs -----------------------------------------------------

def test_output_folder_that_is_a_symlink_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").symlink_to(elsewhere)
    refused(toolkit("render", PROFILE, "-o", str(tmp_path / "out")), "symbolic link")
    assert not any(elsewhere.iterdir())


def test_output_file_that_is_a_symlink_is_never_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "Dockerfile").symlink_to(victim)
    refused(toolkit("render", PROFILE, "--format", "dockerfile", "-o", str(out)), "Dockerfile")
    assert toolkit("render", PROFILE, "--format", "dockerfile", "-o", str(out), "--force").returncode == 0
    assert victim.read_text() == "precious\n" and not (out / "Dockerfile").is_symlink()


def test_symlinked_subfolder_is_refused_even_forced(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "tests").symlink_to(outside)
    for extra in ((), ("--force",)):
        refused(toolkit("render", PROFILE, "-o", str(out), *extra), "tests is a symbolic link")
    assert not any(outside.iterdir()) and not (out / "Dockerfile").exists()


@pytest.mark.process
def test_output_that_is_a_fifo_or_under_a_file_is_exit_2_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "plain").write_text("x")
    refused(toolkit_process("render", PROFILE, "-o", str(tmp_path / "pipe")), "named pipe")
    refused(toolkit("render", PROFILE, "-o", str(tmp_path / "plain" / "sub")), "Not a directory")
    refused(toolkit_process("doctor", "--save-facts", str(tmp_path / "pipe"), "--force"), "named pipe")
    assert stat.S_ISFIFO((tmp_path / "pipe").lstat().st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_forced_save_facts_never_replaces_a_device(tmp_path):
    dev = tmp_path / "null"
    os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    refused(toolkit_process("doctor", "--save-facts", str(dev), "--force"), "a device")
    assert stat.S_ISCHR(dev.lstat().st_mode)


# --- wheelhouse with symlinks, FIFO, device --------------------------------------------------------

def test_wheelhouse_links_pipes_and_devices_are_skipped(tmp_path):
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY\n")
    wh = tmp_path / "wheels"
    (wh / "sub").mkdir(parents=True)
    (wh / "good-1.0-py3-none-any.whl").write_bytes(b"PK wheel")
    (wh / "good-1.0.tar.gz").write_bytes(b"sdist")
    (wh / "key.whl").symlink_to(secret)
    (wh / "zero.whl").symlink_to("/dev/zero")
    (wh / "loop.whl").symlink_to(wh / "loop.whl")
    (wh / "up.whl").symlink_to(wh)
    os.mkfifo(wh / "pipe.whl")
    if os.geteuid() == 0:
        os.mknod(wh / "dev.whl", stat.S_IFCHR | 0o600, os.makedev(1, 5))    # /dev/zero's numbers
    profile = tmp_path / "p.yaml"
    profile.write_text(f"name: p\nextends: {PROFILE}\nnetwork:\n  wheelhouse: wheels\n")
    res = toolkit("render", str(profile), "-o", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    for copy in (tmp_path / "out" / "wheelhouse", tmp_path / "out" / "ansible" / "files" / "wheelhouse"):
        assert sorted(p.name for p in copy.iterdir()) == ["good-1.0-py3-none-any.whl", "good-1.0.tar.gz"], copy
        assert all(not p.is_symlink() and p.is_file() for p in copy.iterdir())
    for name in ("key.whl", "zero.whl", "loop.whl", "pipe.whl", "sub"):
        assert f"skipped {name}" in res.stderr, res.stderr
    assert "PRIVATE KEY" not in res.stderr + res.stdout


# --- apply log folders ---------------------------------------------------------------------------

def test_hosts_that_sanitise_alike_get_their_own_logs(tmp_path):
    names = ["a/b", "a_b", "a b", "a%2Fb", "a\x1bb", "..", ".", "x" * 300, "x" * 301]
    paths = set()
    for host in names:
        log, path = open_log(str(tmp_path), host)
        log.write(host + "\n")
        log.close()
        paths.add(path)
    assert len(paths) == len(names) and all(Path(p).parent == tmp_path for p in paths)
    assert oct(Path(next(iter(paths))).stat().st_mode & 0o777) == "0o600"


def test_a_symlink_planted_as_a_log_is_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "web1.log").symlink_to(victim)
    with pytest.raises(OSError):
        open_log(str(tmp_path / "logs"), "web1")
    assert victim.read_text() == "precious\n"


def test_apply_logs_live_in_the_state_folder_and_old_runs_are_pruned(tmp_path):
    root = logdirs.state_root({"XDG_STATE_HOME": str(tmp_path / "state")})
    assert root == tmp_path / "state" / "toolkit" / "apply-logs"
    assert logdirs.state_root({"XDG_STATE_HOME": "relative"}).is_absolute()
    root.mkdir(parents=True)
    foreign = root / "20000101-000000-000000-abcd"          # looks like a run, but toolkit did not make it
    foreign.mkdir()
    runs = [logdirs.new_run(root, keep=3) for _ in range(5)]
    kept = sorted(p for p in root.iterdir() if p != foreign)
    assert len(kept) == 3 and set(kept) <= set(runs) and runs[-1] in kept
    assert foreign.is_dir() and oct(runs[-1].stat().st_mode & 0o777) == "0o700"
