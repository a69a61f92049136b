"""A host booted by systemd, in a container: systemd is PID 1, sshd runs as its unit, published on
127.0.0.1 only. The plain sshd containers (harness.py) run sshd as PID 1, so no unit can be enabled
there; these can.

What it takes here (cgroup v1 engine, checked on the CI machine kind): `--cap-add SYS_ADMIN` (systemd
mounts its namespaces; `--privileged` is refused by this engine: it cannot grant CAP_SYS_RESOURCE), the
host's /sys/fs/cgroup read-only, tmpfs on /run and /run/lock. The image has JupyterLab in /opt/venv
already (installed once when the image is built, cached by content hash like every test image), so a
test applies the service, not a 40 MB download. Host keys are made at first boot (a unit before ssh), so
every container is a distinct host; the test key goes to deploy (sudo with a password) and root.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from . import harness
from .harness import (
    DEPLOY_PASSWORD,
    DEPLOY_UID,
    DEPLOY_USER,
    LOOPBACK,
    REPO_ROOT,
    SESSION_LABEL,
    TEST_LABEL,
    SshTarget,
)

IMAGE_REPO = "toolkit-test/systemd-jupyter"
JUPYTERLAB = "jupyterlab==4.6.6"
VENV_UID = 1000          # the profile's user (dev) gets this uid when apply creates it

HOSTKEYS_UNIT = """\
[Unit]
Description=toolkit test: SSH host keys of this container, made at its first boot
Before=ssh.service
[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
[Install]
WantedBy=multi-user.target
"""

DOCKERFILE = f"""\
FROM {{base_image}}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \\
 && apt-get install -y --no-install-recommends systemd systemd-sysv dbus openssh-server sudo python3 python3-venv \\
      ca-certificates procps \\
 && rm -rf /var/lib/apt/lists/* \\
 && sed -i 's/^session\\s\\+required\\s\\+pam_loginuid.so/session optional pam_loginuid.so/' /etc/pam.d/sshd
RUN useradd --create-home --uid {DEPLOY_UID} --shell /bin/bash --groups sudo {DEPLOY_USER} \\
 && echo '{DEPLOY_USER}:{DEPLOY_PASSWORD}' | chpasswd \\
 && install -d -m 700 -o {DEPLOY_USER} -g {DEPLOY_USER} /home/{DEPLOY_USER}/.ssh \\
 && install -d -m 700 /root/.ssh \\
 && rm -f /etc/ssh/ssh_host_*
COPY toolkit-test-hostkeys.service /etc/systemd/system/toolkit-test-hostkeys.service
RUN systemctl enable toolkit-test-hostkeys.service ssh.service
COPY host-ca.crt /tmp/host-ca.crt
RUN python3 -m venv /opt/venv \\
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \\
      $([ -s /tmp/host-ca.crt ] && echo --cert=/tmp/host-ca.crt) {JUPYTERLAB} \\
 && rm /tmp/host-ca.crt && chown -R {VENV_UID}:{VENV_UID} /opt/venv
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
"""


def ensure_image(client: Any, base_image: str, ca_bundle: Path | None) -> str:
    """The image's tag, built only when no image has it (tag: hash of what goes into it)."""
    base_id = harness.image_id(client, base_image)
    if base_id is None:
        raise RuntimeError(f"base image {base_image} is missing ({harness.ENSURE_BASE_IMAGE})")
    dockerfile = DOCKERFILE.format(base_image=base_image)
    ca = ca_bundle.read_text() if ca_bundle is not None else ""
    digest = hashlib.sha256("\0".join((dockerfile, HOSTKEYS_UNIT, base_id, ca)).encode()).hexdigest()
    tag = f"{IMAGE_REPO}:{digest[:16]}"
    if harness.image_id(client, tag) is None:
        harness.build_image(client, tag, {"Dockerfile": (dockerfile, 0o644),
                                          "toolkit-test-hostkeys.service": (HOSTKEYS_UNIT, 0o644),
                                          "host-ca.crt": (ca, 0o644)})
    return tag


def run_as_root(container: Any, script: str, *args: str) -> tuple[int, str]:
    rc, out = container.exec_run(["sh", "-c", script, "sh", *args], user="root")
    return rc, out.decode(errors="replace")


def wait_until_booted(container: Any, timeout: float = 60.0) -> str:
    """systemd's own answer once the boot is over ("running", or "degraded" with the failed units named)."""
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        _, state = run_as_root(container, "systemctl is-system-running 2>/dev/null || true")
        state = state.strip()
        if state in ("running", "degraded"):
            if state == "degraded":
                state += ": " + run_as_root(container, "systemctl --failed --no-legend --plain")[1].strip()
            return state
        time.sleep(0.5)
    container.reload()
    raise RuntimeError(f"systemd did not finish booting in {timeout}s (state {state!r}, container "
                       f"{container.status}): {container.logs(tail=20).decode(errors='replace')}")


def start(client: Any, image: str, public_key: str, key_path: Path, workdir: Path, session_id: str,
          address: str = LOOPBACK, publish: tuple[int, ...] = ()) -> SshTarget:
    """One systemd host, sshd published on 127.0.0.1; deploy and root accept the session's key.

    `address`: another loopback address (127.x.y.z) to publish on, so that several hosts can each publish the
    same port (`publish`: container ports published there as themselves, e.g. an exporter's 9100)."""
    name = f"toolkit-test-systemd-{uuid.uuid4().hex[:8]}"
    container = client.containers.run(
        image, detach=True, name=name, hostname="systemd-host", labels={TEST_LABEL: "1", SESSION_LABEL: session_id},
        cap_add=["SYS_ADMIN"], tmpfs={"/run": "", "/run/lock": ""},
        volumes={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "ro"}},
        ports={"22/tcp": (address, None), **{f"{p}/tcp": (address, p) for p in publish}})
    try:
        wait_until_booted(container)
        rc, out = run_as_root(container, 'for d in /root /home/"$2"; do printf "%s\\n" "$1" >"$d/.ssh/authorized_keys"; '
                              'done; chown "$2:$2" /home/"$2"/.ssh/authorized_keys; '
                              'chmod 600 /root/.ssh/authorized_keys /home/"$2"/.ssh/authorized_keys',
                              public_key, DEPLOY_USER)
        assert rc == 0, out
        container.reload()
        port = int(container.attrs["NetworkSettings"]["Ports"]["22/tcp"][0]["HostPort"])
        known_hosts = workdir / f"{name}.known_hosts"
        known_hosts.write_text(harness.keyscan(address, port))
        target = SshTarget(container=container, host=address, port=port, user=DEPLOY_USER, password=DEPLOY_PASSWORD,
                           key_path=key_path, known_hosts_path=known_hosts, alias=name)
        return target
    except BaseException:
        harness.remove_container(container)
        raise


def toolkit_over_ssh(target: SshTarget, folder: Path):
    """`toolkit ARGS --target ssh://USER@target` as a real process (sudo's password in its environment, the
    target's key and known_hosts, an empty ssh config in folder): a function of (*args, user="deploy")."""
    (folder / "ssh_config").touch()
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO_ROOT), TOOLKIT_SUDO_PASSWORD=DEPLOY_PASSWORD)

    def toolkit(*args: str, user: str = DEPLOY_USER) -> subprocess.CompletedProcess:
        ssh = ["--target", f"ssh://{user}@{target.host}:{target.port}", "--known-hosts",
               str(target.known_hosts_path), "--ssh-config", str(folder / "ssh_config"), "--identity",
               str(target.key_path)]
        return subprocess.run([sys.executable, "-m", "toolkit", *args, *ssh], capture_output=True, text=True,
                              env=env, timeout=900, check=False)
    return toolkit
