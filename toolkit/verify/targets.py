"""Verification targets: parse an address, make it reachable, hand back a testinfra host spec.

    docker-image://IMAGE or IMAGE   one container started for the run (--shm-size 1g, GPUs when the
                                    machine has them), removed afterwards even on failure
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
import re
import shutil
import subprocess
import tempfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from toolkit import inputs, redact
from toolkit.errors import UsageError
from toolkit.verify import ssh_config
from toolkit.verify.ssh_values import SSH_HOST_RE, SSH_USER_RE, shown

__all__ = ["SSH_HOST_RE", "SSH_USER_RE", "Address", "Target", "open_target", "parse"]

IMAGE_RE = re.compile(r"^(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9][a-z0-9._/-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$")
CONTAINER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
LABEL = "dev.toolkit.verify=1"
SHM_SIZE = "1g"


@dataclass(frozen=True)
class Address:
    kind: str            # docker-image | docker | ssh | local
    name: str = ""       # image, container or ssh host
    user: str | None = None
    port: int | None = None


@dataclass(frozen=True)
class Target:
    address: Address
    hostspec: str        # for testinfra
    description: str

    def host(self):
        import testinfra

        return testinfra.get_host(self.hostspec)


def parse(address: str) -> Address:
    text = address.strip()
    if text in ("local", "local://"):
        return Address("local")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "docker-image", text
    if scheme == "docker-image":
        if not IMAGE_RE.fullmatch(rest):
            raise UsageError(f"invalid image name {shown(rest)}", "e.g. docker-image://toolkit/datascience-cpu:latest")
        return Address("docker-image", rest)
    if scheme == "docker":
        if not CONTAINER_RE.fullmatch(rest):
            raise UsageError(f"invalid container name {shown(rest)}", "give a container name or id: docker://NAME")
        return Address("docker", rest)
    if scheme == "ssh":
        return _parse_ssh(rest)
    raise UsageError(f"unknown target {shown(address)}",
                     "use docker-image://IMAGE, docker://CONTAINER, ssh://user@host:port or local")


def _parse_ssh(rest: str) -> Address:
    if not rest.isprintable():    # urlsplit would drop a newline or tab silently
        raise UsageError(f"invalid ssh target {shown(rest)}: control or invisible characters")
    url = urllib.parse.urlsplit("ssh://" + rest)
    try:
        port = url.port
        if port == 0:
            raise ValueError(port)
    except ValueError:
        raise UsageError(f"invalid ssh port in {shown(redact.value(rest).rpartition('@')[2])}") from None
    host = url.hostname or ""
    if url.password is not None:
        raise UsageError("a password in an ssh:// address is not supported (not shown here)",
                         "log in with a key (--identity or the ssh agent); sudo's password: TOOLKIT_SUDO_PASSWORD")
    if url.path or url.query or url.fragment or not host:
        raise UsageError(f"invalid ssh target {shown(redact.value(rest))}", "use ssh://user@host:port (no path)")
    if ":" in host:
        host = f"[{host}]"
    if not SSH_HOST_RE.fullmatch(host) or (url.username and not SSH_USER_RE.fullmatch(url.username)):
        raise UsageError(f"invalid ssh target {shown(redact.value(rest))}", "use ssh://user@host:port (letters, digits, . _ -)")
    return Address("ssh", host, url.username, port)


@contextlib.contextmanager
def open_target(address: str, ssh_config: str | None = None, gpus: str = "auto") -> Iterator[Target]:
    addr = parse(address)
    if addr.kind == "local":
        yield Target(addr, "local://", "this machine")
    elif addr.kind == "docker":
        _require_running(addr.name)
        yield Target(addr, f"docker://{addr.name}", f"container {addr.name}")
    elif addr.kind == "docker-image":
        with _image_container(addr.name, gpus) as cid:
            yield Target(addr, f"docker://{cid}", f"image {addr.name} (container {cid[:12]})")
    else:
        with tempfile.TemporaryDirectory(prefix="toolkit-ssh-") as tmp:
            config = strict_ssh_config(Path(tmp) / "ssh_config", ssh_config)
            yield Target(addr, ssh_hostspec(addr, config), f"ssh host {addr.name}")


def ssh_hostspec(addr: Address, config: Path) -> str:
    netloc = (f"{addr.user}@" if addr.user else "") + addr.name + (f":{addr.port}" if addr.port else "")
    return f"ssh://{netloc}?" + urllib.parse.urlencode({"ssh_config": str(config), "timeout": "15"})


def strict_ssh_config(path: Path, user_config: str | None) -> Path:
    """An ssh config that forces strict host keys and batch mode, then includes the user's config.

    OpenSSH keeps the first value it reads for an option, so these lines win over the included
    file; -F skips ~/.ssh/config, hence the explicit Include of it when no config is given.
    """
    source = Path(user_config).expanduser() if user_config else Path("~/.ssh/config").expanduser()
    if user_config or os.path.lexists(source):
        inputs.read_text(source, what="ssh config")     # regular, not too large, UTF-8: ssh reads it next
        includes = [Path(os.path.realpath(source))]
    else:
        includes = []
    text = ssh_config.render(options=[("StrictHostKeyChecking", "yes"), ("BatchMode", "yes")], includes=includes)
    return ssh_config.write(path, text)


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    if not shutil.which("docker"):
        raise UsageError("docker not found on PATH", "install the Docker CLI to verify containers and images")
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


def _require_running(name: str) -> None:
    res = docker("inspect", "--format", "{{.State.Running}}", name)
    if res.returncode != 0:
        raise UsageError(f"no container {name}: {res.stderr.strip()}", "docker ps lists running containers")
    if res.stdout.strip() != "true":
        raise UsageError(f"container {name} is not running", f"docker start {name}")


def machine_has_gpu() -> bool:
    return os.path.exists("/dev/nvidia0") or bool(shutil.which("nvidia-smi"))


@contextlib.contextmanager
def _image_container(image: str, gpus: str) -> Iterator[str]:
    inspect = docker("image", "inspect", "--format", "{{.Id}}", image)
    if inspect.returncode != 0:
        raise UsageError(f"image {image} not found: {inspect.stderr.strip()}",
                         "build it first (toolkit build) or give a running container: docker://NAME")
    base = ["run", "-d", "--shm-size", SHM_SIZE, "--label", LABEL, "--entrypoint", "sleep"]
    want_gpus = gpus == "all" or (gpus == "auto" and machine_has_gpu())
    res = docker(*base, *(["--gpus", "all"] if want_gpus else []), image, "infinity")
    if res.returncode != 0 and want_gpus and gpus == "auto":
        res = docker(*base, image, "infinity")   # no NVIDIA runtime here: GPU checks will say so
    if res.returncode != 0:
        raise UsageError(f"could not start a container of {image}: {res.stderr.strip()}")
    cid = res.stdout.strip()
    try:
        yield cid
    finally:
        docker("rm", "-f", "-v", cid)
