"""Reports of a verification run: lines for people, a JSON document for scripts.

JUnit XML is pytest's own (``--junit-xml``); every generated test carries its toolkit result
(kind, tier, expected, found, hint) as a ``toolkit.result`` property there.
"""

from __future__ import annotations

import json

from toolkit.verify.evaluate import FAILED, PASSED, SKIPPED, Result
from toolkit.verify.runner import Run

MARKS = {PASSED: ("PASS", "green"), FAILED: ("FAIL", "red"), SKIPPED: ("SKIP", "yellow")}


def human(run: Run, target: str, style=lambda text, **kw: text) -> list[str]:
    """One line per check, details under failures and skips, then a summary line."""
    lines = []
    width = max((len(r.id) for r in run.results), default=0)
    for r in run.results:
        mark, colour = MARKS[r.status]
        lines.append(f"{style(mark, fg=colour, bold=True)}  {r.id.ljust(width)}  {r.tier:<3}  {r.duration:6.2f}s  "
                     f"{r.description}")
        if r.status == FAILED:
            lines.append(f"      expected: {r.expected}" if r.expected else "")
            lines.append(f"      found:    {r.found}")
            if r.hint:
                lines.append(f"      hint:     {r.hint}")
        elif r.status == SKIPPED:
            lines.append(f"      skipped:  {r.found}")
    lines = [line for line in lines if line]
    lines += [f"error: {e}" for e in run.errors]
    lines.append(summary(run, target))
    return lines


def summary(run: Run, target: str) -> str:
    c = run.counts()
    return (f"{target}: {c[PASSED]} passed, {c[FAILED]} failed, {c[SKIPPED]} skipped "
            f"in {run.seconds:.2f}s")


def result_dict(r: Result) -> dict:
    return {"id": r.id, "kind": r.kind, "tier": r.tier, "status": r.status, "duration": r.duration,
            "expected": r.expected, "found": r.found, "hint": r.hint, "description": r.description}


def as_json(run: Run, profile: str, target: str) -> str:
    doc = {"profile": profile, "target": target, "ok": not run.failed and not run.errors,
           "seconds": run.seconds, "counts": run.counts(), "errors": run.errors,
           "checks": [result_dict(r) for r in run.results]}
    return json.dumps(doc, indent=2, sort_keys=False)
