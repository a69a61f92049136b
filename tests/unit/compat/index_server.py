"""A PEP 691 simple index on 127.0.0.1 for refresh tests: JSON project pages, PEP 658 .metadata files,
wheels served with byte ranges, and misbehaving modes (broken JSON, HTTP 500, never answering)."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TORCH_META = """Metadata-Version: 2.1
Name: torch
Version: 2.99.0
Requires-Python: >=3.11
Requires-Dist: filelock
Requires-Dist: cuda-toolkit[cublas,cudart]==13.0.3; platform_system == "Linux"
Requires-Dist: nvidia-cudnn-cu13==9.30.0.1; platform_system == "Linux"
Requires-Dist: opt-einsum>=3.3; extra == "opt-einsum"
"""
VISION_META = "Metadata-Version: 2.1\nName: torchvision\nVersion: 0.114.0\nRequires-Dist: torch==2.99.0\n"


def _wheel(name: str, meta: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{name}/__init__.py", "# " + "x" * 5000)
        z.writestr(f"{name}-0.114.0.dist-info/METADATA", meta)
    return buf.getvalue()


def _page(name: str, files: list[dict]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files}).encode()


class Index:
    def __init__(self, mode: str = "ok"):
        self.mode = mode
        self.routes: dict[str, tuple[str, bytes]] = {}
        torch_files = [{"filename": f"torch-2.99.0-cp3{m}-cp3{m}-manylinux_2_28_x86_64.whl",
                        "url": f"/files/torch-2.99.0-cp3{m}-cp3{m}-manylinux_2_28_x86_64.whl",
                        "hashes": {}, "requires-python": ">=3.11", "core-metadata": True} for m in (11, 12, 13)]
        torch_files.append({"filename": "torch-2.99.0rc1-cp312-cp312-manylinux_2_28_x86_64.whl",
                            "url": "/files/rc.whl", "hashes": {}, "core-metadata": True})
        self.routes["/simple/torch/"] = ("application/vnd.pypi.simple.v1+json", _page("torch", torch_files))
        for f in torch_files[:3]:
            self.routes[f["url"] + ".metadata"] = ("text/plain", TORCH_META.encode())
        vision = "torchvision-0.114.0-cp312-cp312-manylinux_2_28_x86_64.whl"
        self.routes["/simple/torchvision/"] = ("application/vnd.pypi.simple.v1+json", _page(
            "torchvision", [{"filename": vision, "url": f"../../files/{vision}", "hashes": {}}]))
        self.routes[f"/files/{vision}"] = ("application/octet-stream", _wheel("torchvision", VISION_META))

    def handler(self):
        index = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if index.mode == "hang":
                    time.sleep(5)
                    return
                if index.mode == "500":
                    self.send_error(500)
                    return
                if index.mode == "broken" and self.path.startswith("/simple/"):
                    self._send(200, "application/vnd.pypi.simple.v1+json", b"{not json")
                    return
                if self.path not in index.routes:
                    self.send_error(404)
                    return
                ctype, body = index.routes[self.path]
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start, _, end = rng[6:].partition("-")
                    a, b = int(start), min(int(end), len(body) - 1)
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {a}-{b}/{len(body)}")
                    self.send_header("Content-Length", str(b - a + 1))
                    self.end_headers()
                    self.wfile.write(body[a:b + 1])
                    return
                self._send(200, ctype, body)

            def _send(self, code, ctype, body):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def serve(mode: str = "ok"):
    """(server, base URL); call server.shutdown() when done."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Index(mode).handler())
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/simple"
