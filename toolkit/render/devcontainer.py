"""Plan -> .devcontainer/devcontainer.json, building the Dockerfile rendered beside it (../Dockerfile).

GPU profiles ask for a GPU as optional (hostRequirements.gpu: "optional"), never with a fixed --gpus:
the devcontainer CLI adds the GPU where the host has one (its --gpu-availability, default "detect").

JSON has no comments: the do-not-edit header is the value of a top-level "_generated" key.
"""

from __future__ import annotations

import json

from toolkit.model.plan import Plan
from toolkit.model.steps import PROXY_VARIABLES, Environment, Service
from toolkit.render.common import Rendered, header

SHM = ["--shm-size", "1g"]    # PyTorch DataLoader workers need more than Docker's 64 MB


def _settings(plan: Plan) -> dict:
    t = plan.target
    doc: dict = {
        "_generated": header(plan, comment="").strip(),
        "name": plan.name,
        "build": {"dockerfile": "../Dockerfile", "context": ".."},
        "remoteUser": t.user or "root",
    }
    # The Dockerfile declares no proxy ARG (kept out of `docker history`): pass the profile's as build args.
    proxy = {k: v for s in plan.steps if isinstance(s, Environment) and s.build_only
             for k, v in s.variables if k in PROXY_VARIABLES}
    if proxy:
        doc["build"]["args"] = proxy
    ports = [s.port for s in plan.steps if isinstance(s, Service) and s.port is not None]
    if ports:
        doc["forwardPorts"] = ports
    uses_torch = any(k == "pytorch" for k, _ in plan.versions)
    if t.gpu:
        # "optional": the container opens on a laptop without a GPU too; the devcontainer CLI (and VS Code)
        # add --gpus all themselves where the host has one. A fixed --gpus all in runArgs would make
        # `docker run` fail without the NVIDIA runtime, and `true` refuses such hosts outright.
        doc["hostRequirements"] = {"gpu": "optional"}
    if t.gpu or uses_torch:
        doc["runArgs"] = list(SHM)
    if t.venv:
        doc["customizations"] = {"vscode": {
            "settings": {"python.defaultInterpreterPath": f"{t.venv}/bin/python"},
            "extensions": ["ms-python.python", "ms-toolsai.jupyter"],
        }}
    return doc


def render(plan: Plan) -> Rendered:
    text = json.dumps(_settings(plan), indent=2, ensure_ascii=True) + "\n"
    return Rendered(files={".devcontainer/devcontainer.json": text})
