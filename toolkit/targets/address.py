"""Target addresses, the one syntax apply, verify and doctor take (`--target`, repeatable):

    local                           this machine
    ssh://[user@]host[:port]        an SSH host (host: a name, an IP, [IPv6] or an ssh config alias)
    docker://CONTAINER              a running container (docker exec)
    docker-image://IMAGE or IMAGE   a container started from the image for the run, removed afterwards
    podman-image://IMAGE            the same with Podman (an image in Podman's own store)

`parse(text)` -> Address; a bad address is a UsageError (exit 2) that shows the text escaped and
masks a password. Nothing here connects to anything.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from toolkit import redact
from toolkit.errors import UsageError
from toolkit.targets.ssh_values import SSH_HOST_RE, SSH_USER_RE, shown

IMAGE_RE = re.compile(r"^(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9][a-z0-9._/-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$")
CONTAINER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
KINDS = ("local", "ssh", "docker", "docker-image", "podman-image")
FORMS = "local, ssh://user@host[:port], docker://CONTAINER, docker-image://IMAGE or podman-image://IMAGE"


@dataclass(frozen=True)
class Address:
    kind: str            # docker-image | podman-image | docker | ssh | local
    name: str = ""       # image, container or ssh host
    user: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        if self.kind == "local":
            return "local"
        if self.kind == "ssh":
            return "ssh://" + (f"{self.user}@" if self.user else "") + self.name + (f":{self.port}" if self.port else "")
        return f"{self.kind}://{self.name}"


def parse(address: str) -> Address:
    text = address.strip()
    if text in ("local", "local://"):
        return Address("local")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "docker-image", text
    if scheme in ("docker-image", "podman-image"):
        if not IMAGE_RE.fullmatch(rest):
            raise UsageError(f"invalid image name {shown(rest)}", f"e.g. {scheme}://toolkit/datascience-cpu:latest")
        return Address(scheme, rest)
    if scheme == "docker":
        if not CONTAINER_RE.fullmatch(rest):
            raise UsageError(f"invalid container name {shown(rest)}", "give a container name or id: docker://NAME")
        return Address("docker", rest)
    if scheme == "ssh":
        return _parse_ssh(rest)
    raise UsageError(f"unknown target {shown(redact.value(address))}", f"use {FORMS}")


def _parse_ssh(rest: str) -> Address:
    if not rest.isprintable():    # urlsplit would drop a newline or tab silently
        raise UsageError(f"invalid ssh target {shown(rest)}: control or invisible characters")
    url = urllib.parse.urlsplit("ssh://" + rest)
    try:
        port = url.port
        if port == 0:
            raise ValueError(port)
    except ValueError:
        raise UsageError(f"invalid ssh port in {shown(redact.value(rest).rpartition('@')[2])}") from None
    host = url.hostname or ""
    if url.password is not None:
        raise UsageError("a password in an ssh:// address is not supported (not shown here)",
                         "log in with a key (--identity or the ssh agent); sudo's password: TOOLKIT_SUDO_PASSWORD")
    if url.path or url.query or url.fragment or not host:
        raise UsageError(f"invalid ssh target {shown(redact.value(rest))}", "use ssh://user@host:port (no path)")
    if ":" in host:
        host = f"[{host}]"
    if not SSH_HOST_RE.fullmatch(host) or (url.username and not SSH_USER_RE.fullmatch(url.username)):
        raise UsageError(f"invalid ssh target {shown(redact.value(rest))}", "use ssh://user@host:port (letters, digits, . _ -)")
    return Address("ssh", host, url.username, port)
