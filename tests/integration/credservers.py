"""Servers on 127.0.0.1 that demand credentials, for tests of toolkit's credential paths.

- `private_index(user, password, wheel)`: a PEP 503 simple index serving one wheel, HTTP Basic auth.
- `auth_proxy(user, password)`: an HTTP forward proxy (GET/HEAD forwarded, CONNECT tunnelled) that
  demands Proxy-Authorization.

Both count the requests they let through and the ones they refused; both stop with their context.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import select
import socket
import threading
import urllib.parse
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-authenticate", "proxy-connection", "te",
       "trailer", "transfer-encoding", "upgrade"}


@dataclass
class Counts:
    allowed: int = 0
    refused: int = 0
    paths: list[str] = field(default_factory=list)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def make_wheel(folder: Path, name: str = "toolkitsecretprobe", version: str = "1.0") -> Path:
    """A minimal pure-Python wheel: `import NAME; NAME.VALUE == 42`."""
    files = {
        f"{name}/__init__.py": "VALUE = 42\n",
        f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{name}-{version}.dist-info/WHEEL": ("Wheel-Version: 1.0\nGenerator: toolkit-test\n"
                                              "Root-Is-Purelib: true\nTag: py3-none-any\n"),
    }
    record = f"{name}-{version}.dist-info/RECORD"
    lines = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(text.encode())}")
    files[record] = "\n".join(lines + [f"{record},,"]) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


@contextmanager
def _serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def private_index(user: str, password: str, wheel: Path):
    """(port, counts): /simple/<project>/ lists the wheel; everything needs Basic auth."""
    counts = Counts()
    data = wheel.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    project = wheel.name.split("-")[0]
    expected = basic(user, password)

    class Index(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            counts.paths.append(self.path)
            if self.headers.get("Authorization") != expected:
                counts.refused += 1
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="toolkit-test-index"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            counts.allowed += 1
            path = urllib.parse.urlsplit(self.path).path
            if path.rstrip("/") == f"/simple/{project}":
                body = (f'<!DOCTYPE html><html><body><a href="/files/{wheel.name}#sha256={sha}">{wheel.name}</a>'
                        "</body></html>").encode()
                kind = "text/html"
            elif path == f"/files/{wheel.name}":
                body, kind = data, "application/octet-stream"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with _serve(Index) as port:
        yield port, counts


@contextmanager
def auth_proxy(user: str, password: str, timeout: float = 60.0):
    """(port, counts): an HTTP proxy that answers 407 without the right Proxy-Authorization."""
    counts = Counts()
    expected = basic(user, password)

    class Proxy(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _allowed(self) -> bool:
            counts.paths.append(f"{self.command} {self.path}")
            if self.headers.get("Proxy-Authorization") == expected:
                counts.allowed += 1
                return True
            counts.refused += 1
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="toolkit-test-proxy"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False

        def do_CONNECT(self):
            if not self._allowed():
                return
            host, _, port = self.path.rpartition(":")
            upstream = socket.create_connection((host, int(port)), timeout=timeout)
            self.send_response(200, "Connection established")
            self.end_headers()
            sockets = [self.connection, upstream]
            try:
                while True:
                    ready, _, _ = select.select(sockets, [], [], timeout)
                    if not ready:
                        return
                    for s in ready:
                        chunk = s.recv(65536)
                        if not chunk:
                            return
                        (upstream if s is self.connection else self.connection).sendall(chunk)
            finally:
                upstream.close()

        def _forward(self):
            if not self._allowed():
                return
            url = urllib.parse.urlsplit(self.path)
            conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            conn.request(self.command, url.path + (f"?{url.query}" if url.query else ""), headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            self.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            conn.close()

        do_GET = _forward
        do_HEAD = _forward

    with _serve(Proxy) as port:
        yield port, counts
