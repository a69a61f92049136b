"""A real `toolkit build` through an authenticated proxy from a private index, both on 127.0.0.1 and
both demanding credentials; the credentials must appear nowhere: toolkit's output, `docker history`,
`docker inspect`, the image's profile.json and filesystem, and the command lines (`ps`) of the build.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.parse
import uuid

import pytest
import yaml

from . import credservers
from .harness import REPO_ROOT, TEST_LABEL

PACKAGE = "toolkitsecretprobe"


def toolkit(*args: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, cwd=REPO_ROOT,
                          env=dict(os.environ, NO_COLOR="1", **env), timeout=timeout)


def docker_cli() -> str:
    return shutil.which("docker") or "/usr/bin/docker"


def secrets_in(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


class PsSampler:
    """Command lines of every process, sampled every 0.1 s while the build runs."""

    def __init__(self):
        self.samples: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.1):
            proc = subprocess.run(["ps", "-eo", "args", "ww"], capture_output=True, text=True)
            self.samples.append(proc.stdout)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)


def profile(folder, base_image: str, proxy_port: int, index_port: int, keep_in_image: bool = False):
    doc = {
        "name": "secrets-test",
        "os": {"distro": "debian", "version": "12", "base_image": base_image},
        "python": {"version": "system", "venv": "/opt/venv", "installer": "pip"},
        "git": {"enabled": False},
        "user": {"name": "dev", "uid": 1000, "gid": 1000},
        "network": {"proxy": {"http": f"http://127.0.0.1:{proxy_port}", "keep_in_image": keep_in_image},
                    "pip": {"index_url": f"http://127.0.0.1:{index_port}/simple"}},
        "packages": {"pip": [f"{PACKAGE}==1.0"]},
    }
    path = folder / "secrets-test.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def servers(tmp_path):
    """(index port, proxy port, credentials, forms that must never show, index counts, proxy counts)."""
    tag = uuid.uuid4().hex[:8]
    creds = {"index_user": f"idx-{tag}", "index_password": f"Idx@P:ss%40-{tag}-x9",
             "proxy_user": f"prx-{tag}", "proxy_password": f"Prx@y:S3c/ret-{tag}"}
    wheel = credservers.make_wheel(tmp_path)
    forms = [creds["index_password"], creds["proxy_password"],
             urllib.parse.quote(creds["index_password"], safe=""), urllib.parse.quote(creds["proxy_password"], safe="")]
    for user, pw in (("index_user", "index_password"), ("proxy_user", "proxy_password")):
        forms.append(base64.b64encode(f"{creds[user]}:{creds[pw]}".encode()).decode())   # a Basic header
    with credservers.private_index(creds["index_user"], creds["index_password"], wheel) as (iport, icounts), \
            credservers.auth_proxy(creds["proxy_user"], creds["proxy_password"]) as (pport, pcounts):
        yield iport, pport, creds, forms, icounts, pcounts


@pytest.mark.docker
def test_build_with_private_index_and_proxy_leaks_no_credential(docker_engine, base_image, servers, tmp_path):
    iport, pport, creds, forms, icounts, pcounts = servers
    path = profile(tmp_path, base_image, pport, iport)
    tag = f"toolkit-test/secrets:{uuid.uuid4().hex[:12]}"
    env = {"TOOLKIT_PIP_INDEX_USERNAME": creds["index_user"], "TOOLKIT_PIP_INDEX_PASSWORD": creds["index_password"],
           "TOOLKIT_PROXY_USERNAME": creds["proxy_user"], "TOOLKIT_PROXY_PASSWORD": creds["proxy_password"]}
    with PsSampler() as ps:
        result = toolkit("-v", "build", str(path), "-t", tag, "--network", "host", env=env)
    try:
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-3000:]
        # The servers were used, with credentials: pip went through the proxy to the index.
        assert icounts.allowed >= 2 and any(PACKAGE in p for p in icounts.paths), icounts
        assert pcounts.allowed >= 2 and any(f"127.0.0.1:{iport}" in p for p in pcounts.paths), pcounts
        assert "credentials for pip index 127.0.0.1" in output and "credentials for the proxy" in output
        assert len(ps.samples) > 5
        cli = docker_cli()
        history = subprocess.run([cli, "history", "--no-trunc", tag], capture_output=True, text=True, check=True).stdout
        inspect = subprocess.run([cli, "inspect", tag], capture_output=True, text=True, check=True).stdout
        profile_json = docker_engine.containers.run(tag, ["cat", "/etc/toolkit/profile.json"], remove=True,
                                                    labels={TEST_LABEL: "1"}).decode()
        imported = docker_engine.containers.run(tag, ["/opt/venv/bin/python", "-c",
                                                      f"import {PACKAGE}; print({PACKAGE}.VALUE)"],
                                                remove=True, labels={TEST_LABEL: "1"}).decode()
        assert imported.strip() == "42"
        # grep reads the patterns from a file mounted in, so they are not on its own command line;
        # the same search for the package's name must find it (the search itself works)
        grep = "grep -rlF -f /patterns /etc /home /root /opt /tmp /usr/local 2>/dev/null; echo rc=$?"
        patterns = tmp_path / "patterns"
        for words, expected in ((forms + [creds["index_user"], creds["proxy_user"]], "rc=1"), ([PACKAGE], "rc=0")):
            patterns.write_text("\n".join(words) + "\n")
            found = subprocess.run([cli, "run", "--rm", "--label", f"{TEST_LABEL}=1", "-v",
                                    f"{patterns}:/patterns:ro", "--user", "0", tag, "sh", "-c", grep],
                                   capture_output=True, text=True).stdout
            assert found.strip().splitlines()[-1] == expected, found
        places = {"toolkit output": output, "docker history": history, "docker inspect": inspect,
                  "profile.json": profile_json, "ps": "\n".join(ps.samples)}
        leaks = {where: secrets_in(text, forms) for where, text in places.items()}
        assert not any(leaks.values()), leaks
        assert json.loads(inspect)[0]["Config"].get("Env") and not any(
            "proxy" in e.lower() for e in json.loads(inspect)[0]["Config"]["Env"])
    finally:
        subprocess.run([docker_cli(), "rmi", "-f", tag], capture_output=True)


@pytest.mark.docker
def test_without_credentials_the_index_refuses_and_nothing_hangs(docker_engine, base_image, servers, tmp_path):
    iport, pport, creds, forms, icounts, pcounts = servers
    path = profile(tmp_path, base_image, pport, iport)
    env = {"TOOLKIT_PROXY_USERNAME": creds["proxy_user"], "TOOLKIT_PROXY_PASSWORD": creds["proxy_password"],
           "HOME": str(tmp_path)}                                              # no ~/.netrc
    result = toolkit("build", str(path), "-t", f"toolkit-test/secrets-fail:{uuid.uuid4().hex[:8]}",
                     "--network", "host", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert icounts.refused >= 1 and icounts.allowed == 0
    assert not secrets_in(result.stdout + result.stderr, forms)


@pytest.mark.docker
def test_legacy_builder_refuses_credentials_instead_of_leaking(docker_engine, base_image, tmp_path):
    path = profile(tmp_path, base_image, 3128, 8080)
    result = toolkit("build", str(path), "-t", "toolkit-test/never:1", "--no-buildkit",
                     env={"TOOLKIT_PIP_INDEX_USERNAME": "u", "TOOLKIT_PIP_INDEX_PASSWORD": "Legacy-S3cret"},
                     timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "only BuildKit keeps" in result.stderr and "Legacy-S3cret" not in result.stdout + result.stderr


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def host_networked_sshd(docker_engine, sshd_image, ssh_keypair, tmp_path):
    """An sshd container in the host's network namespace, listening on 127.0.0.1:PORT only: its
    setup.sh reaches the test servers on 127.0.0.1 as a real host on the same network would."""
    from . import harness

    key_path, public_key = ssh_keypair
    port = free_port()
    start = harness.SSHD_START_SCRIPT.replace("/usr/sbin/sshd -D -e",
                                              f"/usr/sbin/sshd -D -e -p {port} -o ListenAddress=127.0.0.1")
    container = docker_engine.containers.run(sshd_image, ["sh", "-c", start], detach=True, network_mode="host",
                                             labels={TEST_LABEL: "1"},
                                             environment={"TOOLKIT_AUTHORIZED_KEY": public_key})
    try:
        known = tmp_path / "known_hosts"
        known.write_text(harness.keyscan("127.0.0.1", port))
        yield container, port, key_path, known
    finally:
        harness.remove_container(container)


@pytest.mark.docker
def test_apply_over_ssh_with_private_index_and_proxy_leaks_no_credential(docker_engine, base_image, servers,
                                                                          host_networked_sshd, tmp_path):
    from .harness import DEPLOY_PASSWORD, DEPLOY_USER

    iport, pport, creds, forms, icounts, pcounts = servers
    container, port, key_path, known = host_networked_sshd
    path = profile(tmp_path, base_image, pport, iport)
    netrc = tmp_path / "netrc"        # the index's login from a netrc file this time, the proxy's from the env
    netrc.write_text(f"machine 127.0.0.1 login {creds['index_user']} password {creds['index_password']}\n")
    netrc.chmod(0o600)
    logs = tmp_path / "logs"
    env = {"TOOLKIT_PROXY_USERNAME": creds["proxy_user"], "TOOLKIT_PROXY_PASSWORD": creds["proxy_password"],
           "TOOLKIT_SUDO_PASSWORD": DEPLOY_PASSWORD}
    with PsSampler() as ps:
        result = toolkit("apply", str(path), "--host", f"ssh://{DEPLOY_USER}@127.0.0.1:{port}", "--identity",
                         str(key_path), "--known-hosts", str(known), "--netrc", str(netrc), "--no-verify",
                         "--log-dir", str(logs), env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert icounts.allowed >= 2 and pcounts.allowed >= 2, (icounts, pcounts)
    rc, imported = container.exec_run(["/opt/venv/bin/python", "-c", f"import {PACKAGE}; print({PACKAGE}.VALUE)"])
    assert rc == 0 and imported.decode().strip() == "42", imported
    log_text = "\n".join(p.read_text(errors="replace") for p in logs.rglob("*") if p.is_file())
    assert "step" in log_text
    (tmp_path / "patterns").write_text("\n".join(forms) + "\n")
    container.put_archive("/", _tar({"patterns": (tmp_path / "patterns").read_bytes()}))
    rc, found = container.exec_run(["sh", "-c", "grep -rlF -f /patterns /etc /home /root /opt /tmp /var/lib/toolkit "
                                    "2>/dev/null | grep -vx /patterns; ls -d /tmp/toolkit-apply.* 2>/dev/null; true"])
    assert found.decode().strip() == "", found          # nothing on the host, and apply's temp folder is gone
    places = {"toolkit output": output, "logs": log_text, "ps": "\n".join(ps.samples)}
    leaks = {where: secrets_in(text, forms) for where, text in places.items()}
    assert not any(leaks.values()), leaks


def _tar(files: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
