"""What to do with an image once it is built: the `docker run` line for this plan and how to verify it.

GPU flags only for GPU plans, a bigger /dev/shm where PyTorch's DataLoader needs it, the Jupyter port
(published on loopback only) and its run-time secret only when the image serves Jupyter."""

from __future__ import annotations

import re
import shlex

from toolkit.model.plan import Plan
from toolkit.model.steps import Service, WriteFile

_NOT_DNS = re.compile(r"[^a-z0-9-]+")
SHM_SIZE = "1g"     # PyTorch DataLoader workers need more than Docker's 64 MB (as in the devcontainer)


def object_name(plan: Plan) -> str:
    """A DNS-1123 label from the profile's name (its '.' and '_' become '-'), short enough for suffixes."""
    name = _NOT_DNS.sub("-", plan.name.lower()).strip("-")[:40].strip("-")
    return name or "toolkit"


def default_image(plan: Plan) -> str:
    """The image the k8s manifests and the Apptainer definition run unless told (render --image)."""
    return f"toolkit/{object_name(plan)}:latest"


def served(plan: Plan) -> Service | None:
    """The in-image service with a port (Jupyter), if the plan has one."""
    return next((s for s in plan.steps if isinstance(s, Service) and s.port is not None), None)


def password_auth(plan: Plan) -> bool:
    return any(isinstance(s, WriteFile) and "JUPYTER_PASSWORD_HASH" in s.content for s in plan.steps)


def docker_run(plan: Plan, tag: str, engine: str = "docker") -> list[str]:
    """argv of `docker run` (or `podman run`) for an image built from plan (YOUR_TOKEN / YOUR_HASH: the
    run-time secret). Podman reaches GPUs through CDI (nvidia-ctk cdi generate), not --gpus."""
    argv = [engine, "run", "--rm", "-it"]
    if plan.target.gpu:
        argv += ["--device", "nvidia.com/gpu=all"] if engine == "podman" else ["--gpus", "all"]
    if plan.target.gpu or any(name == "pytorch" for name, _ in plan.versions):
        argv += ["--shm-size", SHM_SIZE]
    service = served(plan)
    if service is not None:
        argv += ["-p", f"127.0.0.1:{service.port}:{service.port}"]
        argv += ["-e", "JUPYTER_PASSWORD_HASH='YOUR_HASH'" if password_auth(plan) else "JUPYTER_TOKEN=YOUR_TOKEN"]
    return [*argv, tag]


def next_steps(plan: Plan, tag: str, profile: str, engine: str = "docker") -> list[str]:
    """Lines for people: how to run the image and how to verify it."""
    run = " ".join(a if a.startswith(("JUPYTER_", "127.0.0.1:")) else shlex.quote(a)
                   for a in docker_run(plan, tag, engine))
    lines = ["next:", f"  run it:     {run}"]
    service = served(plan)
    if service is not None:
        if password_auth(plan):
            lines.append("              YOUR_HASH from: python -c 'from jupyter_server.auth import passwd; print(passwd())'")
            lines.append(f"              then open http://127.0.0.1:{service.port}/ and log in with that password")
        else:
            lines.append(f"              then open http://127.0.0.1:{service.port}/?token=YOUR_TOKEN  "
                         "(a token of your choice, e.g. from `openssl rand -hex 16`)")
    verify = f"toolkit verify {shlex.quote(profile)} --target {engine}-image://{shlex.quote(tag)}"
    lines.append(f"  verify it:  {verify}" + (" --require-gpu   (on a machine with a GPU)" if plan.target.gpu else ""))
    return lines
