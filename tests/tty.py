"""Run a command on a pseudo-terminal, as a user at a terminal would (colour, live displays)."""

from __future__ import annotations

import os
import pty
import select
import signal
import time


def run_in_pty(argv: list[str], env: dict, timeout: float = 300, cwd: str | None = None) -> tuple[int, str]:
    """argv with stdin/stdout/stderr on a pty; (exit status, everything it printed). Killed after timeout."""
    pid, fd = pty.fork()
    if pid == 0:       # the child: exec at once
        if cwd:
            os.chdir(cwd)
        os.execvpe(argv[0], argv, env)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode(errors="replace")
