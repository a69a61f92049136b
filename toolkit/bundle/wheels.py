"""The locked wheels, fetched from the index pages the lock records, each checked against the lock's
sha256 before it is kept.

Per package: its wheels (all of them the lock lists: the target's pip picks one), or its sdist when it
has no wheel. An index's project page (PEP 691 JSON, else the PEP 503 HTML page) gives each file's URL;
a `find-links:FOLDER` package is copied from that folder. Downloads go through the profile's proxy and
trust the system's CA store plus the profile's CA certificates. A file already in the wheelhouse with a
locked hash is kept (a second collection downloads nothing). A file whose hash is not one the lock
records is deleted and the bundle refused, naming it.
"""

from __future__ import annotations

import hashlib
import html.parser
import json
import os
import re
import shutil
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit import redact
from toolkit.lock.model import LockError, PipPackage

FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!-]*\.(whl|tar\.gz|zip)$")
JSON_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
CHUNK = 1 << 20
WORKERS = 6


@dataclass(frozen=True)
class Wanted:
    package: PipPackage
    filename: str


def wanted(packages: Sequence[PipPackage]) -> list[Wanted]:
    out = []
    for p in packages:
        wheels = [f for f in p.files if f.endswith(".whl")]
        chosen = wheels or list(p.files[:1])
        if not chosen:
            raise LockError(f"the lock names no file of {p.name} {p.version}", "refresh the lock (toolkit lock PROFILE)")
        for name in chosen:
            if not FILE_NAME.fullmatch(name) or "/" in name:
                raise LockError(f"the lock names an unusable file name for {p.name}: {name!r}")
            out.append(Wanted(p, name))
    return out


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href") or ""
            name = urllib.parse.unquote(urllib.parse.urlsplit(href).path.rsplit("/", 1)[-1])
            self.links.setdefault(name, href)


def file_urls(page: bytes, content_type: str, base: str) -> dict[str, str]:
    """filename -> absolute URL, from a PEP 691 JSON or PEP 503 HTML project page."""
    if "json" in content_type:
        doc = json.loads(page)
        pairs = {f["filename"]: f["url"] for f in doc.get("files", []) if isinstance(f, dict) and "filename" in f}
    else:
        parser = _Links()
        parser.feed(page.decode("utf-8", errors="replace"))
        pairs = parser.links
    return {name: urllib.parse.urljoin(base, url) for name, url in pairs.items()}


def opener(proxies: Mapping[str, str], ca_pem: str | None) -> urllib.request.OpenerDirector:
    ctx = ssl.create_default_context()
    if ca_pem:
        ctx.load_verify_locations(cadata=ca_pem)
    chosen = {k.split("_")[0].lower(): v for k, v in proxies.items() if k.lower() in ("http_proxy", "https_proxy") and v}
    # the profile's proxy; without one, the environment's (http_proxy, https_proxy, no_proxy) as urllib reads it
    proxy = urllib.request.ProxyHandler(chosen) if chosen else urllib.request.ProxyHandler()
    return urllib.request.build_opener(proxy, urllib.request.HTTPSHandler(context=ctx))


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


ATTEMPTS = 4            # a dropped connection, a timeout or a 5xx/429 answer is tried again (1 s, 2 s, 4 s apart)


def transient(exc: OSError) -> bool:
    """Worth another try: not an answer the index meant (404, 403...), a failure on the way."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code >= 500 or exc.code in (408, 429)
    return True


def retrying(action: Callable[[], Any], sleep: Callable[[float], Any] = time.sleep) -> Any:
    """action(), tried again after a transient OSError (ATTEMPTS in all); the last error is raised."""
    for attempt in range(ATTEMPTS):
        try:
            return action()
        except OSError as exc:
            if attempt == ATTEMPTS - 1 or not transient(exc):
                raise
            sleep(2 ** attempt)
    raise AssertionError("unreachable")


class Fetcher:
    def __init__(self, dest: Path, open_url: Callable[..., Any]):
        self.dest, self.open_url = dest, open_url
        self.pages: dict[tuple[str, str], dict[str, str]] = {}

    def project(self, index: str, name: str) -> dict[str, str]:
        key = (index, name)
        if key not in self.pages:
            url = index.rstrip("/") + "/" + urllib.parse.quote(name) + "/"
            req = urllib.request.Request(url, headers={"Accept": JSON_ACCEPT})
            def read() -> dict[str, str]:
                with self.open_url(req, timeout=60) as resp:
                    return file_urls(resp.read(), resp.headers.get("Content-Type", ""), resp.geturl())
            try:
                self.pages[key] = retrying(read)
            except OSError as exc:
                raise LockError(f"could not read the index page of {name} at {redact.url(url)}: {exc}",
                                "check network.proxy and network.ca_certificates, or the index's reachability") from exc
        return self.pages[key]

    def get(self, item: Wanted) -> int:
        """Fetch (or keep) one file; its size. LockError when it cannot be had or its hash is not locked."""
        p, target = item.package, self.dest / item.filename
        if target.is_file() and not target.is_symlink() and sha256_of(target) in p.hashes:
            return target.stat().st_size
        part = target.with_name(target.name + ".part")
        if p.index.startswith("find-links:"):
            source = Path(p.index[len("find-links:"):]) / item.filename
            try:
                shutil.copyfile(source, part)
            except OSError as exc:
                raise LockError(f"could not copy {source}: {exc.strerror}") from None
        else:
            self._download(p, item.filename, part)
        got = sha256_of(part)
        if got not in p.hashes:
            part.unlink()
            raise LockError(f"{item.filename}: its sha256 {got[7:19]}... is not one the lock records for "
                            f"{p.name} {p.version}; it was not kept",
                            "the index served other bytes than when the lock was made: check the index and proxy, "
                            "then bundle again (or refresh the lock if the index really changed)")
        os.replace(part, target)
        return target.stat().st_size

    def _download(self, p: PipPackage, filename: str, part: Path) -> None:
        url = self.project(p.index, p.name).get(filename)
        if url is None:
            raise LockError(f"{filename} is not on {redact.url(p.index)} any more",
                            "refresh the lock (toolkit lock PROFILE)")
        def fetch() -> None:
            with self.open_url(url, timeout=120) as resp, open(part, "wb") as fh:
                shutil.copyfileobj(resp, fh, CHUNK)
        try:
            retrying(fetch)
        except OSError as exc:
            raise LockError(f"could not download {filename} from {redact.url(url)}: {exc}",
                            "check network.proxy and network.ca_certificates; bundling again resumes") from exc


def collect(packages: Sequence[PipPackage], dest: Path, *, proxies: Mapping[str, str], ca_pem: str | None = None,
            progress: Callable[[int, int, int], None] | None = None,
            open_url: Callable[..., Any] | None = None) -> dict[str, int]:
    """Every wanted file in dest/, hash-checked; {file name: size}. progress(done, total, bytes so far)."""
    dest.mkdir(parents=True, exist_ok=True)
    items = wanted(packages)
    fetcher = Fetcher(dest, open_url or opener(proxies, ca_pem).open)
    sizes: dict[str, int] = {}
    with ThreadPoolExecutor(WORKERS) as pool:
        for item, size in zip(items, pool.map(fetcher.get, items), strict=True):
            sizes[item.filename] = size
            if progress:
                progress(len(sizes), len(items), sum(sizes.values()))
    return sizes
