"""A PEP 503 simple index on 127.0.0.1 for tests, serving wheels made on the fly.

    with serve_index(tmp_path) as index:
        index.add("testpkg", "1.0", requires=["testdep>=1"])
        index.add("testdep", "1.0")
        ...  # resolve or install against index.url
        index.add("testpkg", "1.1")           # a new release, while the server runs

- `make_wheel(folder, name, version, requires=..., requires_python=..., tag=...)`: a minimal pure-Python
  wheel (`import NAME; NAME.VALUE == 42`, `NAME.VERSION == version`) with real METADATA and RECORD.
- `serve_index(folder, auth=(user, password), hashes=True)`: the server. Project pages list every
  published file with its `#sha256=` fragment (`hashes=False`: none, as PyTorch's index does for some
  wheels) and `data-requires-python`; they carry PyPI's `Cache-Control: max-age=600`, so a client that
  does not revalidate keeps seeing the old list. With `auth`, every request needs HTTP Basic auth.
  `index.counts` counts the requests let through and refused, and the paths asked for.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import threading
import urllib.parse
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Counts:
    allowed: int = 0
    refused: int = 0
    paths: list[str] = field(default_factory=list)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def normalize(name: str) -> str:
    """PEP 503 project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def make_wheel(folder: Path, name: str = "toolkitsecretprobe", version: str = "1.0", *,
               requires: Iterable[str] = (), requires_python: str | None = None,
               tag: str = "py3-none-any") -> Path:
    """A minimal pure-Python wheel: `import NAME; NAME.VALUE == 42`; NAME.VERSION is its version."""
    module = normalize(name).replace("-", "_")
    dist = f"{module}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Python: {requires_python}"] if requires_python else []
    meta += [f"Requires-Dist: {r}" for r in requires]
    files = {
        f"{module}/__init__.py": f"VALUE = 42\nVERSION = {version!r}\n",
        f"{dist}/METADATA": "\n".join(meta) + "\n",
        f"{dist}/WHEEL": f"Wheel-Version: 1.0\nGenerator: toolkit-test\nRoot-Is-Purelib: true\nTag: {tag}\n",
    }
    record = f"{dist}/RECORD"
    lines = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(text.encode())}")
    files[record] = "\n".join(lines + [f"{record},,"]) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{module}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


@dataclass(frozen=True)
class _File:
    path: Path
    sha256: str
    requires_python: str | None


class Index:
    """The running server's state: what it publishes, what it was asked."""

    def __init__(self, folder: Path, hashes: bool):
        self.folder = folder
        self.hashes = hashes
        self.counts = Counts()
        self.port = 0
        self._lock = threading.Lock()
        self._projects: dict[str, list[_File]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple"

    def add(self, name: str, version: str, *, requires: Iterable[str] = (), requires_python: str | None = None,
            tag: str = "py3-none-any") -> Path:
        """Make a wheel of `name` `version` and publish it (at once, also while the server runs)."""
        wheel = make_wheel(self.folder, name, version, requires=requires, requires_python=requires_python, tag=tag)
        self.publish(wheel, requires_python=requires_python)
        return wheel

    def publish(self, wheel: Path, *, requires_python: str | None = None) -> None:
        """List an existing wheel (or sdist) on its project's page; it is served from its own folder."""
        entry = _File(wheel, hashlib.sha256(wheel.read_bytes()).hexdigest(), requires_python)
        project = normalize(re.split(r"-\d", wheel.name, maxsplit=1)[0])
        with self._lock:
            files = self._projects.setdefault(project, [])
            files[:] = [f for f in files if f.path.name != wheel.name] + [entry]

    def page(self, project: str) -> bytes | None:
        with self._lock:
            files = list(self._projects.get(normalize(project), ()))
        if not files:
            return None
        links = []
        for f in files:
            href = f"/files/{urllib.parse.quote(f.path.name)}" + (f"#sha256={f.sha256}" if self.hashes else "")
            attr = f' data-requires-python="{html.escape(f.requires_python)}"' if f.requires_python else ""
            links.append(f'<a href="{href}"{attr}>{html.escape(f.path.name)}</a><br/>')
        return ("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n").encode()

    def file(self, filename: str) -> bytes | None:
        with self._lock:
            found = [f for files in self._projects.values() for f in files if f.path.name == filename]
        return found[0].path.read_bytes() if found else None


@contextmanager
def serve_index(folder: Path, *, auth: tuple[str, str] | None = None, hashes: bool = True) -> Iterator[Index]:
    """An Index on 127.0.0.1 (index.url) until the context ends; wheels it makes go into folder."""
    index = Index(folder, hashes)
    expected = basic(*auth) if auth else None

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_HEAD(self):
            self.do_GET(head=True)

        def do_GET(self, head: bool = False):
            index.counts.paths.append(self.path)
            if expected is not None and self.headers.get("Authorization") != expected:
                index.counts.refused += 1
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="toolkit-test-index"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            index.counts.allowed += 1
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            if path.startswith("/simple/") and path.count("/") <= 3:
                body, kind = index.page(path.split("/")[2]), "text/html"
            elif path.startswith("/files/"):
                body, kind = index.file(path[len("/files/"):]), "application/octet-stream"
            else:
                body, kind = None, ""
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if kind == "text/html":
                self.send_header("Cache-Control", "max-age=600, public")
            self.end_headers()
            if not head:
                self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    index.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield index
    finally:
        server.shutdown()
        server.server_close()
