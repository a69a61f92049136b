"""Controller side of the probe: which facts a set of checks needs, and one round trip to get them.

``request_for(checks)`` says what to gather (each kind's row in toolkit.verify.kinds adds its
part); ``gather(host, checks)`` sends the probe (the parts of toolkit/verify/probe/ as one script with the shared
probe helpers of toolkit/targets/probe_lib.py, compressed into one command line) through a testinfra host and returns its JSON.
``sections(check)`` names the probe sections a check reads, so a result can report how long its
facts took to gather.
"""

from __future__ import annotations

import ast
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from toolkit.model.checks import Check
from toolkit.targets import shipping
from toolkit.verify import probe
from toolkit.verify.kinds import KINDS
from toolkit.verify.probe import command_key, jupyter_key, writable_key  # noqa: F401 - re-exported

PROBE_DIR = Path(probe.__file__).parent
# Interpreters tried in order on the target; the plan's own venv pythons come last as a fallback.
PYTHONS = ("python3", "/usr/bin/python3", "/usr/local/bin/python3", "python")
TRANSPORT_RC = {255: "ssh", 125: "docker", 126: "docker"}


def request_for(checks) -> dict:
    """The probe request for these checks (deterministic: sorted, de-duplicated)."""
    req: dict = {}
    for c in checks:
        KINDS[c.kind].request(req, c.p)
    for _key, value in req.items():
        if isinstance(value, list):
            value.sort(key=lambda v: json.dumps(v, sort_keys=True))
    if "git" in req:
        req["git"]["config"].sort()
    for entry in req.get("pythons", {}).values():
        entry["dists"].sort()
    return req


def sections(check: Check) -> list[str]:
    """The probe's section keys a check's facts come from."""
    return KINDS[check.kind].sections(check)


def probe_source() -> str:
    """The probe as the one script the target runs: its parts in order, their imports of each other dropped."""
    out = []
    for name in probe.PARTS:
        text = (PROBE_DIR / f"{name}.py").read_text(encoding="utf-8")
        local: set[int] = set()
        for node in ast.parse(text).body:
            if isinstance(node, ast.ImportFrom) and node.level:
                local.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        kept = [line for n, line in enumerate(text.splitlines(keepends=True), 1) if n not in local]
        out.append(f"# ---- toolkit probe part: {name}\n" + "".join(kept))
    return "\n\n".join(out)


def shipped_source() -> str:
    """The script the target runs: the parts, and the shared probe helpers in place of their import."""
    return shipping.inline(probe_source(), "toolkit/verify/probe")


@lru_cache(maxsize=1)
def bootstrap() -> str:
    """The python -c text that unpacks and runs the shipped probe (argv: MODE REQUEST)."""
    return shipping.bootstrap(shipped_source())


def command_line(request: dict) -> tuple[str, list[str]]:
    """A testinfra command template and its arguments: the first python found runs the probe."""
    script = bootstrap()
    loop = ('r=$1; shift; for p in "$@"; do if command -v "$p" >/dev/null 2>&1; then '
            'exec "$p" -c "$0" probe "$r"; fi; done; echo "no python3 on the target (tried: $*)" >&2; exit 127')
    candidates = [*PYTHONS, *sorted(request.get("pythons", {}))]
    args = [loop, script, json.dumps(request, sort_keys=True), *candidates]
    return "sh -c " + " ".join(["%s"] * len(args)), args


def gather(host, checks) -> dict:
    """Run the probe once on a testinfra host; on failure a dict with ``_error`` (never raises)."""
    request = request_for(checks)
    template, args = command_line(request)
    try:
        result = host.run(template, *args)
    except RuntimeError as exc:   # testinfra's ssh backend raises on ssh's exit 255
        return {"_error": _first_line(str(exc)), "_transport": True}
    return parse(result.rc, result.stdout, result.stderr)


def parse(rc: int, stdout: str, stderr: str) -> dict:
    lines = stdout.strip().splitlines()
    if rc == 0 and lines:
        try:
            return json.loads(lines[-1])
        except ValueError:
            pass
    why = (stderr or stdout).strip()[-1000:] or f"exit status {rc}"
    out: dict[str, Any] = {"_error": f"the probe failed on the target (exit {rc}): {why}"}
    if rc in TRANSPORT_RC or "No such container" in why or "is not running" in why:
        out["_transport"] = True
    return out


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "connection failed"
