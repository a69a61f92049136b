"""Helpers behind the integration-test fixtures (see conftest.py).

Everything here talks to a *real* Docker engine (scripts/ensure-docker.sh starts
one) and to sshd containers published on loopback only. Rules kept here:

- sshd containers publish port 22 on 127.0.0.1 only, and every connection goes
  to 127.0.0.1:<published port>; a container's bridge address is never used.
- Every container and image made here carries the label ``toolkit-test=1`` so a
  cleanup can find leftovers (:func:`remove_leftover_containers`).
- Without an engine or base image, tests skip locally but *fail* when CI is
  "true"/"1": CI must never go green without a real engine.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import subprocess
import tarfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ENSURE_DOCKER = "scripts/ensure-docker.sh"
ENSURE_BASE_IMAGE = "scripts/ensure-base-image.sh"

DEFAULT_BASE_IMAGE = "local/debian:12"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

TEST_LABEL = "toolkit-test"
SESSION_LABEL = "toolkit-test-session"
SSHD_IMAGE_REPO = "toolkit-test/sshd"

LOOPBACK = "127.0.0.1"
DEPLOY_USER = "deploy"
DEPLOY_UID = 1001
# Test-only password of the `deploy` user in the sshd image (sudo asks for it).
DEPLOY_PASSWORD = "toolkit-deploy-pw"

# Written into the image; regenerates host keys at every container start so
# that each container is a distinct host, and installs the authorized key given
# in TOOLKIT_AUTHORIZED_KEY (passed by start_sshd_container). The key is not
# baked into the image so the image (tagged by content hash) stays reusable
# across test sessions, each of which generates its own key pair.
SSHD_START_SCRIPT = f"""\
#!/bin/sh
set -eu
mkdir -p /run/sshd
if [ -n "${{TOOLKIT_AUTHORIZED_KEY:-}}" ]; then
    printf '%s\\n' "$TOOLKIT_AUTHORIZED_KEY" > /home/{DEPLOY_USER}/.ssh/authorized_keys
    chown {DEPLOY_USER}:{DEPLOY_USER} /home/{DEPLOY_USER}/.ssh/authorized_keys
    chmod 600 /home/{DEPLOY_USER}/.ssh/authorized_keys
fi
rm -f /etc/ssh/ssh_host_* && ssh-keygen -A && exec /usr/sbin/sshd -D -e
"""

SSHD_DOCKERFILE_TEMPLATE = f"""\
FROM {{base_image}}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \\
 && apt-get install -y --no-install-recommends \\
      openssh-server sudo python3 python3-venv ca-certificates \\
 && rm -rf /var/lib/apt/lists/* \\
 && sed -i 's/^session\\s\\+required\\s\\+pam_loginuid.so/session optional pam_loginuid.so/' /etc/pam.d/sshd
# Non-root user in group sudo; sudo requires the password (no NOPASSWD).
RUN useradd --create-home --uid {DEPLOY_UID} --shell /bin/bash --groups sudo {DEPLOY_USER} \\
 && echo '{DEPLOY_USER}:{DEPLOY_PASSWORD}' | chpasswd \\
 && install -d -m 700 -o {DEPLOY_USER} -g {DEPLOY_USER} /home/{DEPLOY_USER}/.ssh \\
 && rm -f /etc/ssh/ssh_host_*
COPY toolkit-sshd-start /usr/local/sbin/toolkit-sshd-start
RUN chmod 755 /usr/local/sbin/toolkit-sshd-start
EXPOSE 22
CMD ["/usr/local/sbin/toolkit-sshd-start"]
"""


# --------------------------------------------------------------------------- #
# skip / fail policy
# --------------------------------------------------------------------------- #
def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def skip_or_fail(reason: str) -> NoReturn:
    """Skip locally; fail under CI=true/1 (CI must not pass without an engine)."""
    if in_ci():
        pytest.fail(f"{reason} (CI={os.environ.get('CI')}: failing instead of skipping)",
                    pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------- #
# engine and images
# --------------------------------------------------------------------------- #
def connect_engine() -> tuple[Any | None, str]:
    """Return (client, "") for an engine that answered ping(), else (None, why)."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError as exc:  # pragma: no cover - docker is a dependency
        return None, f"docker Python SDK not importable: {exc}"
    try:
        client = docker.from_env(timeout=30)
        if not client.ping():
            return None, "engine did not answer ping()"
    except DockerException as exc:
        return None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - requests/socket errors
        return None, f"{type(exc).__name__}: {exc}"
    return client, ""


def base_image_name() -> str:
    return os.environ.get("TOOLKIT_BASE_IMAGE") or DEFAULT_BASE_IMAGE


def image_id(client: Any, name: str) -> str | None:
    from docker.errors import ImageNotFound

    try:
        return client.images.get(name).id
    except ImageNotFound:
        return None


def host_ca_bundle() -> Path | None:
    override = os.environ.get("TOOLKIT_HOST_CA_BUNDLE")
    path = Path(override) if override else HOST_CA_BUNDLE
    return path if path.is_file() else None


def sshd_dockerfile(base_image: str) -> str:
    return SSHD_DOCKERFILE_TEMPLATE.format(base_image=base_image)


def sshd_image_tag(base_image: str, base_image_id: str) -> str:
    """Tag = content hash of Dockerfile + start script + base image id."""
    h = hashlib.sha256()
    for part in (sshd_dockerfile(base_image), SSHD_START_SCRIPT, base_image_id):
        h.update(part.encode())
        h.update(b"\0")
    return f"{SSHD_IMAGE_REPO}:{h.hexdigest()[:16]}"


def _context_tar(files: dict[str, tuple[str, int]]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, (text, mode) in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def build_image(client: Any, tag: str, files: dict[str, tuple[str, int]]) -> str:
    """Build ``tag`` from an in-memory context (legacy builder via the SDK).

    ``files`` maps context paths to (text, mode); it must contain "Dockerfile".
    Raises RuntimeError with the tail of the build log on failure.
    """
    from docker.errors import BuildError

    try:
        image, _logs = client.images.build(
            fileobj=_context_tar(files),
            custom_context=True,
            tag=tag,
            rm=True,
            forcerm=True,
            labels={TEST_LABEL: "1"},
        )
    except BuildError as exc:
        tail = "".join(
            chunk.get("stream", "") or chunk.get("error", "") for chunk in exc.build_log
        )[-3000:]
        raise RuntimeError(f"building {tag} failed: {exc.msg}\n{tail}") from exc
    return image.id


def ensure_sshd_image(client: Any, base_image: str) -> str:
    """Return the sshd image tag, building it only when no image has that tag."""
    base_id = image_id(client, base_image)
    if base_id is None:
        raise RuntimeError(f"base image {base_image} is missing ({ENSURE_BASE_IMAGE})")
    tag = sshd_image_tag(base_image, base_id)
    if image_id(client, tag) is None:
        build_image(
            client,
            tag,
            {
                "Dockerfile": (sshd_dockerfile(base_image), 0o644),
                "toolkit-sshd-start": (SSHD_START_SCRIPT, 0o755),
            },
        )
    return tag


# --------------------------------------------------------------------------- #
# ssh helpers
# --------------------------------------------------------------------------- #
def generate_keypair(directory: Path, name: str = "id_ed25519") -> tuple[Path, str]:
    """Write an unencrypted ed25519 key (OpenSSH format); return (path, public line)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode() + " toolkit-test"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(private)
    path.chmod(0o600)
    (directory / f"{name}.pub").write_text(public + "\n")
    return path, public


def wait_for_tcp(host: str, port: int, timeout: float = 20.0) -> None:
    """Wait until host:port accepts a TCP connection (loopback only)."""
    _require_loopback(host)
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=2):
                return
        except OSError as exc:
            last = exc
            time.sleep(0.2)
    raise TimeoutError(f"{host}:{port} did not accept connections in {timeout}s: {last}")


def keyscan(host: str, port: int, timeout: float = 20.0) -> str:
    """Return `ssh-keyscan -p PORT HOST` output once sshd answers with host keys.

    docker-proxy accepts TCP before sshd is up, so a plain port check is not
    enough: retry until ssh-keyscan prints at least one key line.
    """
    _require_loopback(host)
    if shutil.which("ssh-keyscan") is None:
        raise RuntimeError("ssh-keyscan not found (install openssh-client)")
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        proc = subprocess.run(
            ["ssh-keyscan", "-T", "3", "-p", str(port), host],
            capture_output=True,
            text=True,
            check=False,
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln and not ln.startswith("#")]
        if lines:
            return "\n".join(lines) + "\n"
        last = proc.stderr.strip()
        if time.monotonic() >= deadline:
            raise TimeoutError(f"ssh-keyscan -p {port} {host}: no host keys in {timeout}s ({last})")
        time.sleep(0.3)


def _require_loopback(host: str) -> None:
    if not (host.startswith("127.") or host in {"::1", "localhost"}):
        raise ValueError(f"refusing to contact {host}: tests only talk to loopback")


@dataclass
class SshTarget:
    container: Any  # docker.models.containers.Container
    host: str
    port: int
    user: str
    password: str
    key_path: Path
    known_hosts_path: Path
    # OpenSSH client config with a Host entry `alias` (HostName/Port/User/
    # IdentityFile/UserKnownHostsFile, StrictHostKeyChecking yes): for ssh -F,
    # testinfra's ssh_config=, ansible's ssh args.
    ssh_config_path: Path | None = None
    alias: str = ""


def write_ssh_config(target: SshTarget, path: Path, alias: str) -> Path:
    path.write_text(
        f"Host {alias}\n"
        f"    HostName {target.host}\n"
        f"    Port {target.port}\n"
        f"    User {target.user}\n"
        f"    IdentityFile {target.key_path}\n"
        f"    IdentitiesOnly yes\n"
        f"    UserKnownHostsFile {target.known_hosts_path}\n"
        f"    GlobalKnownHostsFile /dev/null\n"
        f"    StrictHostKeyChecking yes\n"
        f"    BatchMode yes\n"
    )
    return path


def start_sshd_container(
    client: Any,
    image: str,
    public_key: str,
    key_path: Path,
    workdir: Path,
    session_id: str,
    name_suffix: str | None = None,
    keyscan_timeout: float = 20.0,
    **run_options: Any,
) -> SshTarget:
    """Run one sshd container published on 127.0.0.1 and wait until it answers; run_options go to
    docker run as they are (cap_add, devices: a mount test's container)."""
    token = uuid.uuid4().hex[:8]
    name = f"toolkit-test-sshd-{name_suffix}-{token}" if name_suffix else f"toolkit-test-sshd-{token}"
    container = client.containers.run(
        image,
        detach=True,
        name=name,
        hostname=(name_suffix or "sshd")[:63],
        labels={TEST_LABEL: "1", SESSION_LABEL: session_id},
        environment={"TOOLKIT_AUTHORIZED_KEY": public_key},
        ports={"22/tcp": (LOOPBACK, None)},
        **run_options,
    )
    try:
        container.reload()
        bindings = (container.attrs["NetworkSettings"]["Ports"] or {}).get("22/tcp") or []
        bindings = [b for b in bindings if b.get("HostIp") == LOOPBACK]
        if not bindings:
            raise RuntimeError(f"{name}: port 22 not published on {LOOPBACK}: {container.ports}")
        port = int(bindings[0]["HostPort"])
        try:
            scanned = keyscan(LOOPBACK, port, timeout=keyscan_timeout)
        except TimeoutError as exc:
            container.reload()
            logs = container.logs(tail=30).decode(errors="replace")
            raise RuntimeError(f"{name} ({container.status}): {exc}\n{logs}") from exc
        tdir = workdir / name
        tdir.mkdir(parents=True, exist_ok=True)
        known_hosts = tdir / "known_hosts"
        known_hosts.write_text(scanned)
        target = SshTarget(
            container=container,
            host=LOOPBACK,
            port=port,
            user=DEPLOY_USER,
            password=DEPLOY_PASSWORD,
            key_path=key_path,
            known_hosts_path=known_hosts,
            alias=name,
        )
        target.ssh_config_path = write_ssh_config(target, tdir / "ssh_config", name)
        return target
    except BaseException:
        remove_container(container)
        raise


def remove_container(container: Any) -> None:
    from docker.errors import NotFound

    try:
        container.remove(force=True, v=True)
    except NotFound:
        pass


def remove_leftover_containers(client: Any, session_id: str | None = None) -> int:
    """Remove containers labelled toolkit-test=1 (only one session's if given)."""
    label = f"{SESSION_LABEL}={session_id}" if session_id else f"{TEST_LABEL}=1"
    removed = 0
    for container in client.containers.list(all=True, filters={"label": label}):
        remove_container(container)
        removed += 1
    return removed


def paramiko_connect(target: SshTarget, timeout: float = 15.0, known_hosts: Path | None = None):
    """paramiko SSHClient with key auth and strict host-key checking.

    Only the target's known_hosts file is loaded (RejectPolicy for anything
    else); no agent, no ~/.ssh key lookups.
    """
    import paramiko

    _require_loopback(target.host)
    client = paramiko.SSHClient()
    client.load_host_keys(str(known_hosts or target.known_hosts_path))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        target.host,
        port=target.port,
        username=target.user,
        key_filename=str(target.key_path),
        look_for_keys=False,
        allow_agent=False,
        timeout=timeout,
        banner_timeout=timeout,
        auth_timeout=timeout,
    )
    return client


def run_ssh(client, command: str, stdin_data: str | None = None,
            timeout: float = 60.0) -> tuple[int, str, str]:
    """Run ``command`` over an open paramiko client; return (rc, stdout, stderr)."""
    stdin, stdout, stderr = client.exec_command(command, timeout=timeout)
    if stdin_data is not None:
        stdin.write(stdin_data)
        stdin.flush()
    stdin.channel.shutdown_write()
    out = stdout.read().decode(errors="replace")
    err = stderr.read().decode(errors="replace")
    return stdout.channel.recv_exit_status(), out, err
