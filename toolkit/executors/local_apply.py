"""`apply --local`: run the plan's setup.sh on this machine, as root (sudo when not root).

Also the pieces the SSH executor shares: the `Job` (what to run), the wrapper script that runs
setup.sh as root, and the root command. The wrapper puts uploaded folders (CopyTree) in place,
runs setup.sh with stdin closed, says when /var/run/reboot-required exists, and removes its
private temp folder however it ends. The sudo password only ever goes to sudo's stdin.
"""

from __future__ import annotations

import codecs
import io
import os
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from toolkit.executors import os_check
from toolkit.executors.inventory import LOCAL, Host
from toolkit.executors.results import FAILED, REBOOT_MARK, HostResult, OutputTracker, ProgressFn, failure, open_log
from toolkit.model.plan import Plan
from toolkit.model.steps import CopyTree
from toolkit.outputs.wheels import copy_wheels
from toolkit.render import script as script_render

CREDENTIALS = "credentials"          # folder of credential files in the private temp folder (setup.sh --credentials)
WRAPPER = """\
#!/usr/bin/env bash
# toolkit apply: put uploaded folders in place, run setup.sh, report a pending reboot, clean up.
set -u
dir={dir}
trap 'rm -rf -- "$dir"' EXIT
trap 'exit 129' HUP
trap 'exit 141' PIPE
exec </dev/null
place() {{
  [ -d "$2" ] && return 0
  mkdir -p -- "$(dirname -- "$2")" && rm -rf -- "$2.toolkit-new" && cp -R -- "$1" "$2.toolkit-new" \\
    && chown -R 0:0 -- "$2.toolkit-new" && mv -- "$2.toolkit-new" "$2"
}}
if [ "${{1:-}}" != --dry-run ]; then
{places}  :
fi
creds=()
[ -d "$dir/{creds}" ] && creds=("--credentials=$dir/{creds}")
bash "$dir/setup.sh" "${{creds[@]}}" "$@"
rc=$?
if [ -e /var/run/reboot-required ]; then
  echo "{mark} (/var/run/reboot-required exists)"
fi
exit "$rc"
"""


@dataclass(frozen=True)
class Job:
    """One apply, the same for every host."""

    script: str                                  # setup.sh text
    trees: tuple[tuple[str, str], ...] = ()      # (folder on this machine, dest on the target)
    total: int = 0
    dry_run: bool = False
    password: str | None = None                  # sudo (and ssh login) password
    log_dir: str | None = None
    reboot: bool = False
    reboot_timeout: float = 600.0
    expect_os: tuple[str, str] | None = None     # (distro, version) the profile is for
    allow_os_mismatch: bool = False
    credentials: tuple[tuple[str, str], ...] = ()   # (file name, text) for setup.sh --credentials, 0600
    masked: tuple[str, ...] = ()                     # values the logs must never show (the credentials')
    allow_format: bool = False                       # setup.sh --allow-format (apply --allow-format)
    bundle: str | None = None                        # apply --bundle DIR: staged on SSH hosts, script runs its install.sh


def job_for(plan: Plan, **options) -> Job:
    trees = tuple((s.source, s.dest) for s in plan.steps if isinstance(s, CopyTree))
    return Job(script=script_render.render(plan).files["setup.sh"], trees=trees, total=len(plan.steps), **options)


def os_gate(job: Job, host: str, os_release: str, tracker: OutputTracker, seconds: float) -> HostResult | None:
    """Compare the host's os-release with the profile's OS: a refusal (as a failed result) when the
    family differs and that is not allowed; a warning on the result when only the release differs."""
    if job.expect_os is None:
        return None
    verdict = os_check.compare(*job.expect_os, os_check.parse_os_release(os_release), host)
    if verdict.kind == "family" and not job.allow_os_mismatch:
        text = f"{verdict.message}: its packages and repositories would not fit; nothing was changed there"
        tracker.note(text)
        return failure(host, FAILED, os_check.REFUSED_STEP, [text], seconds, tracker.log_path, job.total)
    if verdict.kind != "ok":
        text = verdict.message + (f"; applying anyway ({os_check.OVERRIDE})" if verdict.kind == "family" else "")
        tracker.note(text)
        tracker.warnings.append(text)
    return None


def write_credentials(tmp: Path, files: tuple[tuple[str, str], ...]) -> None:
    """tmp/credentials/NAME, each created 0600 (never readable by others, not even for a moment)."""
    if not files:
        return
    folder = tmp / CREDENTIALS
    folder.mkdir(mode=0o700)
    for name, text in files:
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)


def wrapper_text(tmp: str, trees: list[tuple[str, str]]) -> str:
    """run.sh for a private temp folder `tmp`; trees: (folder on the target, dest) to put in place."""
    places = "".join(f"  place {shlex.quote(src)} {shlex.quote(dest)} || exit 1\n" for src, dest in trees)
    return WRAPPER.format(dir=shlex.quote(tmp), places=places, mark=REBOOT_MARK, creds=CREDENTIALS)


def staged_trees(job: Job, tmp: Path, tracker: OutputTracker) -> list[tuple[str, str]]:
    """The wheelhouse folders, copied into tmp first: only regular wheel/sdist files, no symlinks
    (toolkit.outputs.wheels); what was left out is noted in the log. None in a dry run."""
    if job.dry_run:
        return []
    trees = []
    for n, (src, dest) in enumerate(job.trees):
        copied = copy_wheels(Path(src), tmp / f"tree{n}")
        for skipped in copied.skipped:
            tracker.note(f"wheelhouse {src}: skipped {skipped}")
        trees.append((str(tmp / f"tree{n}"), dest))
    return trees


SECURE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TOOLKIT_OWN = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV", "CONDA_PREFIX")


def root_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """setup.sh's environment on this machine: toolkit's own interpreter settings left out (a PYTHONPATH would
    make pip skip packages it sees there; an activated venv's python3 would come first on PATH), PATH as sudo's
    secure_path gives it (when not root, sudo resets the environment itself)."""
    env = {k: v for k, v in (os.environ if environ is None else environ).items()
           if k not in TOOLKIT_OWN and not k.startswith("PIP_")}
    return env | {"PATH": SECURE_PATH}


def as_root(argv: list[str], *, is_root: bool, password: str | None) -> list[str]:
    """argv run as root; with a password, sudo reads it from stdin (-S), its prompt silenced."""
    if is_root:
        return argv
    return ["sudo", "-S", "-p", "", "--", *argv] if password else ["sudo", "-n", "--", *argv]


def root_command(run_sh: str, *, is_root: bool, password: str | None, dry_run: bool,
                 allow_format: bool = False) -> list[str]:
    flags = (["--dry-run"] if dry_run else []) + (["--allow-format"] if allow_format else [])
    return as_root(["bash", run_sh, *flags], is_root=is_root, password=password)


def password_input(password: str | None) -> bytes:
    return (password + "\n").encode() if password else b""


def tracker_for(job: Job, host: Host, progress: ProgressFn | None):
    """(tracker, log file): the per-host log opened in job.log_dir, the password redacted."""
    log, log_path = open_log(job.log_dir, host.name)
    tracker = OutputTracker(host.name, job.total, dry_run=job.dry_run, log=log, log_path=log_path,
                            secrets=(job.password or "", *job.masked), progress=progress)
    return tracker, log


def apply_local(job: Job, host: Host = LOCAL, progress: ProgressFn | None = None) -> HostResult:
    tracker, log = tracker_for(job, host, progress)
    start = time.monotonic()
    try:
        os_release = os_check.read_os_release(lambda path: open(path, "rb"))
        refused = os_gate(job, host.name, os_release, tracker, time.monotonic() - start)
        if refused is not None:
            return refused
        with tempfile.TemporaryDirectory(prefix="toolkit-apply.", ignore_cleanup_errors=True) as tmp:
            (Path(tmp) / "setup.sh").write_text(job.script, encoding="utf-8")
            write_credentials(Path(tmp), job.credentials)
            (Path(tmp) / "run.sh").write_text(wrapper_text(tmp, staged_trees(job, Path(tmp), tracker)),
                                              encoding="utf-8")
            argv = root_command(f"{tmp}/run.sh", is_root=os.geteuid() == 0, password=job.password,
                                dry_run=job.dry_run, allow_format=job.allow_format)
            tracker.note(f"running setup.sh{' --dry-run' if job.dry_run else ''} on this machine")
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    env=root_env())
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(password_input(job.password))
                proc.stdin.close()
            except BrokenPipeError:
                pass
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            stdout = cast(io.BufferedReader, proc.stdout)     # unbuffered pipe: read1 returns what is there
            while data := stdout.read1(65536):
                tracker.feed(decoder.decode(data))
            tracker.feed(decoder.decode(b"", final=True))
            rc = proc.wait()
        return tracker.result(rc, time.monotonic() - start)
    finally:
        if log is not None:
            log.close()
