"""Build an image from a rendered context on a Docker engine.

BuildKit when a client that supports it is on this machine (`DOCKER_BUILDKIT=1 docker build
--progress=plain`, parsed line by line); otherwise the legacy builder through the docker SDK's
low-level API. Both report progress through the same events (toolkit.executors.build_progress).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from toolkit import redact
from toolkit.errors import ToolkitError
from toolkit.executors.build_progress import BuildKitParser, BuildLog, LegacyParser, Sink, StepRecord, brief
from toolkit.executors.failure_hints import diagnose

BUILDKIT = "BuildKit"
LEGACY = "the legacy builder"
START_HINT = ("start one: `sudo systemctl start docker` (or `dockerd &` as root; in a toolkit checkout "
              "scripts/ensure-docker.sh installs and starts one), or point DOCKER_HOST at a running engine")


class EngineUnavailable(ToolkitError):
    """No Docker engine answers."""


class BuildFailed(ToolkitError):
    """The engine ran the build and it failed; names the step and shows the end of its log."""

    def __init__(self, message: str, lines: list[str], hint: str | None = None):
        super().__init__(message, hint)
        self.lines = lines

    def render(self) -> str:
        text = f"error: {self.message}"
        if self.lines:
            text += "\n  last log lines:\n" + "\n".join(f"  | {line}" for line in self.lines)
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass(frozen=True)
class BuildRequest:
    context: Path
    tag: str
    dockerfile: str = "Dockerfile"
    build_args: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    no_cache: bool = False
    platform: str | None = None
    network: str | None = None                                  # e.g. host: RUN steps share the host's network
    secrets: dict[str, str] = field(default_factory=dict)       # BuildKit secret id -> file (never its text)
    masked: tuple[str, ...] = ()                                # values output must never show


@dataclass(frozen=True)
class BuildResult:
    tag: str
    image_id: str
    size: int
    seconds: float
    builder: str
    log: BuildLog


def is_secret(name: str) -> bool:
    return redact.is_secret_name(name)


def redacted(build_args: dict[str, str]) -> dict[str, str]:
    """Build args safe to print: values of secret-looking names replaced by ***, URL credentials masked."""
    return redact.mapping(build_args)


def scrub(text: str, build_args: dict[str, str], masked: tuple[str, ...] = ()) -> str:
    """A line of build output without secret build-arg values, known secrets or URL credentials
    (values under 4 characters would mangle every line: those are only hidden where args are listed)."""
    return redact.text(text, [v for k, v in build_args.items() if is_secret(k)] + list(masked))


def _line_filter(request: BuildRequest):
    masked = tuple(v for k, v in request.build_args.items() if is_secret(k)) + request.masked
    return lambda text: redact.text(text, masked)


def prepare_context(plan, directory: Path, buildkit: bool, force: bool = False,
                    option: str = "--keep-context", shared_caches: bool = False,
                    run_mounts: tuple[str, ...] = ()) -> Path:
    """Render plan's Dockerfile and the files it copies (CA certificates, profile, wheelhouse) into
    directory: toolkit's earlier context there is replaced, anything else refused unless force.
    shared_caches: for podman (toolkit.render.dockerfile.render says why); run_mounts: bind mounts of a
    bundle's repository and wheelhouse into every RUN (build --bundle)."""
    from toolkit.render.dockerfile import render

    render(plan, buildkit=buildkit, shared_caches=shared_caches, run_mounts=run_mounts).write(
        directory, force=force, prune=True, option=option)
    return directory


def check_context(plan, directory: Path, force: bool = False, option: str = "--keep-context") -> None:
    """Refuse (exit 2) before anything starts when prepare_context would clobber directory."""
    from toolkit.outputs.atomic import check_output
    from toolkit.render.dockerfile import render

    rendered = render(plan, buildkit=True)
    check_output(directory, rendered.files, rendered.trees, force=force, option=option)


def connect(timeout: int = 30):
    """The low-level docker API client of an engine that answers, or EngineUnavailable."""
    import docker
    import requests

    where = os.environ.get("DOCKER_HOST") or "the default socket (unix:///var/run/docker.sock)"
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        raise EngineUnavailable(f"cannot reach a Docker engine at {where}: {_why(exc)}", START_HINT) from None
    return client.api


def _why(exc: Exception) -> str:
    text = str(exc)
    for needle, reason in (("No such file", "the socket does not exist"), ("refused", "connection refused"),
                           ("Permission denied", "permission denied (are you in the docker group?)")):
        if needle in text:
            return reason
    return text.splitlines()[0] if text else type(exc).__name__


def _client_version(binary: str) -> tuple[int, ...] | None:
    try:
        text = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20).stdout
    except OSError:
        return None
    m = re.search(r"version (\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def buildkit_client() -> str | None:
    """A docker CLI that can run BuildKit builds: one with buildx, or a pre-23 client (built in)."""
    seen = []
    for candidate in (shutil.which("docker"), "/usr/bin/docker"):
        if not candidate or not os.access(candidate, os.X_OK) or os.path.realpath(candidate) in seen:
            continue
        seen.append(os.path.realpath(candidate))
        buildx = subprocess.run([candidate, "buildx", "version"], capture_output=True, timeout=20)
        version = _client_version(candidate)
        if buildx.returncode == 0 or (version is not None and version < (23, 0)):
            return candidate
    return None


def build(request: BuildRequest, sink: Sink | None = None, buildkit: str | None = None) -> BuildResult:
    """Build request on the engine; buildkit is a docker CLI path (None: the legacy builder)."""
    api = connect()
    log = BuildLog()
    started = time.monotonic()
    if buildkit:
        image_id = _build_buildkit(request, buildkit, log, sink)
        builder = BUILDKIT
    else:
        image_id = _build_legacy(request, api, log, sink)
        builder = LEGACY
    seconds = time.monotonic() - started
    size = int(api.inspect_image(image_id).get("Size") or 0)
    return BuildResult(request.tag, image_id, size, seconds, builder, log)


def failure(request: BuildRequest, log: BuildLog, builder: str) -> BuildFailed:
    step: StepRecord | None = log.failed_step
    where = f"at step {step.label}: {brief(step.instruction, 160)}" if step else "before any step ran"
    cause = diagnose([*(step.output if step else []), *log.tail, log.error or ""])
    return BuildFailed(f"building {request.tag} with {builder} failed {where}", log.failure_lines(),
                       cause or "rerun with -v for the whole log, --keep-context DIR to inspect the Dockerfile")


def request_options(request: BuildRequest, env: dict[str, str]) -> list[str]:
    """`build` options both CLIs (docker, podman) take for request; build-arg values go into env, never argv."""
    argv: list[str] = []
    for name, value in request.build_args.items():
        argv += ["--build-arg", name]        # the value travels in the environment, not argv
        env[name] = value
    for name, value in sorted(request.labels.items()):
        argv += ["--label", f"{name}={value}"]
    for ident, path in sorted(request.secrets.items()):
        argv += ["--secret", f"id={ident},src={path}"]     # a file path, never the secret itself
    if request.network:
        argv += ["--network", request.network]
    if request.no_cache:
        argv.append("--no-cache")
    if request.platform:
        argv += ["--platform", request.platform]
    return [*argv, str(request.context)]


def follow(argv: list[str], env: dict[str, str], request: BuildRequest, feed) -> int:
    """Run a build CLI, feeding each output line (secrets scrubbed) to feed; its exit status. Ctrl-C stops it."""
    clean = _line_filter(request)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            text=True, errors="replace", bufsize=1)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            feed(clean(line))
        return proc.wait()
    except BaseException:
        proc.terminate()
        proc.wait(timeout=30)
        raise


def _build_buildkit(request: BuildRequest, client: str, log: BuildLog, sink: Sink | None) -> str:
    parser = BuildKitParser(log, sink)
    env = dict(os.environ, DOCKER_BUILDKIT="1")
    with tempfile.TemporaryDirectory(prefix="toolkit-build-") as tmp:
        iidfile = Path(tmp) / "iid"
        argv = [client, "build", "--progress=plain", "-t", request.tag, "-f",
                str(request.context / request.dockerfile), "--iidfile", str(iidfile)]
        rc = follow(argv + request_options(request, env), env, request, parser.feed)
        if rc != 0 or not iidfile.exists():
            if log.error is None:
                log.error = f"docker build exited with status {rc}"
            raise failure(request, log, BUILDKIT)
        log.image_id = iidfile.read_text().strip()
    return log.image_id


def _build_legacy(request: BuildRequest, api, log: BuildLog, sink: Sink | None) -> str:
    from docker.errors import APIError

    if request.secrets:
        raise ToolkitError("this build needs credentials (a private index or an authenticated proxy), which only "
                           "BuildKit can keep out of the image and its history; the legacy builder would leak them",
                           "build with BuildKit (drop --no-buildkit; install docker-buildx), or build without "
                           "the credentials")
    parser = LegacyParser(log, sink)
    clean = _line_filter(request)
    try:
        for chunk in api.build(path=str(request.context), dockerfile=request.dockerfile, tag=request.tag,
                               decode=True, rm=True, forcerm=True, nocache=request.no_cache,
                               buildargs=dict(request.build_args) or None, labels=dict(request.labels) or None,
                               platform=request.platform, network_mode=request.network):
            parser.feed({k: clean(v) if isinstance(v, str) else v for k, v in chunk.items()})
    except APIError as exc:
        log.error = clean(str(exc.explanation or exc))
    parser.close()
    if log.error is not None or not log.image_id:
        log.error = log.error or "the engine reported no image id"
        raise failure(request, log, LEGACY)
    return log.image_id
