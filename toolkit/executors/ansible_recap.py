"""Read ansible-playbook's default (human) output, line by line, into per-host outcomes.

ansible-playbook runs with the default stdout callback, no colour and JSON results (one line per
result), so what the user sees is exactly what is parsed. The lines that matter:

    TASK [Install apt packages: jq] ***********
    changed: [web1]
    ok: [web2] => (item=x)
    fatal: [web3]: FAILED! => {"changed": false, "msg": "..."}
    fatal: [web4]: UNREACHABLE! => {"changed": false, "msg": "...", "unreachable": true}
    PLAY RECAP ***********
    web1    : ok=12   changed=3    unreachable=0    failed=0    skipped=2    rescued=0    ignored=0

The recap gives the counts; the result lines give which task changed or failed on which host, so
changed tasks map back to plan steps and a failure names its task and shows its message.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

TAIL_LINES = 20
REBOOT_TASK = "toolkit: reboot required"

_HEADER = re.compile(r"^(TASK|RUNNING HANDLER|PLAY|PLAY RECAP)(?: \[(?P<name>.*)\])? \*+\s*$")
_RESULT = re.compile(
    r"^(?P<state>ok|changed|skipping|fatal|failed|rescued): "
    r"\[(?P<host>[^\]\s]+)(?: -> [^\]]*)?\](?P<rest>.*)$")
_RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)(?:\s+skipped=(?P<skipped>\d+))?(?:\s+rescued=(?P<rescued>\d+))?"
    r"(?:\s+ignored=(?P<ignored>\d+))?\s*$")


@dataclass
class HostRecap:
    """What one host did in one ansible-playbook run."""

    name: str
    ok: int = 0
    changed: int = 0
    unreachable: int = 0
    failed: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0
    in_recap: bool = False
    changed_tasks: list[str] = field(default_factory=list)
    failed_task: str | None = None
    messages: list[str] = field(default_factory=list)   # the failure's msg/stderr lines
    lines: list[str] = field(default_factory=list)      # "changed: TASK" lines: the last results
    reboot_required: bool = False
    seconds: float = 0.0

    def status(self, check: bool) -> str:
        """changed|unchanged|would-change|failed|unreachable (no recap line: the run broke: failed)."""
        if self.unreachable:
            return "unreachable"
        if self.failed or not self.in_recap:
            return "failed"
        if self.changed:
            return "would-change" if check else "changed"
        return "unchanged"

    def tail(self) -> list[str]:
        return (self.messages or self.lines)[-TAIL_LINES:]


def _result_messages(rest: str) -> list[str]:
    """The human part of a failed result's JSON (msg, stderr, stdout lines), else the raw text."""
    _, _, payload = rest.partition("=> ")
    try:
        data = json.loads(payload)
    except ValueError:
        return [payload.strip()] if payload.strip() else []
    if not isinstance(data, dict):
        return [payload.strip()]
    out: list[str] = []
    msg = data.get("msg")
    if msg:
        out += str(msg).splitlines()
    for key in ("stderr_lines", "stdout_lines"):
        lines = data.get(key)
        if isinstance(lines, list):
            out += [str(x) for x in lines[-TAIL_LINES:]]
    if not out and data.get("module_stderr"):
        out += str(data["module_stderr"]).splitlines()
    return out or [payload.strip()]


class RecapParser:
    """Feed ansible-playbook's output one line at a time; `hosts` holds what was learnt."""

    def __init__(self, names: list[str] | None = None, clock: Callable[[], float] = time.monotonic,
                 on_result: Callable[[str, str, str | None], None] | None = None):
        self.hosts: dict[str, HostRecap] = {n: HostRecap(n) for n in names or []}
        self.task: str | None = None
        self.in_recap = False
        self.lines: list[str] = []          # the whole output's last lines (for errors before any host)
        self.recap: list[str] = []          # the PLAY RECAP block, to show the user at the end
        self._clock = clock
        self._on_result = on_result     # (host, state, task) for every result line
        self._last_failed: HostRecap | None = None
        self._start = clock()

    def host(self, name: str) -> HostRecap:
        if name not in self.hosts:
            self.hosts[name] = HostRecap(name)
        return self.hosts[name]

    def feed(self, line: str) -> None:
        line = line.rstrip("\r\n")
        self.lines = (self.lines + [line])[-TAIL_LINES:]
        header = _HEADER.match(line)
        if header:
            self.in_recap = header.group(1) == "PLAY RECAP"
            if self.in_recap:
                self.recap = [line]
            self.task = header.group("name") if header.group(1) in ("TASK", "RUNNING HANDLER") else None
            return
        if self.in_recap:
            self._recap(line)
            return
        if line.strip() == "...ignoring" and self._last_failed is not None:
            # The failure just printed was inside `ignore_errors`: the host goes on.
            self._last_failed.failed_task, self._last_failed.messages = None, []
            self._last_failed = None
            return
        result = _RESULT.match(line)
        if result:
            self._result(result.group("state"), result.group("host"), result.group("rest"))

    def _result(self, state: str, name: str, rest: str) -> None:
        host = self.host(name)
        if state not in ("ok", "skipping"):
            host.lines = (host.lines + [f"{state}: {self.task}"])[-TAIL_LINES:]
        host.seconds = self._clock() - self._start
        if state == "changed" and self.task and self.task not in host.changed_tasks:
            host.changed_tasks.append(self.task)
        elif state == "ok" and self.task == REBOOT_TASK:
            host.reboot_required = True
        elif state in ("fatal", "failed") and host.failed_task is None:
            self._last_failed = host
            host.failed_task = self.task
            host.messages = _result_messages(rest)
            if rest.startswith(": UNREACHABLE!"):
                host.unreachable = 1
        if self._on_result is not None:
            self._on_result(name, state, self.task)

    def _recap(self, line: str) -> None:
        m = _RECAP.match(line)
        if not m:
            return
        self.recap.append(line)
        host = self.host(m.group("host"))
        host.in_recap = True
        for key in ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored"):
            setattr(host, key, int(m.group(key) or 0))

