"""`apply --bundle DIR --engine ansible`: the bundle carried to every SSH host over SFTP first (bundle_upload:
resuming by checksum, what is there with the right hash not sent again), `forks` hosts at a time, then the
bundle's own playbook (DIR/ansible/playbook.yml) runs with each host's copy as `toolkit_bundle_dir`.

A host whose copy could not be made whole gets its own failed (or unreachable) result and is left out of
the playbook run; the others carry on. This machine (--local) uses DIR itself. What each transfer did is
printed as it happens and written at the top of the run's ansible-playbook.log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from toolkit.bundle import layout
from toolkit.executors import bundle_upload
from toolkit.executors.inventory import Host
from toolkit.executors.results import FAILED, UNREACHABLE, HostResult, failure
from toolkit.executors.ssh import ConnectError, Connection, SshSettings

VAR = "toolkit_bundle_dir"        # the playbook's variable (toolkit.bundle.playbook.VAR)
STEP = "bundle upload"


@dataclass
class Staged:
    folder: str                                              # the bundle on this machine
    remote: dict[str, str] = field(default_factory=dict)     # host name -> the bundle's folder there
    failed: dict[str, HostResult] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)           # what each transfer did (for the log)


def playbook_dir(folder: str) -> Path:
    return Path(folder) / layout.ANSIBLE


def stage_all(hosts: Sequence[Host], folder: str, settings: SshSettings, forks: int,
              echo: Callable[[str], None], total_steps: int = 0) -> Staged:
    staged = Staged(folder)
    lock = threading.Lock()

    def say(host: Host, text: str) -> None:
        line = f"{host.name}: {text}"
        with lock:
            staged.lines.append(line)
            echo(line)

    def one(host: Host) -> None:
        start = time.monotonic()
        if host.local:
            staged.remote[host.name] = folder
            return
        try:
            staged.remote[host.name] = _stage(host, folder, settings, lambda text: say(host, text))
        except ConnectError as exc:
            for line in exc.lines:
                say(host, line)
            staged.failed[host.name] = failure(host.name, UNREACHABLE, exc.step, exc.lines, time.monotonic() - start,
                                               total=total_steps)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            text = f"the bundle could not be sent: {exc or type(exc).__name__} (apply again: what arrived is kept)"
            say(host, text)
            staged.failed[host.name] = failure(host.name, FAILED, STEP, [text], time.monotonic() - start,
                                               total=total_steps)

    with ThreadPoolExecutor(max(1, forks)) as pool:
        list(pool.map(one, hosts))
    return staged


def _stage(host: Host, folder: str, settings: SshSettings, say: Callable[[str], None]) -> str:
    step = [0]

    def on_bytes(done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth > step[0]:
            step[0] = tenth
            say(f"bundle: {done / 1e6:.1f} of {total / 1e6:.1f} MB there")

    say("connecting (bundle upload)")
    with Connection(host, settings) as conn, conn.client.open_sftp() as sftp:
        sent = bundle_upload.stage(sftp, conn.run, Path(folder), say, on_bytes)
    say(f"bundle at {sent.remote}: {len(sent.sent)} files sent, {len(sent.resumed)} resumed, "
        f"{len(sent.skipped)} already there with the right hash (not sent again); {sent.bytes_sent / 1e6:.1f} MB sent")
    return sent.remote
