"""Read a package index's own metadata: the PEP 691 JSON simple API and PEP 658 `.metadata` files.

Standard library only (urllib): proxies come from the usual environment variables, certificates
from the system store plus the CA bundle pip / requests are told to use.
"""

from __future__ import annotations

import io
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from toolkit import inputs
from toolkit.errors import ToolkitError, UsageError

JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"
MAX_PAGE = 64 * 1024 * 1024   # torch's project page lists thousands of files
MAX_METADATA = 4 * 1024 * 1024
CA_ENV = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


class IndexUnavailable(ToolkitError):
    """The index could not be reached or answered badly (exit 1)."""

    def __init__(self, message: str, hint: str | None = None, status: int | None = None):
        super().__init__(message, hint)
        self.status = status


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str
    requires_python: str | None
    has_metadata: bool
    yanked: bool


def ssl_context(cafile: str | None = None) -> ssl.SSLContext:
    """The system trust store, plus the CA bundle named by --cert / PIP_CERT / REQUESTS_CA_BUNDLE / SSL_CERT_FILE."""
    ctx = ssl.create_default_context()
    extra = cafile or next((os.environ[k] for k in CA_ENV if os.environ.get(k)), None)
    if extra:
        try:
            ctx.load_verify_locations(cafile=extra)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"cannot use the CA bundle {inputs.shown(extra, 200)}: {inputs.shown(exc, 200)}",
                             "point PIP_CERT / REQUESTS_CA_BUNDLE at a readable PEM file") from None
    return ctx


def check_index_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"index URL {inputs.shown(url, 200)} is not an http(s) URL",
                         "give a simple-API root such as https://pypi.org/simple")
    if parts.username or parts.password:
        raise UsageError("index URLs with credentials are not accepted here",
                         "use a netrc file or a keyring; toolkit does not take passwords on the command line")
    return url if url.endswith("/") else url + "/"


class IndexClient:
    def __init__(self, index_url: str, timeout: float = 30.0, cafile: str | None = None):
        self.root = check_index_url(index_url)
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ssl_context(cafile)))

    def _get(self, url: str, accept: str, limit: int) -> bytes:
        shown = inputs.shown(url, 200)
        request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "toolkit-compat-refresh"})
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body = response.read(limit + 1)
        except urllib.error.HTTPError as exc:
            raise IndexUnavailable(f"the index answered HTTP {exc.code} for {shown}",
                                   "check --index-url (a PEP 691 simple API root) and try again later",
                                   status=exc.code) from None
        except TimeoutError:
            raise IndexUnavailable(f"the index did not answer within {self.timeout:g}s ({shown})",
                                   "retry, raise --timeout, or use a closer mirror with --index-url") from None
        except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "reason", exc)
            raise IndexUnavailable(f"cannot reach the index at {shown}: {inputs.shown(reason, 200)}",
                                   "check the network, the proxy (HTTPS_PROXY) and the CA bundle (PIP_CERT)") from None
        if len(body) > limit:
            raise IndexUnavailable(f"the index sent more than {limit // (1024 * 1024)} MiB for {shown}")
        return body

    def project(self, name: str) -> list[IndexFile]:
        """Files of a project from its JSON simple page; [] when the index does not have it."""
        url = urllib.parse.urljoin(self.root, f"{name}/")
        try:
            body = self._get(url, f"{JSON_ACCEPT}, application/json;q=0.5", MAX_PAGE)
        except IndexUnavailable as exc:
            if exc.status == 404:
                return []
            raise
        try:
            page = json.loads(body)
            files = page["files"]
            return [_file(url, f) for f in files]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise IndexUnavailable(f"the index's page for {name} is not PEP 691 JSON ({inputs.shown(url, 200)})",
                                   "the index must serve application/vnd.pypi.simple.v1+json "
                                   "(pypi.org, devpi, Artifactory, Nexus and recent pip mirrors do)") from None

    def metadata(self, file: IndexFile) -> Message:
        """The wheel's core metadata: PEP 658 `<url>.metadata` where the index offers it, else the
        METADATA member read out of the wheel with HTTP range requests (never the whole wheel)."""
        url = file.url.split("#", 1)[0]
        body = None
        if file.has_metadata:
            body = self._get(url + ".metadata", "*/*", MAX_METADATA)
        else:
            body = self._member(url, file.filename)
        try:
            return HeaderParser().parsestr(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise IndexUnavailable(f"the metadata of {inputs.shown(file.filename, 120)} is not UTF-8 text") from None

    def _range(self, url: str, start: int, end: int) -> tuple[bytes, int]:
        """Bytes start..end (inclusive) of url and the file's total size."""
        request = urllib.request.Request(url, headers={"Range": f"bytes={start}-{end}",
                                                       "User-Agent": "toolkit-compat-refresh"})
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                total = (response.headers.get("Content-Range") or "").rpartition("/")[2]
                if response.status != 206 or not total.isdigit():
                    raise IndexUnavailable(f"{inputs.shown(url, 200)} does not serve byte ranges and has no "
                                           ".metadata file", "use an index that serves PEP 658 metadata")
                return response.read(end - start + 2), int(total)
        except urllib.error.HTTPError as exc:
            raise IndexUnavailable(f"the index answered HTTP {exc.code} for {inputs.shown(url, 200)}",
                                   status=exc.code) from None
        except TimeoutError:
            raise IndexUnavailable(f"the index did not answer within {self.timeout:g}s "
                                   f"({inputs.shown(url, 200)})") from None
        except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
            raise IndexUnavailable(f"cannot read {inputs.shown(url, 200)}: "
                                   f"{inputs.shown(getattr(exc, 'reason', exc), 200)}") from None

    def _member(self, url: str, filename: str) -> bytes:
        _, total = self._range(url, 0, 0)
        with zipfile.ZipFile(_RangeFile(self, url, total)) as wheel:
            names = [n for n in wheel.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if not names:
                raise IndexUnavailable(f"{inputs.shown(filename, 120)} has no .dist-info/METADATA")
            info = wheel.getinfo(names[0])
            if info.file_size > MAX_METADATA:
                raise IndexUnavailable(f"the METADATA of {inputs.shown(filename, 120)} is too large")
            return wheel.read(info)


class _RangeFile(io.RawIOBase):
    """A read-only, seekable view of a remote file, fetched in blocks by range requests (zipfile needs
    only the central directory at the end and one member)."""

    BLOCK = 1024 * 1024

    def __init__(self, client: IndexClient, url: str, size: int):
        super().__init__()
        self.client, self.url, self.size, self.pos = client, url, size, 0
        self.blocks: dict[int, bytes] = {}

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def _block(self, index: int) -> bytes:
        if index not in self.blocks:
            if len(self.blocks) > 16:
                raise IndexUnavailable(f"reading metadata from {inputs.shown(self.url, 200)} needs too many requests")
            start = index * self.BLOCK
            end = min(self.size, start + self.BLOCK) - 1
            self.blocks[index] = self.client._range(self.url, start, end)[0][: end - start + 1]
        return self.blocks[index]

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.size, self.pos + n)
        chunks = []
        while self.pos < end:
            block = self._block(self.pos // self.BLOCK)
            offset = self.pos % self.BLOCK
            piece = block[offset: offset + (end - self.pos)]
            if not piece:
                break
            chunks.append(piece)
            self.pos += len(piece)
        return b"".join(chunks)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _file(page_url: str, raw: dict) -> IndexFile:
    meta = raw.get("core-metadata", raw.get("data-dist-info-metadata", False))
    yanked = raw.get("yanked", False)
    return IndexFile(filename=str(raw["filename"]), url=urllib.parse.urljoin(page_url, str(raw["url"])),
                     requires_python=raw.get("requires-python") or None,
                     has_metadata=bool(meta), yanked=bool(yanked))
