"""Shipping a probe to a target: one self-contained script, sent as one command line.

`script(path)` is the probe's source with the shared helpers (probe_lib.py) put in place of the line
that imports them. `bootstrap(source)` is a `python -c` text that unpacks it and runs it as __main__
(with PROBE_SOURCE set, so the probe can run itself again with another interpreter).
`command_line(source, args)` is a testinfra command template and its arguments that run it with the
first python the target has; `parse_json(rc, out, err)` reads the one JSON line a probe prints.
"""

from __future__ import annotations

import base64
import json
import zlib
from functools import lru_cache
from pathlib import Path

from toolkit.targets import probe_lib

PYTHONS = ("python3", "/usr/bin/python3", "/usr/local/bin/python3", "python")
BOOTSTRAP = ("import base64,zlib;s=zlib.decompress(base64.b64decode('{payload}')).decode();"
             "exec(compile(s,'{name}','exec'),{{'__name__':'__main__','PROBE_SOURCE':s}})")
# First python of the list found runs the script ($0); the probe's own arguments follow.
FIRST_PYTHON = ('for p in ' + " ".join(PYTHONS) + '; do if command -v "$p" >/dev/null 2>&1; then '
                'exec "$p" -c "$0" "$@"; fi; done; echo "no python3 on the target (tried: ' + ", ".join(PYTHONS)
                + ')" >&2; exit 127')


@lru_cache(maxsize=8)
def script(path: str | Path) -> str:
    """The probe at `path` as one script: its import of probe_lib replaced by probe_lib's source."""
    return inline(Path(path).read_text(encoding="utf-8"), str(path))


def inline(source: str, name: str = "probe") -> str:
    """`source` with its one line importing probe_lib replaced by probe_lib's source."""
    lines = source.splitlines(keepends=True)
    marked = [n for n, line in enumerate(lines) if line.rstrip().endswith(probe_lib.SHIPPED_MARK)]
    if len(marked) != 1:
        raise ValueError(f"{name}: expected one line ending in {probe_lib.SHIPPED_MARK!r}, found {len(marked)}")
    helpers = Path(probe_lib.__file__).read_text(encoding="utf-8")
    n = marked[0]
    return "".join(lines[:n]) + helpers + "".join(lines[n + 1:])


def bootstrap(source: str, name: str = "toolkit-probe") -> str:
    payload = base64.b64encode(zlib.compress(source.encode("utf-8"), 9)).decode("ascii")
    return BOOTSTRAP.format(payload=payload, name=name)


def command_line(source: str, args: list[str], name: str = "toolkit-probe") -> tuple[str, list[str]]:
    """`sh -c FIRST_PYTHON BOOTSTRAP ARGS...` as a testinfra template (every word quoted by testinfra)."""
    words = [FIRST_PYTHON, bootstrap(source, name), *args]
    return "sh -c " + " ".join(["%s"] * len(words)), words


def parse_json(rc: int, stdout: str, stderr: str) -> dict | None:
    """The probe's JSON document (its last line), or None when it printed none."""
    lines = stdout.strip().splitlines()
    if rc == 0 and lines:
        try:
            value = json.loads(lines[-1])
        except ValueError:
            return None
        return value if isinstance(value, dict) else None
    return None
