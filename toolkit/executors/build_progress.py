"""Follow a docker build: BuildKit `--progress=plain` lines or legacy-builder JSON chunks become
step records (number, instruction, cached, elapsed, output) in one BuildLog, and events for a display.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# "#7 [3/4] RUN ..." or "#7 [builder 3/4] RUN ..."
BK_STEP = re.compile(r"^#(\d+) \[(?:(\S+)\s+)?\s*(\d+)/(\d+)\] (.*)$")
BK_DONE = re.compile(r"^#(\d+) DONE (\d+(?:\.\d+)?)s$")
BK_CACHED = re.compile(r"^#(\d+) CACHED$")
BK_ERROR = re.compile(r"^#(\d+) ERROR:? ?(.*)$")
BK_OUTPUT = re.compile(r"^#(\d+) \d+\.\d+ (.*)$")
BK_VERTEX = re.compile(r"^#(\d+) ")
LEGACY_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
LEGACY_BUILT = re.compile(r"^Successfully built ([0-9a-f]+)$")
LEGACY_NOISE = re.compile(r"^( ---> (Running in [0-9a-f]+|[0-9a-f]{12})|Removing intermediate container .*|"
                          r"Successfully tagged .*)$")

OUTPUT_TAIL = 40
MOUNT_FLAG = re.compile(r"--(?:mount|chmod|chown|link)=\S+\s*")


def brief(instruction: str, width: int = 100) -> str:
    """An instruction for people: one line, without --mount/--chmod flags, cut to width."""
    text = " ".join(MOUNT_FLAG.sub("", instruction).split())
    return text if len(text) <= width else text[: width - 3] + "..."


@dataclass
class StepRecord:
    number: int
    total: int
    instruction: str
    stage: str | None = None
    started: float = 0.0
    elapsed: float | None = None
    cached: bool = False
    done: bool = False
    failed: bool = False
    output: deque = field(default_factory=lambda: deque(maxlen=OUTPUT_TAIL))

    @property
    def label(self) -> str:
        prefix = f"{self.stage} " if self.stage and self.stage != "stage-0" else ""
        return f"{prefix}{self.number}/{self.total}"

    @property
    def is_from(self) -> bool:
        return self.instruction.upper().startswith("FROM ")


@dataclass
class Event:
    kind: str                 # "start" | "cached" | "done" | "error" | "output"
    step: StepRecord | None
    text: str = ""


@dataclass
class BuildLog:
    """What a build did, step by step; filled by a parser."""

    steps: list[StepRecord] = field(default_factory=list)
    tail: deque = field(default_factory=lambda: deque(maxlen=200))   # every relevant line
    error: str | None = None
    image_id: str | None = None

    @property
    def counted(self) -> list[StepRecord]:
        """Steps that build something (FROM only names the base image)."""
        return [s for s in self.steps if not s.is_from]

    @property
    def cached(self) -> int:
        return sum(1 for s in self.counted if s.cached)

    @property
    def total(self) -> int:
        return len(self.counted)

    @property
    def failed_step(self) -> StepRecord | None:
        failed = [s for s in self.steps if s.failed]
        return failed[-1] if failed else None

    def failure_lines(self, limit: int = 20) -> list[str]:
        """The last lines worth showing when the build failed: the failing step's own output first."""
        step = self.failed_step
        lines = list(step.output) if step and step.output else list(self.tail)
        if self.error and (not lines or lines[-1] != self.error):
            lines.append(self.error)
        return lines[-limit:]


Sink = Callable[[Event], None]


class _Parser:
    def __init__(self, log: BuildLog, sink: Sink | None = None, clock=time.monotonic):
        self.log, self.sink, self.clock = log, sink or (lambda _event: None), clock

    def _emit(self, kind: str, step: StepRecord | None, text: str = "") -> None:
        self.sink(Event(kind, step, text))


class BuildKitParser(_Parser):
    """Parses `docker build --progress=plain` output, one line at a time."""

    def __init__(self, log: BuildLog, sink: Sink | None = None, clock=time.monotonic):
        super().__init__(log, sink, clock)
        self.vertices: dict[int, StepRecord] = {}
        self.in_summary = False

    def feed(self, raw: str) -> None:
        line = ANSI.sub("", raw).rstrip("\r\n")
        if not line.strip():
            return
        if m := BK_STEP.match(line):
            vertex = int(m.group(1))
            if vertex not in self.vertices:
                started = StepRecord(int(m.group(3)), int(m.group(4)), m.group(5), m.group(2), started=self.clock())
                self.vertices[vertex] = started
                self.log.steps.append(started)
                self._emit("start", started)
            return
        vm = BK_VERTEX.match(line)
        if not vm:
            self._free_line(line)
            return
        step = self.vertices.get(int(vm.group(1)))
        if m := BK_CACHED.match(line):
            if step:
                step.cached = step.done = True
                step.elapsed = 0.0
                self._emit("cached", step)
        elif m := BK_DONE.match(line):
            if step and not step.done:
                step.done, step.elapsed = True, float(m.group(2))
                self._emit("done", step)
        elif m := BK_ERROR.match(line):
            self.log.tail.append(line)
            if step:
                step.failed = True
                step.elapsed = self.clock() - step.started
                self.log.error = m.group(2)
                self._emit("error", step, m.group(2))
        elif m := BK_OUTPUT.match(line):
            if step:
                step.output.append(m.group(2))
                self.log.tail.append(m.group(2))
                self._emit("output", step, m.group(2))

    def _free_line(self, line: str) -> None:
        """Lines outside any vertex: the error summary at the end, or a frontend error."""
        self.log.tail.append(line)
        if line.startswith("------"):
            self.in_summary = not self.in_summary
            return
        if self.in_summary:
            return
        if line.startswith(("error:", "ERROR:", "executor failed")) or "failed to solve" in line:
            if self.log.failed_step is None:      # a frontend error: no step ran
                self.log.error = line
                self._emit("error", None, line)
            elif self.log.error is None:
                self.log.error = line


class LegacyParser(_Parser):
    """Parses the legacy builder's JSON chunks (docker SDK APIClient.build(decode=True))."""

    def __init__(self, log: BuildLog, sink: Sink | None = None, clock=time.monotonic):
        super().__init__(log, sink, clock)
        self.buffer = ""
        self.current: StepRecord | None = None

    def _finish(self) -> None:
        step = self.current
        if step and not step.done:
            step.done = True
            step.elapsed = 0.0 if step.cached else self.clock() - step.started
            self._emit("cached" if step.cached else "done", step)
        self.current = None

    def feed(self, chunk: dict) -> None:
        if "aux" in chunk and isinstance(chunk["aux"], dict) and chunk["aux"].get("ID"):
            self.log.image_id = chunk["aux"]["ID"]
        if chunk.get("error") or chunk.get("errorDetail"):
            self._fail(chunk.get("error") or chunk["errorDetail"].get("message", "build failed"))
        text = chunk.get("stream")
        if not text:
            return
        self.buffer += ANSI.sub("", text)
        while "\n" in self.buffer:
            line, self.buffer = self.buffer.split("\n", 1)
            self._line(line.rstrip("\r"))

    def close(self) -> None:
        """Flush a last line without newline and finish the running step (on success)."""
        self._flush()
        if self.log.error is None:
            self._finish()

    def _start(self, m: re.Match) -> None:
        """A new step from a match of (number, total, instruction); the running one is finished first."""
        self._finish()
        step = StepRecord(int(m.group(1)), int(m.group(2)), m.group(3), started=self.clock())
        self.current = step
        self.log.steps.append(step)
        self._emit("start", step)

    def _flush(self) -> None:
        if self.buffer.strip():
            self._line(self.buffer)
        self.buffer = ""

    def _line(self, line: str) -> None:
        if not line.strip():
            return
        if m := LEGACY_STEP.match(line):
            self._start(m)
            return
        if line.strip() == "---> Using cache":
            if self.current:
                self.current.cached = True
            return
        if m := LEGACY_BUILT.match(line):
            self._finish()
            self.log.image_id = self.log.image_id or m.group(1)
            return
        if LEGACY_NOISE.match(line):
            return
        self.log.tail.append(line)
        if self.current:
            self.current.output.append(line)
            self._emit("output", self.current, line)

    def _fail(self, message: str) -> None:
        message = message.strip()
        self._flush()
        self.log.error = message
        self.log.tail.append(message)
        step = self.current
        if step:
            step.failed = True
            step.elapsed = self.clock() - step.started
        self._emit("error", step, message)
