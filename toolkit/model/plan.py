"""The plan: an ordered list of typed steps plus the checks that verify them."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from toolkit.model.checks import Check
from toolkit.model.steps import Step


@dataclass(frozen=True)
class Target:
    """Facts about the environment every renderer needs."""

    distro: str
    os_version: str
    base_image: str
    python_version: str
    python_bin: str          # the interpreter that creates the venv ("python3")
    venv: str
    user: str | None         # the unprivileged user things run as (None: root)
    uid: int | None
    gid: int | None
    home: str | None
    gpu: bool
    # Variables the image sets right after FROM: on a plain OS image for a GPU stack, what nvidia/cuda images set
    # for the NVIDIA container runtime (NVIDIA_VISIBLE_DEVICES, NVIDIA_DRIVER_CAPABILITIES, NVIDIA_REQUIRE_CUDA).
    image_env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Decision:
    field: str
    value: str
    rule: str
    source: str


@dataclass(frozen=True)
class Plan:
    name: str
    description: str
    digest: str
    target: Target
    steps: tuple[Step, ...]
    checks: tuple[Check, ...]
    versions: tuple[tuple[str, str], ...]   # resolved versions, for labels and people
    decisions: tuple[Decision, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "digest": self.digest,
            "target": dataclasses.asdict(self.target),
            "versions": dict(self.versions),
            "warnings": list(self.warnings),
            "decisions": [dataclasses.asdict(d) for d in self.decisions],
            "steps": [_step_dict(s) for s in self.steps],
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)


def _step_dict(step: Step) -> dict:
    out: dict[str, Any] = {"kind": step.kind}
    for f in dataclasses.fields(step):
        value = getattr(step, f.name)
        if f.name == "content" and getattr(step, "secret", False):
            value = f"(secret: {len(value)} characters, not shown)"
        elif f.name == "files":
            value = [{"path": w.path, "sha256": w.sha256} for w in value]
        elif isinstance(value, Step):
            value = _step_dict(value)
        elif isinstance(value, tuple):
            value = [list(v) if isinstance(v, tuple) else v for v in value]
        out[f.name] = value
    probe = step.probe()
    out["probe"] = list(probe) if probe else None
    return out
