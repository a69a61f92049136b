"""Build an image from a rendered context with Podman (`podman build`, Buildah underneath): the same
BuildRequest, progress events, cache reuse (--layers) and BuildResult as the Docker builders.

The BuildKit form of the Dockerfile builds as is (RUN --mount=type=cache/secret, COPY --chmod); the image
is written in Docker's format (--format docker) because OCI images have no SHELL or HEALTHCHECK. --force-rm:
no intermediate container stays behind after a failed step, as with Docker's builders.
Build-arg values travel in the environment, never in argv; secrets as files (--secret id=,src=).
Podman reads its own settings (containers.conf, storage.conf; CONTAINERS_CONF chooses the file).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from toolkit.errors import ToolkitError
from toolkit.executors.build_progress import BuildLog, Sink
from toolkit.executors.docker_build import (
    BuildRequest,
    BuildResult,
    EngineUnavailable,
    failure,
    follow,
    request_options,
)
from toolkit.executors.podman_progress import PodmanParser

PODMAN = "Podman"
INSTALL_HINT = "install it (Debian/Ubuntu: sudo apt-get install podman), or build with --engine docker"


def podman() -> str:
    path = shutil.which("podman")
    if path is None:
        raise EngineUnavailable("podman not found on PATH", INSTALL_HINT)
    return path


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`podman ARGS` in its own session (a Ctrl-C reaches toolkit, which cleans up, not podman halfway)."""
    return subprocess.run([podman(), *args], capture_output=True, text=True, timeout=timeout, check=False,
                          start_new_session=True)


def check_engine() -> str:
    """podman's version, or EngineUnavailable saying why it does not answer."""
    res = run("version", "--format", "{{.Client.Version}}", timeout=60)
    if res.returncode != 0 or not res.stdout.strip():
        lines = [ln for ln in (res.stderr or res.stdout).strip().splitlines() if ln.strip()]
        raise EngineUnavailable(f"podman does not answer: {lines[-1] if lines else res.returncode}", INSTALL_HINT)
    return res.stdout.strip()


def has_image(name: str) -> bool:
    return run("image", "exists", name).returncode == 0


class Images:
    """The one engine call a lock check makes (`inspect_image(ref)["Id"]`), answered by podman."""

    def inspect_image(self, ref: str) -> dict:
        res = run("image", "inspect", "--format", "{{.Id}}", ref)
        if res.returncode != 0:
            raise LookupError(res.stderr.strip())
        ident = res.stdout.strip()
        return {"Id": ident if ident.startswith("sha256:") else f"sha256:{ident}"}


def build(request: BuildRequest, sink: Sink | None = None) -> BuildResult:
    check_engine()
    log = BuildLog()
    parser = PodmanParser(log, sink)
    started = time.monotonic()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="toolkit-build-") as tmp:
        iidfile = Path(tmp) / "iid"
        argv = [podman(), "build", "--format", "docker", "--layers", "--force-rm", "-t", request.tag, "-f",
                str(request.context / request.dockerfile), "--iidfile", str(iidfile)]
        rc = follow(argv + request_options(request, env), env, request, parser.feed)
        parser.close()
        if rc != 0 or not iidfile.exists():
            log.error = log.error or f"podman build exited with status {rc}"
            raise failure(request, log, PODMAN)
        log.image_id = iidfile.read_text().strip()
    inspect = run("image", "inspect", "--format", "{{.Size}}", log.image_id)
    if inspect.returncode != 0:
        raise ToolkitError(f"podman built {request.tag} but cannot inspect it: {inspect.stderr.strip()}")
    return BuildResult(request.tag, log.image_id, int(inspect.stdout.strip() or 0), time.monotonic() - started,
                       PODMAN, log)
