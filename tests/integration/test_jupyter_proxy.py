"""jupyter.proxy.tls in an image, for real: the bundled datascience-cpu profile (its image is built by the session's
other tests; this child shares its layers) with Nginx in front of Jupyter, run with a token. From this machine,
through the published ports on 127.0.0.1: HTTPS answers with the certificate the container made at its first
start, HTTP redirects to HTTPS, the API refuses a request without the token, a kernel runs 1+1 over a websocket
through the proxy, and Jupyter's own port answers nothing (it listens on loopback inside the container only).
Then `toolkit verify --target docker://...` runs the jupyter_proxy check inside the container.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from toolkit.errors import ToolkitError
from toolkit.verify.probe import services

from . import harness, images

pytestmark = [pytest.mark.docker]

REPO = Path(__file__).resolve().parents[2]
BASE_URL = "/jl/"
CERT = "/var/lib/toolkit/tls/jupyter.pem"


@pytest.fixture(scope="module")
def proxy_image(docker_engine, base_image, host_ca_bundle, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("jupyter-proxy-image")
    profile = images.datascience_profile(workdir, base_image, host_ca_bundle, name="jupyter-proxy-test",
                                         jupyter={"proxy": {"tls": True, "base_url": BASE_URL}})
    try:
        return profile, images.build_profile_image(docker_engine, profile, workdir, base_image).tag
    except ToolkitError as exc:
        pytest.fail(f"building the jupyter proxy test image failed:\n{exc.render()}", pytrace=False)


def published(container, port: int) -> int:
    return int(container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]["HostPort"])


def unverified() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def test_image_serves_jupyter_over_https_only(docker_engine, proxy_image, tmp_path):
    profile, tag = proxy_image
    token = uuid.uuid4().hex
    container = docker_engine.containers.run(
        tag, detach=True, name=f"tk-monitor-proxy-{uuid.uuid4().hex[:8]}", labels={harness.TEST_LABEL: "1"},
        environment={"JUPYTER_TOKEN": token},
        ports={"443/tcp": ("127.0.0.1", None), "80/tcp": ("127.0.0.1", None), "8888/tcp": ("127.0.0.1", None)})
    try:
        container.reload()
        https, http_port, plain = published(container, 443), published(container, 80), published(container, 8888)
        deadline, status = time.monotonic() + 90, None
        while time.monotonic() < deadline:
            status, _ = services.https_request(https, BASE_URL + "api")
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200, container.logs(tail=40).decode(errors="replace")

        # the certificate presented is the one made at first start (its fingerprint is in the log)
        presented, error = services.tls_fingerprint(https)
        pem = container.exec_run(["cat", CERT]).output.decode()
        assert presented == hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.strip())).hexdigest(), error
        assert "made a self-signed certificate" in container.logs().decode(errors="replace")

        assert services.https_request(https, BASE_URL + "api/contents")[0] == 403
        assert services.https_request(https, BASE_URL + "api/contents", token=token)[0] == 200
        assert services.https_request(https, "/")[0] == 302              # / -> base_url
        code, location = services.plain_http(http_port)
        assert code == 301 and location.startswith("https://"), (code, location)

        # a kernel over the websocket, through Nginx
        result, error = services.kernel_runs(https, BASE_URL, token)
        assert result == "2", error

        # Jupyter itself is not exposed: its published port leads nowhere inside the container
        conn = http.client.HTTPConnection("127.0.0.1", plain, timeout=5)
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            conn.request("GET", BASE_URL + "api")
            conn.getresponse()
        conn.close()

        env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO))
        res = subprocess.run([sys.executable, "-m", "toolkit", "verify", str(profile), "--target",
                              f"docker://{container.id}", "--json"], capture_output=True,
                             text=True, env=env, timeout=300, check=False)
        assert res.returncode == 0, res.stdout + res.stderr
        (check,) = [c for c in json.loads(res.stdout)["checks"] if c["kind"] == "jupyter_proxy"]
        assert check["status"] == "passed" and "kernel (token from the environment): 2" in check["found"], check
        assert token not in res.stdout + res.stderr
    finally:
        harness.remove_container(container)


HOST_PROFILE = """\
name: jupyter-proxy-host
os: {distro: debian, version: "12"}
git: {enabled: false}
jupyter: {enabled: true, service: true, proxy: {tls: true, base_url: /jl/}}
"""


@pytest.mark.ssh
def test_host_serves_jupyter_through_its_proxy_unit(docker_engine, systemd_image, ssh_keypair, tmp_path,
                                                    _test_session_id):
    """On a systemd host over SSH (deploy, sudo with a password): Nginx's own unit next to Jupyter's, the
    package's nginx.service disabled; verify as root proves the certificate, the redirect, the token and a
    kernel over the websocket; a second apply changes nothing."""
    from . import systemd_host

    try:
        target = systemd_host.start(docker_engine, systemd_image, ssh_keypair[1], ssh_keypair[0], tmp_path,
                                    _test_session_id)
    except RuntimeError as exc:
        harness.skip_or_fail(f"no systemd container on this engine: {exc}")
    try:
        profile = tmp_path / "profile.yaml"
        profile.write_text(HOST_PROFILE)
        (tmp_path / "ssh_config").touch()
        env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO), TOOLKIT_SUDO_PASSWORD=harness.DEPLOY_PASSWORD)

        def toolkit(*args: str, user: str = "deploy") -> subprocess.CompletedProcess:
            ssh = ["--target", f"ssh://{user}@{target.host}:{target.port}", "--known-hosts",
                   str(target.known_hosts_path), "--ssh-config", str(tmp_path / "ssh_config"), "--identity",
                   str(target.key_path)]
            return subprocess.run([sys.executable, "-m", "toolkit", *args, *ssh], capture_output=True, text=True,
                                  env=env, timeout=900, check=False)

        started = time.monotonic()
        first = toolkit("apply", str(profile), "--no-verify")
        assert first.returncode == 0, first.stdout + first.stderr
        print(f"apply: {time.monotonic() - started:.1f}s\n{first.stdout}")
        units = systemd_host.run_as_root(target.container, "systemctl is-active toolkit-jupyter_proxy.service "
                                         "toolkit-jupyter.service; systemctl is-enabled nginx.service")[1].split()
        assert units == ["active", "active", "disabled"], units

        started = time.monotonic()
        res = toolkit("verify", str(profile), "--json", user="root")
        print(f"verify: {time.monotonic() - started:.1f}s")
        assert res.returncode == 0, res.stdout + res.stderr
        (check,) = [c for c in json.loads(res.stdout)["checks"] if c["kind"] == "jupyter_proxy"]
        assert check["status"] == "passed", check
        assert "kernel (token from /etc/toolkit/jupyter.env (as root)): 2" in check["found"], check

        second = toolkit("apply", str(profile), "--no-verify")
        assert second.returncode == 0 and "unchanged" in second.stdout, second.stdout + second.stderr
        assert not re.search(r"\bchanged\s+[1-9]", second.stdout), second.stdout
    finally:
        harness.remove_container(target.container)
