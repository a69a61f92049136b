"""torchvision / torchaudio releases that go with a torch release.

Every torch 2.x release ships torchvision 0.(x+15) and torchaudio 2.x (2.0 -> 0.15 / 2.0,
2.7 -> 0.22 / 2.7, 2.13 -> 0.28 / 2.13; compat.yaml's pytorch rows). Pinning the companion's
minor with `.*` lets pip take the patch built against the pinned torch from the same index.
"""

from __future__ import annotations

from toolkit.compat.versions import parse

COMPANIONS = ("torchvision", "torchaudio")


def companion_requirement(package: str, torch_version: str) -> str:
    if package not in COMPANIONS:
        raise ValueError(f"unknown torch companion {package!r}; known: {', '.join(COMPANIONS)}")
    v = parse(torch_version)
    major, minor = v.release[0], v.release[1] if len(v.release) > 1 else 0
    if major != 2:
        raise ValueError(f"no companion rule for torch {torch_version}")
    if package == "torchvision":
        return f"torchvision==0.{minor + 15}.*"
    return f"torchaudio=={major}.{minor}.*"
