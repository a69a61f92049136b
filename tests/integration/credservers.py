"""Servers on 127.0.0.1 that demand credentials, for tests of toolkit's credential paths.

- `private_index(user, password, wheel)`: a PEP 503 simple index serving one wheel, HTTP Basic auth
  (tests/indexserver.py, which also makes the wheel: `make_wheel`).
- `auth_proxy(user, password)`: an HTTP forward proxy (GET/HEAD forwarded, CONNECT tunnelled) that
  demands Proxy-Authorization.

Both count the requests they let through and the ones they refused; both stop with their context.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
import urllib.parse
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.indexserver import Counts, basic, make_wheel, serve_index  # noqa: F401 (make_wheel: re-exported)

HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-authenticate", "proxy-connection", "te",
       "trailer", "transfer-encoding", "upgrade"}


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
    with serve_index(wheel.parent, auth=(user, password)) as index:
        index.publish(wheel)
        yield index.port, index.counts


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
