"""torchvision / torchaudio releases that go with a torch release.

Data, not a formula: each pytorch row lists its companions (pytorch/test-infra release_versions.sh).
torchvision has followed 0.(minor+15), but torchaudio stopped at 2.11 (torch 2.12 and 2.13 pair with
torchaudio 2.11). Pinning the companion's minor with `.*` lets pip take the patch built against the
pinned torch from the same index.
"""

from __future__ import annotations

from . import versions as V
from .context import Ctx
from .schema import CompatData

COMPANIONS = ("torchvision", "torchaudio")


def companion_requirement(package: str, torch_version: str, data: CompatData | None = None) -> str:
    """"torchaudio==2.11.*" for torch 2.13: the companion minor the data lists for that torch release."""
    if package not in COMPANIONS:
        raise ValueError(f"unknown torch companion {package!r}; known: {', '.join(COMPANIONS)}")
    if data is None:
        from .data_model import load_data
        data = load_data()
    row = data.pytorch.releases.get(V.major_minor(torch_version))
    minor = row.companions.get(package) if row else None
    if minor is None:
        raise ValueError(f"no {package} release is known for torch {torch_version}")
    return f"{package}=={minor}.*"


def companion_for(ctx: Ctx, package: str) -> str | None:
    """The companion requirement for the picked torch, with its decision; an issue when it is unknown."""
    pick = ctx.torch
    if pick is None:
        return None
    if package not in COMPANIONS:
        ctx.issue(("frameworks.pytorch.extras",), f"unknown torch companion {package!r}",
                  f"use one of: {', '.join(COMPANIONS)}")
        return None
    minor = pick.row.companions.get(package)
    if minor is None:
        ctx.issue(("frameworks.pytorch.extras", "frameworks.pytorch.version"),
                  f"no {package} release is known for {pick.label}",
                  f"describe it under pytorch.releases.{pick.key}.companions in a user compatibility data file "
                  "(`toolkit compat refresh` derives it from the index), or drop the extra")
        return None
    ctx.check_uncertain(pick.source, pick.row, f"companions.{package}")
    requirement = f"{package}=={minor}.*"
    ctx.decide("frameworks.pytorch.requirement", requirement, f"the {package} release paired with {pick.label}",
               f"{pick.source}.companions.{package}")
    return requirement
