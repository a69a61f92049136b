"""toolkit's own errors. Each carries the exit code the CLI boundary turns it into.

Exit codes: 0 ok, 1 apply/build failed, 2 usage or invalid profile,
3 verification failed, 130 interrupted.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_VERIFY_FAILED = 3
EXIT_INTERRUPTED = 130


class ToolkitError(Exception):
    """An expected failure with a message for people; never a bug."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UsageError(ToolkitError):
    exit_code = EXIT_INVALID


@dataclass(frozen=True)
class Problem:
    """One problem in a profile, located as precisely as we can."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str
    hint: str | None = None

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.field or '(document)'}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
        }


class ProfileError(ToolkitError):
    """A profile is invalid; holds every problem found, not just the first."""

    exit_code = EXIT_INVALID

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in profile")

    def render(self) -> str:
        lines = [f"error: {self.message}"]
        lines += [f"  {p.render()}" for p in self.problems]
        return "\n".join(lines)


class VerificationFailed(ToolkitError):
    exit_code = EXIT_VERIFY_FAILED


@contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) until the block is done, then raise KeyboardInterrupt: what must not be cut
    in half (renaming output into place, starting or removing a container) finishes first. Only the main
    thread has signal handlers; elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt
