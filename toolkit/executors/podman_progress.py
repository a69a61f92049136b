"""Follow a `podman build` (Buildah) run: its plain output becomes the same step records and events as
Docker's builders (toolkit.executors.build_progress), so the display and the summary are shared.

    STEP 3/23: RUN apt-get ...        a step starts
    --> Using cache 5e3e0d2dd55...    the step came from the layer cache
    --> 5e3e0d2dd55                   the step is done (its layer)
    Error: building at STEP "RUN ...": while running runtime: exit status 1
"""

from __future__ import annotations

import re

from toolkit.executors.build_progress import ANSI, LegacyParser

STEP = re.compile(r"^STEP (\d+)/(\d+): (.*)$")
CACHED = re.compile(r"^--> Using cache ([0-9a-f]+)$")
LAYER = re.compile(r"^--> ([0-9a-f]{6,})$")
ERROR = re.compile(r"^(?:Error|error): (.*)$")
NOISE = re.compile(r"^(COMMIT\b.*|Successfully tagged .*|[0-9a-f]{64}|Getting image source signatures|"
                   r"Copying (?:blob|config) .*|Writing manifest to image destination|Storing signatures|"
                   r"time=\".*\" level=(?:info|debug).*)$")


class PodmanParser(LegacyParser):
    """Parses `podman build` output one line at a time (the legacy parser's step bookkeeping)."""

    def feed(self, raw: str) -> None:         # type: ignore[override]
        line = ANSI.sub("", raw).rstrip("\r\n")
        if not line.strip():
            return
        if m := STEP.match(line):
            self._start(m)
        elif CACHED.match(line):
            if self.current:
                self.current.cached = True
            self._finish()
        elif LAYER.match(line):
            self._finish()
        elif m := ERROR.match(line):
            self._fail(m.group(1))
        elif not NOISE.match(line):
            self.log.tail.append(line)
            if self.current:
                self.current.output.append(line)
                self._emit("output", self.current, line)

    def close(self) -> None:
        if self.log.error is None:
            self._finish()
