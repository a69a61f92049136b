"""Pure evaluation: a Check plus the probe's facts -> a Result. No I/O, no target access.

Each kind's evaluator is its row in the check-kind table (toolkit.verify.kinds), which refuses at
import time to miss a kind.
GPU-tier checks are skipped with a reason where the target shows no GPU, or failed under
``require_gpu``; they never pass on the CPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from toolkit.model.checks import Check
from toolkit.verify.kinds import KINDS
from toolkit.verify.outcome import Outcome  # noqa: F401 - re-exported

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
UNREACHABLE = "cannot reach the target"
NO_GPU_HINT = ("run on a GPU host, or start the container with --gpus all (NVIDIA Container Toolkit); "
               "without --require-gpu these checks are skipped on CPU-only machines")


@dataclass(frozen=True)
class Result:
    id: str
    kind: str
    tier: str
    status: str
    expected: str = ""
    found: str = ""
    hint: str = ""
    duration: float = 0.0
    description: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate(check: Check, facts: dict, require_gpu: bool = False) -> Result:
    def result(status: str, expected: str = "", found: str = "", hint: str = "") -> Result:
        return Result(id=check.id, kind=check.kind, tier=check.tier, status=status, expected=expected,
                      found=found, hint=hint if status != PASSED else "", duration=duration(check, facts),
                      description=check.description)

    if "_error" in facts:
        found = f"{UNREACHABLE}: {facts['_error']}" if facts.get("_transport") else facts["_error"]
        return result(FAILED, "the probe runs on the target", found,
                      "check the target address and that it has python3 (the probe is stdlib-only)")
    if check.tier == "gpu" and not gpu_visible(facts):
        found = "no GPU visible (no /dev/nvidia0; nvidia-smi " + (
            "lists no GPU)" if facts.get("gpu", {}).get("smi") else "not found)")
        if require_gpu:
            return result(FAILED, "a visible NVIDIA GPU (--require-gpu)", found, NO_GPU_HINT)
        return result(SKIPPED, "a visible NVIDIA GPU", found, "GPU-tier check; " + NO_GPU_HINT)
    out = KINDS[check.kind].evaluate(check.p, facts)
    if out.skipped:
        return result(SKIPPED, out.expected, out.found, out.hint)
    return result(PASSED if out.ok else FAILED, out.expected, out.found, out.hint)


def gpu_visible(facts: dict) -> bool:
    return bool(facts.get("gpu", {}).get("visible"))


def duration(check: Check, facts: dict) -> float:
    """Time the target spent gathering this check's facts (sections run in parallel: the max)."""
    timings = facts.get("_timings", {})
    return round(max([timings.get(s, 0.0) for s in KINDS[check.kind].sections(check)] or [0.0]), 3)
