"""One throwaway container of an image, for asking the image's own tools (apt) what they would do.

The container is named before it is created and carries the label dev.toolkit.lock=1 (plus any the
caller adds: tests add toolkit-test=1), and is removed when the block ends, whatever ends it: an
error, or a Ctrl-C (held while the container is being started or removed, so none is left half made).
Commands run as argv through the Engine API (never a shell), with environment variables per command
(they stay out of the container's configuration that `docker inspect` shows).
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import tarfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from toolkit.errors import deferred_interrupt
from toolkit.lock.model import LockError

LABEL = "dev.toolkit.lock"
NAME_PREFIX = "toolkit-lock-"


@dataclass(frozen=True)
class Result:
    rc: int
    stdout: str
    stderr: str


class Sandbox:
    """A running container: run argv in it, write files into it."""

    def __init__(self, container) -> None:
        self.container = container

    def run(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> Result:
        rc, (out, err) = self.container.exec_run(list(argv), environment=dict(env or {}), demux=True)
        return Result(rc if rc is not None else -1, (out or b"").decode(errors="replace"),
                      (err or b"").decode(errors="replace"))

    def write(self, files: Sequence[tuple[str, str]]) -> None:
        """Write (absolute path, text) files as root, mode 0644; their folders are made first."""
        if not files:
            return
        folders = sorted({posixpath.dirname(path) for path, _ in files})
        made = self.run(["mkdir", "-p", "--", *folders])
        if made.rc != 0:
            raise LockError(f"could not make {', '.join(folders)} in the resolver container: {made.stderr.strip()}")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for path, text in files:
                data = text.encode()
                info = tarfile.TarInfo(path.lstrip("/"))
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
        if not self.container.put_archive("/", buf.getvalue()):
            raise LockError(f"could not write {', '.join(p for p, _ in files)} into the resolver container")


@contextlib.contextmanager
def throwaway(client, image: str, *, labels: Mapping[str, str] | None = None,
              network: str | None = None) -> Iterator[Sandbox]:
    """A container of `image` (an id, repo@digest or tag) that sleeps until the block ends, then is removed."""
    import docker

    name = NAME_PREFIX + uuid.uuid4().hex[:12]
    try:
        with deferred_interrupt():
            try:
                container = client.containers.run(
                    image, ["infinity"], entrypoint=["sleep"], name=name, detach=True,
                    labels={LABEL: "1", **(labels or {})}, network_mode=network)
            except docker.errors.DockerException as exc:
                raise LockError(f"could not start a container of {image}: {exc}",
                                "docker info says whether the engine runs; docker images lists the images here") from exc
        yield Sandbox(container)
    finally:
        with deferred_interrupt():
            _remove(client, name)


def _remove(client, name: str) -> None:
    import docker

    try:
        client.containers.get(name).remove(force=True, v=True)
    except docker.errors.NotFound:
        pass
