"""Run one apply per host in parallel (at most `forks` at a time) and show how each is doing.

A host that fails, cannot be reached or even hits a bug in toolkit gets its own result; the
others carry on. On a terminal a rich Live table shows host, current step N/M and elapsed time;
elsewhere (CI, pipes) each host's step lines are printed as plain `host: line` lines. The final
table (host, result, steps changed, time, verification, and for failures the step and the last
lines of its output) is `summary_lines` / `summary_table`.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from toolkit.executors.inventory import Host
from toolkit.executors.results import BAD, FAILED, HostResult, Progress, ProgressFn
from toolkit.ui import console as make_console
from toolkit.ui import printable, use_colour

if TYPE_CHECKING:
    from rich.live import Live

Work = Callable[[Host, ProgressFn], HostResult]
WAITING = "waiting"


class PlainDisplay:
    """One line per step outcome of any host; safe to call from many threads."""

    SHOWN = ("changed", "would change", "failed", "ok", "connecting", "rebooting")

    def __init__(self, echo: Callable[[str], None]):
        self.echo, self.lock = echo, threading.Lock()

    def __enter__(self) -> PlainDisplay:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def update(self, p: Progress) -> None:
        if p.tag not in self.SHOWN:
            return
        text = f"[{p.tag}] step {p.step}/{p.total}: {p.title}" if p.step else f"{p.tag}..."
        if p.tag == "ok":
            text = f"[ok] unchanged  step {p.step}/{p.total}: {p.title}"
        with self.lock:
            self.echo(f"{p.host}: {text}")

    def done(self, r: HostResult) -> None:
        with self.lock:
            self.echo(f"{r.host}: {r.status} ({r.steps_changed}/{r.steps_total} steps changed, {r.seconds:.1f}s)")


class LiveDisplay:
    """A rich Live table: host, state, current step, elapsed."""

    def __init__(self, hosts: Sequence[Host], console=None):
        self.console = console or make_console()
        self.lock = threading.Lock()
        self.rows: dict[str, list[Any]] = {h.name: [WAITING, "", None] for h in hosts}     # state, step, started
        self.live: Live | None = None

    def _table(self):
        from rich.table import Table

        table = Table(box=None, pad_edge=False)
        for col in ("host", "state", "step", "elapsed"):
            table.add_column(col)
        with self.lock:
            rows = [(h, *v) for h, v in self.rows.items()]
        for host, state, step, started in rows:
            elapsed = "" if started is None or isinstance(started, str) else f"{time.monotonic() - started:.0f}s"
            table.add_row(printable(host), printable(state), printable(step),
                          started if isinstance(started, str) else elapsed)
        return table

    def __enter__(self) -> LiveDisplay:
        from rich.live import Live

        self.live = Live(get_renderable=self._table, console=self.console, refresh_per_second=4, transient=True)
        self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def update(self, p: Progress) -> None:
        with self.lock:
            row = self.rows.setdefault(p.host, [WAITING, "", None])
            if row[2] is None:
                row[2] = time.monotonic()
            row[0] = p.tag if not p.step else ("running" if p.tag in ("run", "ok", "changed") else p.tag)
            if p.step:
                row[1] = f"{p.step}/{p.total} {p.title}"

    def done(self, r: HostResult) -> None:
        with self.lock:
            self.rows[r.host] = [r.status, f"{r.steps_changed}/{r.steps_total} changed", f"{r.seconds:.0f}s"]


def run_all(hosts: Sequence[Host], work: Work, forks: int, display) -> list[HostResult]:
    """work(host, progress) for every host, `forks` at a time; results in the hosts' order."""
    def one(host: Host) -> HostResult:
        started = time.monotonic()
        try:
            result = work(host, display.update)
        except Exception as exc:   # noqa: BLE001 - a bug on one host must not stop the others
            lines = traceback.format_exc().splitlines()[-8:]
            result = HostResult(host=host.name, status=FAILED, seconds=round(time.monotonic() - started, 2),
                                failed_step=f"toolkit error: {type(exc).__name__}", tail=lines)
        display.done(result)
        return result

    with display, ThreadPoolExecutor(max_workers=max(1, min(forks, len(hosts))),
                                     thread_name_prefix="toolkit-apply") as pool:
        return list(pool.map(one, hosts))


def display_for(hosts: Sequence[Host], echo: Callable[[str], None], stream=None):
    stream = stream or sys.stdout
    return LiveDisplay(hosts) if use_colour(stream) else PlainDisplay(echo)


COLUMNS = ("host", "result", "changed", "time", "verify", "reboot")


def _row(r: HostResult) -> tuple[str, ...]:
    reboot = "required" if r.reboot_required else ""
    return (r.host, r.status, f"{r.steps_changed}/{r.steps_total}", f"{r.seconds:.1f}s", r.verify or "-", reboot)


def _details(r: HostResult) -> list[str]:
    if r.status not in BAD:
        return []
    lines = [f"  {r.host}: {r.status} at {r.failed_step or 'unknown step'}"]
    lines += [f"    | {line}" for line in r.tail]
    if r.hint:
        lines.append(f"    hint: {r.hint}")
    if r.log_path:
        lines.append(f"    full log: {r.log_path}")
    return lines


COLLAPSE_AT = 4       # from this many dry-run hosts on, hosts with the same step list share one entry
NAMES_SHOWN = 3


def dry_run_lines(results: Sequence[HostResult]) -> list[str]:
    """A dry run's per-step list: the steps that would change and the guarded steps skipped (with why),
    per host; hosts with the same list grouped once there are many."""
    shown = [r for r in results if r.status not in BAD and (r.would_change or r.skipped)]
    groups: dict[tuple, list[str]] = {}
    for r in shown:
        key = (tuple(r.would_change), tuple(r.skipped)) if len(results) >= COLLAPSE_AT else (r.host,)
        groups.setdefault(key, []).append(r.host)
    lines = []
    for hosts in groups.values():
        r = next(x for x in shown if x.host == hosts[0])
        who = hosts[0] if len(hosts) == 1 else (
            f"{len(hosts)} hosts ({', '.join(hosts[:NAMES_SHOWN])}{', ...' if len(hosts) > NAMES_SHOWN else ''})")
        lines.append(f"  {who}: {len(r.would_change)} step(s) would change" +
                     (f", {len(r.skipped)} skipped" if r.skipped else ""))
        lines += [f"    would change  {step}" for step in r.would_change]
        lines += [f"    skipped       {step}" for step in r.skipped]
    return lines


def summary_lines(results: Sequence[HostResult]) -> list[str]:
    """The final table as plain text, a dry run's step lists and failures' details below it."""
    rows = [COLUMNS, *(tuple(printable(cell) for cell in _row(r)) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() for row in rows]
    lines += dry_run_lines(results)
    for r in results:
        lines += _details(r)
    return lines


def summary_table(results: Sequence[HostResult]):
    """The final table for a terminal (rich renderables)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    colours = {"changed": "yellow", "unchanged": "green", "would-change": "cyan", "failed": "red",
               "unreachable": "red"}
    table = Table(title="apply")
    for col in COLUMNS:
        table.add_column(col)
    for r in results:
        row = [printable(cell) for cell in _row(r)]
        table.add_row(row[0], Text(row[1], style=colours.get(r.status, "")), *row[2:])
    details = [Text(printable(line)) for line in dry_run_lines(results)]
    details += [Text(printable(line)) for r in results for line in _details(r)]
    return Group(table, *details)
