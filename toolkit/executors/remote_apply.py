"""Apply a plan to one SSH host: connect, upload, run setup.sh as root, classify, clean up.

Per host: a private temp folder (`mktemp -d`, 0700) gets setup.sh, the wrapper run.sh and the
CopyTree folders by SFTP; the wrapper runs as root (directly for root, else
`sudo -S -p '' bash run.sh` with the password written to the channel's stdin: never on a command
line, in the remote environment or in a file). Output streams back line by line into the
OutputTracker (live progress, per-host log with the password redacted). The folder is removed at
the end by the wrapper (as root, however the script ends), and by us when the run did not succeed
(sudo refused, connection lost) in case the wrapper never ran.

With --reboot, a host that reports /var/run/reboot-required is rebooted, waited for (a new
boot_id over SSH) and applied again, so what needed the reboot carries on.
"""

from __future__ import annotations

import codecs
import secrets
import shlex
import time
from pathlib import Path

import paramiko

from toolkit.executors.inventory import Host
from toolkit.executors.local_apply import (
    CREDENTIALS,
    Job,
    as_root,
    os_gate,
    password_input,
    root_command,
    tracker_for,
    wrapper_text,
)
from toolkit.executors.os_check import read_os_release
from toolkit.executors.results import (
    FAILED,
    UNREACHABLE,
    HostResult,
    OutputTracker,
    Progress,
    ProgressFn,
    failure,
)
from toolkit.executors.ssh import ConnectError, Connection, SshSettings, transport
from toolkit.outputs.wheels import wheel_files

BOOT_ID = "cat /proc/sys/kernel/random/boot_id"
POLL_SECONDS = 5.0


def apply_remote(job: Job, host: Host, settings: SshSettings, progress: ProgressFn | None = None) -> HostResult:
    tracker, log = tracker_for(job, host, progress)
    start = time.monotonic()
    try:
        result = _attempt(job, host, settings, tracker, start)
        if result.reboot_required and job.reboot and result.ok and not job.dry_run:
            result = _reboot_and_rerun(job, host, settings, tracker, start, progress)
        return result
    finally:
        if log is not None:
            log.close()


def _attempt(job: Job, host: Host, settings: SshSettings, tracker: OutputTracker, start: float) -> HostResult:
    def elapsed() -> float:
        return time.monotonic() - start

    _say(tracker, host, "connecting")
    try:
        conn = Connection(host, settings)
    except ConnectError as exc:
        for line in exc.lines:
            tracker.note(line)
        return failure(host.name, UNREACHABLE, exc.step, exc.lines, elapsed(), tracker.log_path, job.total)
    with conn:
        tmp, ran = None, False
        try:
            with conn.client.open_sftp() as sftp:
                if job.expect_os is not None:
                    refused = os_gate(job, host.name, read_os_release(sftp.open), tracker, elapsed())
                    if refused is not None:
                        return refused
                _say(tracker, host, "uploading")
                script = _stage_bundle(sftp, conn, job, tracker) if job.bundle else job.script
                tmp = _make_temp(sftp)
                for skipped in _upload(sftp, tmp, job, script):
                    tracker.note(f"wheelhouse: skipped {skipped}")
            command = shlex.join(root_command(f"{tmp}/run.sh", is_root=host.is_root, password=job.password,
                                              dry_run=job.dry_run, allow_format=job.allow_format))
            tracker.note(f"running {command}")
            rc = _stream(conn, command, job.password, tracker)
            ran = rc == 0          # success: the wrapper ran and removed the folder itself, as root
            return tracker.result(None if rc < 0 else rc, elapsed())
        except (paramiko.SSHException, OSError, EOFError) as exc:
            if conn.alive:
                tracker.note(f"could not upload to {tmp}: {exc}")
                return failure(host.name, FAILED, "upload", list(tracker.tail), elapsed(), tracker.log_path,
                               job.total)
            return tracker.result(None, elapsed(), lost=str(exc) or type(exc).__name__)
        finally:
            if tmp and not ran and conn.alive:
                conn.run(f"rm -rf -- {shlex.quote(tmp)}")


def _say(tracker: OutputTracker, host: Host, what: str) -> None:
    if tracker.progress:
        tracker.progress(Progress(host.name, what))


def _make_temp(sftp: paramiko.SFTPClient) -> str:
    """A fresh private folder: SFTP mkdir fails if the name exists, so nothing in /tmp is reused."""
    path = f"/tmp/toolkit-apply.{secrets.token_hex(8)}"
    sftp.mkdir(path, 0o700)
    sftp.chmod(path, 0o700)
    return path


def _stage_bundle(sftp: paramiko.SFTPClient, conn: Connection, job: Job, tracker: OutputTracker) -> str:
    """apply --bundle: the bundle made whole on the host (bundle_upload); the setup.sh that runs its install.sh."""
    from toolkit.executors import bundle_upload

    assert job.bundle is not None
    step = [0]

    def on_bytes(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth > step[0]:
            step[0] = tenth
            tracker.note(f"bundle: {done / 1e6:.1f} of {total / 1e6:.1f} MB there")

    sent = bundle_upload.stage(sftp, conn.run, Path(job.bundle), tracker.note, on_bytes)
    tracker.note(f"bundle at {sent.remote}: {len(sent.sent)} files sent, {len(sent.resumed)} resumed, "
                 f"{len(sent.skipped)} already there with the right hash (not sent again); "
                 f"{sent.bytes_sent / 1e6:.1f} MB sent")
    return bundle_upload.launcher(sent.remote)


def _upload(sftp: paramiko.SFTPClient, tmp: str, job: Job, script: str) -> list[str]:
    """setup.sh, run.sh and the wheelhouse folders; returns the wheelhouse entries left out."""
    trees = [(f"{tmp}/tree{i}", dest) for i, (_src, dest) in enumerate(job.trees)]
    for name, text in (("setup.sh", script), ("run.sh", wrapper_text(tmp, trees))):
        with sftp.open(f"{tmp}/{name}", "w") as fh:
            fh.write(text.encode())
        sftp.chmod(f"{tmp}/{name}", 0o600)
    skipped: list[str] = []
    if job.credentials:
        _put_credentials(sftp, f"{tmp}/{CREDENTIALS}", job.credentials)
    if not job.dry_run:
        for (src, _dest), (remote, _) in zip(job.trees, trees, strict=False):
            _put_tree(sftp, Path(src), remote, skipped)
    return skipped


def _put_credentials(sftp: paramiko.SFTPClient, folder: str, files: tuple[tuple[str, str], ...]) -> None:
    """Credential files over SFTP: folder 0700, each file made 0600 before a byte is written; never argv or env."""
    sftp.mkdir(folder, 0o700)
    sftp.chmod(folder, 0o700)
    for name, text in files:
        path = f"{folder}/{name}"
        with sftp.open(path, "w") as fh:
            fh.chmod(0o600)
            fh.write(text.encode())


def _put_tree(sftp: paramiko.SFTPClient, local: Path, remote: str, skipped: list[str]) -> None:
    """A wheelhouse: only its regular wheel/sdist files, never through a symlink (outputs.wheels)."""
    sftp.mkdir(remote, 0o755)
    for name, fh, size in wheel_files(local, skipped):
        target = f"{remote}/{name}"
        sftp.putfo(fh, target, file_size=size)
        sftp.chmod(target, 0o644)


def _stream(conn: Connection, command: str, password: str | None, tracker: OutputTracker) -> int:
    """Run `command`, feeding its output to the tracker as it comes; -1 when the connection died."""
    channel = transport(conn.client).open_session(timeout=30)
    channel.set_combine_stderr(True)
    channel.exec_command(command)
    if password:
        channel.sendall(password_input(password))
    channel.shutdown_write()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while data := channel.recv(65536):
        tracker.feed(decoder.decode(data))
    tracker.feed(decoder.decode(b"", final=True))
    return channel.recv_exit_status()


def _boot_id(host: Host, settings: SshSettings) -> str | None:
    try:
        with Connection(host, settings) as conn:
            rc, out = conn.run(BOOT_ID, timeout=30)
            return out.strip() if rc == 0 else None
    except (ConnectError, paramiko.SSHException, OSError, EOFError):
        return None


def _reboot_and_rerun(job: Job, host: Host, settings: SshSettings, tracker: OutputTracker, start: float,
                      progress: ProgressFn | None) -> HostResult:
    before = _boot_id(host, settings)
    _say(tracker, host, "rebooting")
    tracker.note("rebooting (--reboot), then applying again")
    try:
        with Connection(host, settings) as conn:
            command = shlex.join(as_root(["systemctl", "reboot"], is_root=host.is_root, password=job.password))
            channel = transport(conn.client).open_session(timeout=30)
            channel.exec_command(command)
            if job.password and not host.is_root:
                channel.sendall(password_input(job.password))
            channel.shutdown_write()
            channel.status_event.wait(30)
    except (ConnectError, paramiko.SSHException, OSError, EOFError) as exc:
        tracker.note(f"reboot: the connection ended ({exc or type(exc).__name__}), as expected")
    deadline = time.monotonic() + job.reboot_timeout
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        now = _boot_id(host, settings)
        if now is not None and now != before:
            tracker.note("the host is back after its reboot")
            tracker.reboot_required = False
            return _attempt(job, host, settings, tracker, start)
    tracker.note(f"the host did not come back within {job.reboot_timeout:.0f}s of the reboot")
    return failure(host.name, UNREACHABLE, "reboot", list(tracker.tail), time.monotonic() - start,
                   tracker.log_path, job.total)
