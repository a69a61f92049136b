"""Reaching a target (toolkit.targets.address): make it reachable, hand back a testinfra host spec.
verify's probe and doctor's GPU probe both run through here.

    docker-image://IMAGE or IMAGE   one container started for the run (--shm-size 1g, GPUs when the
                                    machine has them), removed afterwards even on failure
    podman-image://IMAGE            the same with Podman (testinfra's podman:// backend)
    docker://CONTAINER              a running container (docker exec)
    ssh://[user@]host[:port]        OpenSSH with ~/.ssh/config or --ssh-config, strict host keys
    local                           this machine

``open_target(address)`` is a context manager yielding a ``Target`` whose ``hostspec`` goes
to testinfra (``testinfra.get_host(hostspec)`` or ``pytest --hosts=hostspec``).
Bad addresses and unreachable containers raise UsageError (exit 2).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from toolkit import inputs
from toolkit.errors import UsageError, deferred_interrupt
from toolkit.targets import ssh_config
from toolkit.targets.address import Address, parse

LABEL = "dev.toolkit.verify=1"
NAME_PREFIX = "toolkit-verify-"     # containers verify starts: toolkit-verify-<12 hex>, labelled LABEL
SHM_SIZE = "1g"
START_HINT = ("start it: `sudo systemctl start docker` (or `dockerd &` as root; in a toolkit checkout "
              "scripts/ensure-docker.sh installs and starts one), or point DOCKER_HOST at a running engine")


@dataclass(frozen=True)
class Target:
    address: Address
    hostspec: str        # for testinfra
    description: str

    def host(self):
        import testinfra

        return testinfra.get_host(self.hostspec)


@contextlib.contextmanager
def open_target(address: str, ssh_config: str | None = None, gpus: str = "auto", *, known_hosts: str | None = None,
                identity: str | None = None, accept_new: bool = False) -> Iterator[Target]:
    """`address` reachable for testinfra. For ssh://: `ssh_config` is the user's config (included after
    toolkit's own lines), `known_hosts` and `identity` win over it, `accept_new` trusts a host not yet
    in known_hosts (a changed key is refused either way)."""
    addr = parse(address)
    if addr.kind == "local":
        yield Target(addr, "local://", "this machine")
    elif addr.kind == "docker":
        _require_running(addr.name)
        yield Target(addr, f"docker://{addr.name}", f"container {addr.name}")
    elif addr.kind in ("docker-image", "podman-image"):
        engine = addr.kind.removesuffix("-image")
        with _image_container(addr.name, gpus, engine) as cid:
            yield Target(addr, f"{engine}://{cid}", f"image {addr.name} (container {cid[:12]})")
    else:
        with tempfile.TemporaryDirectory(prefix="toolkit-ssh-") as tmp:
            config = strict_ssh_config(Path(tmp) / "ssh_config", ssh_config, known_hosts=known_hosts,
                                       identity=identity, accept_new=accept_new)
            yield Target(addr, ssh_hostspec(addr, config), f"ssh host {addr.name}")


def ssh_hostspec(addr: Address, config: Path) -> str:
    netloc = (f"{addr.user}@" if addr.user else "") + addr.name + (f":{addr.port}" if addr.port else "")
    return f"ssh://{netloc}?" + urllib.parse.urlencode({"ssh_config": str(config), "timeout": "15"})


def strict_ssh_config(path: Path, user_config: str | None, *, known_hosts: str | None = None,
                      identity: str | None = None, accept_new: bool = False) -> Path:
    """An ssh config that forces strict host keys (or accept-new) and batch mode, and the run's
    known_hosts and key when given, then includes the user's config.

    OpenSSH keeps the first value it reads for an option, so these lines win over the included
    file; -F skips ~/.ssh/config, hence the explicit Include of it when no config is given.
    """
    source = Path(user_config).expanduser() if user_config else Path("~/.ssh/config").expanduser()
    if user_config or os.path.lexists(source):
        inputs.read_text(source, what="ssh config")     # regular, not too large, UTF-8: ssh reads it next
        includes = [Path(os.path.realpath(source))]
    else:
        includes = []
    options = [("StrictHostKeyChecking", "accept-new" if accept_new else "yes"), ("BatchMode", "yes")]
    if known_hosts:
        options.append(("UserKnownHostsFile", str(Path(known_hosts).expanduser().absolute())))
    if identity:
        options += [("IdentityFile", str(Path(identity).expanduser().absolute())), ("IdentitiesOnly", "yes")]
    text = ssh_config.render(options=options, includes=includes)
    return ssh_config.write(path, text)


def docker(*args: str, timeout: float = 120, engine: str = "docker") -> subprocess.CompletedProcess:
    """The docker (or podman) CLI in its own session: a Ctrl-C at the terminal reaches toolkit, which
    finishes or undoes what the CLI was doing, instead of killing the CLI halfway through (a container half made)."""
    if not shutil.which(engine):
        raise UsageError(f"{engine} not found on PATH", f"install {engine} to verify containers and images")
    return subprocess.run([engine, *args], capture_output=True, text=True, timeout=timeout, check=False,
                          start_new_session=True)


def engine_unreachable() -> str | None:
    """Why the Docker engine does not answer, or None when it does."""
    res = docker("version", "--format", "{{.Server.Version}}", timeout=30)
    if res.returncode == 0 and res.stdout.strip():
        return None
    lines = [line for line in (res.stderr or res.stdout).strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"docker version exited {res.returncode}"


def _engine_error(what: str, engine: str = "docker") -> UsageError | None:
    """A UsageError saying the engine is down (not that `what` is missing), or None when it answers."""
    if engine != "docker":
        return None       # podman has no daemon to be down: its own error says what is wrong
    why = engine_unreachable()
    if why is None:
        return None
    where = os.environ.get("DOCKER_HOST") or "the default socket (unix:///var/run/docker.sock)"
    return UsageError(f"cannot reach the Docker engine at {where} to verify {what}: {why}", START_HINT)


def _require_running(name: str) -> None:
    res = docker("inspect", "--format", "{{.State.Running}}", name)
    if res.returncode != 0:
        raise _engine_error(f"container {name}") or UsageError(
            f"no container {name}: {res.stderr.strip()}", "docker ps lists running containers")
    if res.stdout.strip() != "true":
        raise UsageError(f"container {name} is not running", f"docker start {name}")


def machine_has_gpu() -> bool:
    return os.path.exists("/dev/nvidia0") or bool(shutil.which("nvidia-smi"))


@contextlib.contextmanager
def _image_container(image: str, gpus: str, engine: str = "docker") -> Iterator[str]:
    def cli(*args: str) -> subprocess.CompletedProcess:
        return docker(*args, engine=engine)

    inspect = cli("image", "inspect", "--format", "{{.Id}}", image)
    if inspect.returncode != 0:
        raise _engine_error(f"image {image}", engine) or UsageError(
            f"image {image} not found: {inspect.stderr.strip()}",
            f"build it first (toolkit build{' --engine podman' if engine == 'podman' else ''}) "
            "or give a running container: docker://NAME")
    # A name known before `docker run` answers: whatever interrupts us, the container can be removed.
    name = NAME_PREFIX + uuid.uuid4().hex[:12]
    base = ["run", "-d", "--name", name, "--shm-size", SHM_SIZE, "--label", LABEL, "--entrypoint", "sleep"]
    want_gpus = gpus == "all" or (gpus == "auto" and machine_has_gpu())
    gpu_flags = ["--device", "nvidia.com/gpu=all"] if engine == "podman" else ["--gpus", "all"]   # podman: CDI
    try:
        with deferred_interrupt():
            res = cli(*base, *(gpu_flags if want_gpus else []), image, "infinity")
            if res.returncode != 0 and want_gpus and gpus == "auto":
                cli("rm", "-f", "-v", name)
                res = cli(*base, image, "infinity")   # no NVIDIA runtime here: GPU checks will say so
        if res.returncode != 0:
            raise UsageError(f"could not start a container of {image}: {res.stderr.strip()}")
        yield res.stdout.strip()
    finally:
        with deferred_interrupt():
            cli("rm", "-f", "-v", name)
