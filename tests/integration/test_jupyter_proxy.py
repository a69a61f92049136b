"""jupyter.proxy.tls in an image, for real: the bundled datascience-cpu profile (its image is built by the session's
other tests; this child shares its layers) with Nginx in front of Jupyter, run with a token. From this machine,
through the published ports on 127.0.0.1: HTTPS answers with the certificate the container made at its first
start, HTTP redirects to HTTPS, the API refuses a request without the token, a kernel runs 1+1 over a websocket
through the proxy, and Jupyter's own port answers nothing (it listens on loopback inside the container only).
Then `toolkit verify --target docker://...` runs the jupyter_proxy check inside the container.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from toolkit.errors import ToolkitError
from toolkit.verify.probe import services

from . import harness, images, systemd_host

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


@pytest.fixture
def proxied(docker_engine, proxy_image):
    """A container of the proxy image, run with a token; (profile, container, HTTPS port, token) once the
    API answers through Nginx."""
    profile, tag = proxy_image
    token = uuid.uuid4().hex
    container = docker_engine.containers.run(
        tag, detach=True, name=f"tk-monitor-proxy-{uuid.uuid4().hex[:8]}", labels={harness.TEST_LABEL: "1"},
        environment={"JUPYTER_TOKEN": token},
        ports={"443/tcp": ("127.0.0.1", None), "80/tcp": ("127.0.0.1", None), "8888/tcp": ("127.0.0.1", None)})
    try:
        container.reload()
        https = published(container, 443)
        deadline, status = time.monotonic() + 90, None
        while time.monotonic() < deadline:
            status, _ = services.https_request(https, BASE_URL + "api")
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200, container.logs(tail=40).decode(errors="replace")
        yield profile, container, https, token
    finally:
        harness.remove_container(container)


def test_image_serves_jupyter_over_https_only(proxied):
    profile, container, https, token = proxied
    http_port, plain = published(container, 80), published(container, 8888)
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


HOST_PROFILE = """\
name: jupyter-proxy-host
os: {distro: debian, version: "12"}
git: {enabled: false}
jupyter: {enabled: true, service: true, proxy: {tls: true, base_url: /jl/}}
"""


@pytest.mark.ssh
def test_host_serves_jupyter_through_its_proxy_unit(systemd_target, tmp_path):
    """On a systemd host over SSH (deploy, sudo with a password): Nginx's own unit next to Jupyter's, the
    package's nginx.service disabled; verify as root proves the certificate, the redirect, the token and a
    kernel over the websocket; a second apply changes nothing."""
    target = systemd_target()
    profile = tmp_path / "profile.yaml"
    profile.write_text(HOST_PROFILE)
    toolkit = systemd_host.toolkit_over_ssh(target, tmp_path)

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

    # jupyter.proxy.cert/key: the user's pair replaces the self-signed one, the key root-only and in no output;
    # the proxy restarts and presents it (verify compares the presented certificate with the file)
    cert_pem, key_pem = _pair()
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "box.pem").write_text(cert_pem)
    (tmp_path / "certs" / "box.key").write_text(key_pem)
    profile.write_text(HOST_PROFILE.replace("base_url: /jl/", "base_url: /jl/, cert: certs/box.pem, "
                                            "key: certs/box.key"))
    logs = tmp_path / "logs"
    third = toolkit("apply", str(profile), "--no-verify", "--log-dir", str(logs))
    assert third.returncode == 0, third.stdout + third.stderr
    stat = systemd_host.run_as_root(target.container, "stat -c %U:%a /var/lib/toolkit/tls/jupyter.key; "
                                    "sha256sum </var/lib/toolkit/tls/jupyter.pem")[1].split()
    assert stat[:2] == ["root:600", hashlib.sha256(cert_pem.encode()).hexdigest()], stat
    secret = "".join(key_pem.splitlines()[1:-1])[:40]
    assert secret not in third.stdout + third.stderr
    assert all(secret not in p.read_text(errors="replace") for p in logs.rglob("*") if p.is_file())
    res = toolkit("verify", str(profile), "--json", user="root")
    assert res.returncode == 0, res.stdout + res.stderr
    (check,) = [c for c in json.loads(res.stdout)["checks"] if c["kind"] == "jupyter_proxy"]
    assert check["status"] == "passed" and "certificate matches" in check["found"], check
    presented = systemd_host.run_as_root(target.container, "openssl s_client -connect 127.0.0.1:443 "
                                         "</dev/null 2>/dev/null | openssl x509 -noout -subject")[1]
    assert "CN = box.example" in presented or "CN=box.example" in presented, presented


def _pair() -> tuple[str, str]:
    """A throwaway certificate for box.example and its key (PEM)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "box.example")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


ARTIFACTS = REPO / "test-artifacts"
NOTEBOOK = {"type": "notebook", "content": {
    "cells": [{"cell_type": "code", "source": "21 * 2", "metadata": {}, "outputs": [], "execution_count": None}],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5}}


class DevTools:
    """The Chrome DevTools protocol over one page's websocket (plain ws on 127.0.0.1)."""

    def __init__(self, port: int, url: str):
        import socket

        path = url.split(f"127.0.0.1:{port}", 1)[1]
        self.conn = socket.create_connection(("127.0.0.1", port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.conn.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            buffer += self.conn.recv(65536)
        head, _, self.buffer = buffer.partition(b"\r\n\r\n")
        assert b" 101 " in head.split(b"\r\n")[0], head
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.conn.sendall(services.ws_frame(json.dumps({"id": self.next_id, "method": method,
                                                        "params": params}).encode()))
        partial = b""
        while True:
            opcode, payload, self.buffer = services.ws_read(self.conn, self.buffer)
            partial += payload
            try:
                msg = json.loads(partial)
            except ValueError:
                continue
            partial = b""
            if msg.get("id") == self.next_id:
                assert "error" not in msg, msg
                return msg["result"]

    def js(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait(self, expression: str, timeout: float = 90) -> object:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {expression}")


@pytest.mark.slow
def test_jupyterlab_in_a_real_browser_through_the_proxy(proxied, tmp_path):
    """Headless Chromium (Debian's chromium-headless-shell, scripts/ensure-chromium.sh) opens JupyterLab over
    HTTPS through Nginx, runs a notebook cell and the page shows its result; the screenshot is kept in
    test-artifacts/jupyterlab-through-proxy.png."""
    import shutil
    import socket

    browser = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    if browser is None:
        harness.skip_or_fail("no headless Chromium here (scripts/ensure-chromium.sh installs Debian's)")
    _, _, https, token = proxied
    status, text = services.https_request(https, BASE_URL + "api/contents/check.ipynb", "PUT", token,
                                          body=json.dumps(NOTEBOOK))
    assert status in (200, 201), text
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([browser, "--headless", "--no-sandbox", "--disable-gpu", "--ignore-certificate-errors",
                             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900",
                             "--remote-debugging-address=127.0.0.1", f"--remote-debugging-port={port}",
                             "--no-proxy-server", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "chromium.log", "w"))
    try:
        deadline, pages = time.monotonic() + 30, []
        while time.monotonic() < deadline and not pages:
            try:
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                        f"http://127.0.0.1:{port}/json/list", timeout=5) as resp:
                    pages = [p for p in json.loads(resp.read()) if p["type"] == "page"]
            except OSError:
                time.sleep(0.3)
        assert pages, (tmp_path / "chromium.log").read_text()[-2000:]
        tools = DevTools(port, pages[0]["webSocketDebuggerUrl"])
        tools.call("Page.enable")
        tools.call("Page.navigate", url=f"https://127.0.0.1:{https}{BASE_URL}lab/tree/check.ipynb?token={token}")
        tools.wait("!!document.querySelector('.jp-Notebook .jp-Cell .cm-content')")
        tools.wait("(document.querySelector('.jp-Notebook-ExecutionIndicator, .jp-KernelStatus') || {}).title"
                   " !== undefined && !!document.querySelector('[data-command=\"notebook:run-cell-and-select-next\"]')")
        time.sleep(2)     # the kernel connects
        # as a person does it: click into the cell, then Shift+Enter
        x, y = tools.js("(() => { const r = document.querySelector('.jp-Notebook .jp-Cell .cm-content')"
                        ".getBoundingClientRect(); return [r.x + 20, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            tools.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        for kind in ("rawKeyDown", "keyUp"):
            tools.call("Input.dispatchKeyEvent", type=kind, modifiers=8, key="Enter", code="Enter",
                       windowsVirtualKeyCode=13, nativeVirtualKeyCode=13)
        try:
            output = tools.wait("(document.querySelector('.jp-Notebook .jp-OutputArea-output') || {}).innerText")
        finally:      # kept either way: what the browser showed
            ARTIFACTS.mkdir(exist_ok=True)
            shot = tools.call("Page.captureScreenshot", format="png")["data"]
            (ARTIFACTS / "jupyterlab-through-proxy.png").write_bytes(base64.b64decode(shot))
        assert str(output).strip() == "42", output
    finally:
        proc.terminate()
        proc.wait(timeout=30)
