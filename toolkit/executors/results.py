"""What one host's apply came to, and how setup.sh's output turns into it.

``HostResult`` is shared by every engine (native SSH, local, Ansible). ``OutputTracker`` reads
setup.sh's lines as they stream in (``[run]``, ``[changed]``, ``[ok] unchanged``, ``[would change]``,
``[failed]`` step N/M), reports progress, keeps the last lines, writes the per-host log with the
secrets redacted and finally classifies the run.
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from toolkit import redact
from toolkit.executors.failure_hints import diagnose
from toolkit.executors.logdirs import LOG_HEADER, log_name

CHANGED = "changed"
UNCHANGED = "unchanged"
FAILED = "failed"
UNREACHABLE = "unreachable"
WOULD_CHANGE = "would-change"
STATUSES = (CHANGED, UNCHANGED, FAILED, UNREACHABLE, WOULD_CHANGE)
BAD = (FAILED, UNREACHABLE)

TAIL_LINES = 12
REDACTED = "********"
REBOOT_MARK = "toolkit: reboot required"
STEP_LINE = re.compile(r"^\[(?P<tag>ok|run|changed|would change|failed)\](?: unchanged)?\s+"
                       r"step (?P<n>\d+)/(?P<m>\d+): (?P<title>.*)$")
# a guarded GPU step with nothing to do here: "[skipped] no NVIDIA GPU (...)  step N/M: title"
SKIP_LINE = re.compile(r"^\[skipped\] (?P<why>.*?)\s+step (?P<n>\d+)/(?P<m>\d+): (?P<title>.*)$")


@dataclass
class HostResult:
    host: str
    status: str                      # one of STATUSES
    steps_changed: int = 0           # steps changed (or, in a dry run, that would change)
    steps_total: int = 0
    seconds: float = 0.0
    failed_step: str | None = None
    tail: list[str] = field(default_factory=list)
    log_path: str | None = None
    reboot_required: bool = False
    verify: str | None = None        # set by apply after verification: "passed ..." / "FAILED ..."
    verify_ok: bool | None = None
    would_change: list[str] = field(default_factory=list)   # dry run: "step N/M: title" of each
    skipped: list[str] = field(default_factory=list)        # "step N/M: title (why)" of guarded steps skipped
    warnings: list[str] = field(default_factory=list)       # e.g. the host runs another OS release
    hint: str | None = None          # the likely cause of a failure (untrusted TLS proxy...), from its output

    @property
    def ok(self) -> bool:
        return self.status not in BAD


@dataclass(frozen=True)
class Progress:
    """A step line of one host, for the live display."""

    host: str
    tag: str          # ok | run | changed | would change | failed | connecting | uploading | rebooting ...
    step: int = 0
    total: int = 0
    title: str = ""


ProgressFn = Callable[[Progress], None]


def redactor(secrets: tuple[str, ...]) -> Callable[[str], str]:
    """A line filter: every secret value and the credentials of every URL masked."""
    live = tuple(s for s in secrets if s)

    def mask(text: str) -> str:
        for secret in live:          # a sudo password is masked whatever its length
            text = text.replace(secret, REDACTED)
        return redact.url(text)
    return mask


class OutputTracker:
    """Consumes setup.sh output for one host; `result()` classifies the run."""

    def __init__(self, host: str, total: int, *, dry_run: bool = False, log: IO[str] | None = None,
                 log_path: str | None = None, secrets: tuple[str, ...] = (), progress: ProgressFn | None = None):
        self.host, self.total, self.dry_run = host, total, dry_run
        self.log, self.log_path, self.progress = log, log_path, progress
        self.redact = redactor(secrets)
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.changed = 0
        self.current = ""            # "step N/M: title" of the step running now
        self.failed_step: str | None = None
        self.reboot_required = False
        self.would_change: list[str] = []
        self.skipped: list[str] = []
        self.warnings: list[str] = []
        self.step_lines: deque[str] = deque(maxlen=400)     # output of the step running now
        self._partial = ""

    def note(self, text: str) -> None:
        """A line of the executor's own (connecting, uploading...), logged and kept in the tail."""
        self.line(f"toolkit: {text}")

    def feed(self, data: str) -> None:
        """A chunk of output; complete lines are handled, the rest waits for the next chunk."""
        lines = (self._partial + data).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self.line(line.rstrip("\r"))

    def flush(self) -> None:
        if self._partial:
            self.line(self._partial)
            self._partial = ""

    def line(self, raw: str) -> None:
        text = self.redact(raw)
        if self.log is not None:
            self.log.write(text + "\n")
            self.log.flush()
        self.tail.append(text)
        self.step_lines.append(text)
        if text.startswith(REBOOT_MARK):
            self.reboot_required = True
        m = STEP_LINE.match(text)
        if not m:
            if s := SKIP_LINE.match(text):
                self.skipped.append(f"step {s['n']}/{s['m']}: {s['title']} ({s['why']})")
            return
        tag, n, m_total, title = m["tag"], int(m["n"]), int(m["m"]), m["title"]
        if tag in ("run", "ok", "would change"):
            self.step_lines.clear()
        self.total = m_total
        self.current = f"step {n}/{m_total}: {title}"
        if tag == "changed":
            self.changed += 1
        elif tag == "would change":
            self.changed += 1
            self.would_change.append(self.current)
        elif tag == "failed":
            self.failed_step = re.sub(r" \(exit status \d+ at line \d+ of setup\.sh\)$", "", self.current)
        if self.progress:
            self.progress(Progress(self.host, tag, n, m_total, title))

    def result(self, exit_code: int | None, seconds: float, lost: str | None = None) -> HostResult:
        """exit_code None or `lost` set: the connection went away before the script ended."""
        self.flush()
        if lost is not None or exit_code is None or exit_code < 0:
            self.note(f"connection lost{f' ({lost})' if lost else ''}"
                      f"{f' during {self.current}' if self.current else ''}; run apply again to continue")
            status, failed = UNREACHABLE, self.current or "connection"
        elif exit_code != 0:
            status, failed = FAILED, self.failed_step or self.current or f"setup.sh (exit status {exit_code})"
        else:
            status = (WOULD_CHANGE if self.dry_run else CHANGED) if self.changed else UNCHANGED
            failed = None
        return HostResult(host=self.host, status=status, steps_changed=self.changed, steps_total=self.total,
                          seconds=round(seconds, 2), failed_step=failed,
                          tail=list(self.tail) if status in BAD else [],
                          log_path=self.log_path, reboot_required=self.reboot_required,
                          would_change=list(self.would_change) if self.dry_run else [], skipped=list(self.skipped),
                          warnings=list(self.warnings),
                          hint=diagnose(self.step_lines) if status in BAD else None)


def open_log(log_dir: str | None, host: str) -> tuple[IO[str] | None, str | None]:
    """The per-host log file (mode 0600) in log_dir, or (None, None) without a log dir.

    Its name is unique per host (logdirs.log_name); its first line is toolkit's header, so a later
    run may replace it. apply checks --log-dir beforehand (outputs.check_output): what is there and
    not toolkit's is refused, and a symbolic link put there is never followed (O_NOFOLLOW)."""
    if not log_dir:
        return None, None
    folder = Path(log_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / log_name(host)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    log = os.fdopen(fd, "w", encoding="utf-8")
    log.write(LOG_HEADER)
    return log, str(path)


def failure(host: str, status: str, step: str, lines: list[str], seconds: float = 0.0,
            log_path: str | None = None, total: int = 0) -> HostResult:
    """A result for a host that never got to run the script (unreachable, refused, broken)."""
    return HostResult(host=host, status=status, steps_total=total, seconds=round(seconds, 2), failed_step=step,
                      tail=lines, log_path=log_path)
