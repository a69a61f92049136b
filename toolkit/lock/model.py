"""What a lock holds. Plain frozen data; the file format is lockfile.py's business."""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA = 1


class LockError(Exception):
    """Resolution failed (an index or archive unreachable, no version fits); message and hint for people."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


def step_key(step) -> str:
    """The stable name of a plan step inside a lock: 'component: title'."""
    return f"{step.component}: {step.title}"


@dataclass(frozen=True)
class BaseImage:
    ref: str                 # as the plan names it: ubuntu:22.04, local/debian:12
    digest: str              # sha256:<64 hex>
    kind: str                # "repo-digest" (pullable as repo@digest) | "image-id" (a local image)

    @property
    def pinned(self) -> str:
        """What FROM names in a locked Dockerfile."""
        if self.kind == "repo-digest":
            repo = self.ref.rsplit("@", 1)[0]
            last = repo.rsplit("/", 1)[-1]
            if ":" in last:
                repo = repo[: len(repo) - len(last)] + last.split(":", 1)[0]
            return f"{repo}@{self.digest}"
        return self.ref      # a local image: the tag, checked against digest before a build


@dataclass(frozen=True)
class OsPackage:
    name: str
    version: str
    arch: str                # amd64, all, ...
    step: str                # step_key of the plan step that installs it


@dataclass(frozen=True)
class PipPackage:
    name: str                # canonical (PEP 503 normalised) name
    version: str
    hashes: tuple[str, ...]  # "sha256:<hex>", sorted
    index: str               # the index URL it came from, or "find-links:<folder>"
    step: str                # step_key of the plan step that installs it (the first whose closure needs it)
    files: tuple[str, ...] = ()   # the artifacts the hashes belong to (wheel names carry the platform tags), sorted


@dataclass(frozen=True)
class PipRequest:
    """One PipInstall step of the plan, as the resolver needs it."""

    step: str
    requirements: tuple[str, ...]
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: str | None = None   # a folder on the controller
    no_index: bool = False
    venv: str = ""           # steps into one venv are resolved together; each venv on its own


@dataclass(frozen=True)
class PipTarget:
    python_version: str      # "3.11" (or full "3.11.2" when known)
    platform: str            # uv --python-platform, e.g. "x86_64-manylinux_2_36"


@dataclass(frozen=True)
class AptRequest:
    """One OsPackages step of the plan."""

    step: str
    packages: tuple[str, ...]


@dataclass(frozen=True)
class AptResolution:
    packages: tuple[OsPackage, ...]
    release: str             # "debian 12 (bookworm)"
    arch: str                # dpkg --print-architecture


@dataclass(frozen=True)
class Interpreter:
    version: str             # full version, "3.11.2"
    source: str              # "os package python3.11 3.11.2-6+deb12u6" | "uv managed cpython-3.12.8"


@dataclass(frozen=True)
class Lock:
    profile: str
    profile_digest: str
    toolkit_version: str
    compat_date: str
    inputs: tuple[tuple[str, str], ...]          # what the lock was made from (stale.py compares them)
    target: tuple[tuple[str, str], ...]          # os release, arch, python, platform
    base_image: BaseImage | None
    os_packages: tuple[OsPackage, ...] = ()
    pip: tuple[PipPackage, ...] = ()
    python: Interpreter | None = None
    schema: int = SCHEMA
    notes: tuple[str, ...] = field(default=())
