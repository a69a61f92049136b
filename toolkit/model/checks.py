"""Checks: what verification asserts, produced by the same components that install things.

A check kind is a subclass of ``CheckKind`` here, naming its parameters. ``CHECK_KINDS`` is
derived from those classes; the verifier's table (toolkit/verify/kinds.py) must have exactly one
entry per kind, which it checks when it is imported. See docs/architecture.md, "Adding a check kind".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from toolkit.model.registry import declared_in

TIERS = ("cpu", "gpu")


class CheckKind:
    """One kind of check: ``kind`` is Check.kind, ``params`` the parameters a check of it must carry."""

    kind: ClassVar[str]
    params: ClassVar[tuple[str, ...]]
    hosts_only: ClassVar[bool] = False      # what images leave out: not verified on docker targets

    def __init_subclass__(cls, kind: str, params: tuple[str, ...] = (), **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.kind, cls.params = kind, tuple(params)


class OsRelease(CheckKind, kind="os_release", params=("distro", "version")):
    """The target runs the profile's distribution and release."""


class OsPackage(CheckKind, kind="os_package", params=("name", "family")):
    """An OS package is installed, asked of the family's package database (debian: dpkg)."""


class PythonVersion(CheckKind, kind="python_version", params=("python", "version")):
    """An interpreter exists and has the wanted version."""


class Venv(CheckKind, kind="venv", params=("path",)):
    """A virtual environment exists at path."""


class PipPackage(CheckKind, kind="pip_package", params=("python", "name", "specifier", "import_name")):
    """A distribution is installed in an interpreter, matches its specifier and imports."""


class PipVersion(CheckKind, kind="pip_version", params=("python", "name", "version")):
    """A distribution is installed at exactly the version a lock pins (`verify --locked`)."""


class OsPackageVersion(CheckKind, kind="os_package_version", params=("name", "family", "version")):
    """An OS package is installed at exactly the version a lock pins (`verify --locked`)."""


class PipCheck(CheckKind, kind="pip_check", params=("python",)):
    """`pip check` finds no broken requirements."""


class TorchCuda(CheckKind, kind="torch_cuda", params=("python", "cuda")):
    """torch is built for the plan's CUDA (or is a CPU build)."""


class TensorflowBuild(CheckKind, kind="tensorflow_build", params=("python", "cuda", "cudnn")):
    """TensorFlow is built for the plan's CUDA and cuDNN (or is a CPU build)."""


class Jupyter(CheckKind, kind="jupyter", params=("python", "flavor", "port")):
    """Jupyter starts and refuses its API without a token."""


class JupyterService(CheckKind, kind="jupyter_service", params=("unit", "user", "ip", "port", "env_file")):
    """The host's Jupyter unit is enabled and active as user, listens on ip:port only, refuses its API
    without the token from env_file and answers with it; the token is not in the unit's journal."""


class MetricsEndpoint(CheckKind, kind="metrics_endpoint", params=("unit", "ip", "port", "metric", "gpu")):
    """A Prometheus exporter's unit is active and its /metrics answers with `metric` (gpu: on GPU hosts only)."""

    hosts_only = True


class JupyterHub(CheckKind, kind="jupyterhub", params=("unit", "port", "base_url", "cert", "users")):
    """JupyterHub's unit is active and its API answers over HTTPS through Nginx (presenting `cert`); the user list
    is refused without a login."""

    hosts_only = True


class JupyterProxy(CheckKind, kind="jupyter_proxy",
                   params=("port", "http_port", "base_url", "cert", "jupyter_port", "env_file")):
    """Nginx answers HTTPS with the certificate in `cert`, redirects HTTP, refuses the API without the token and
    runs code in a kernel over a websocket; Jupyter itself listens on loopback only."""


class Git(CheckKind, kind="git", params=("lfs",)):
    """git (and git-lfs) is installed."""


class GitConfig(CheckKind, kind="git_config", params=("key", "value")):
    """A system git config key has its value."""


class User(CheckKind, kind="user", params=("name", "uid", "gid", "home", "shell", "sudo")):
    """A user exists with its ids, home, shell and sudo rights."""


class Shm(CheckKind, kind="shm", params=("min_mb",)):
    """/dev/shm is at least min_mb large."""


class Command(CheckKind, kind="command", params=("argv", "expect")):
    """A command exits 0 (and prints expect)."""


class File(CheckKind, kind="file", params=("path",)):
    """A file exists."""


class Writable(CheckKind, kind="writable", params=("user", "dirs", "trees")):
    """As user: a new folder in each of dirs; every folder under trees writable."""


class GpuDriver(CheckKind, kind="gpu_driver"):
    """The NVIDIA driver is loaded (and nouveau is not)."""


class GpuInventory(CheckKind, kind="gpu_inventory"):
    """nvidia-smi lists at least one GPU."""


class TorchGpu(CheckKind, kind="torch_gpu", params=("python",)):
    """torch sees every GPU nvidia-smi lists."""


class TorchMatmul(CheckKind, kind="torch_matmul", params=("python",)):
    """A matmul on every GPU matches the CPU result."""


class TensorflowGpu(CheckKind, kind="tensorflow_gpu", params=("python",)):
    """TensorFlow lists GPU devices."""


class Account(CheckKind, kind="account", params=("name", "uid", "gid", "home", "shell", "groups", "sudo")):
    """An account (`users:`) exists with its ids, home, shell, sudo rights and supplementary groups."""

    hosts_only = True


class AuthorizedKey(CheckKind, kind="authorized_key", params=("user", "home", "key")):
    """A public key is in an account's ~/.ssh/authorized_keys; the folder 0700 and file 0600, the account's."""

    hosts_only = True


class Directory(CheckKind, kind="directory", params=("path", "owner", "group", "mode", "uid", "gid")):
    """A folder (not a link) with its owner, group and mode (uid/gid: the numbers images use for accounts)."""


class MountPoint(CheckKind, kind="mount", params=("path", "device", "fstype")):
    """A file system of the device is mounted at path, and /etc/fstab mounts it there at boot."""

    hosts_only = True


def _derive(classes: tuple[type[CheckKind], ...]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for cls in classes:
        if cls.kind in out:
            raise TypeError(f"check kind {cls.kind!r} is declared twice ({cls.__name__})")
        out[cls.kind] = cls.params
    return out


# The closed set of check kinds and the parameters each takes, derived from the classes above.
CHECK_KINDS: Mapping[str, tuple[str, ...]] = _derive(declared_in(CheckKind, __name__))

# Kinds of what images leave out (accounts, mounts): verify skips them on docker targets.
HOSTS_ONLY_KINDS: frozenset[str] = frozenset(c.kind for c in declared_in(CheckKind, __name__) if c.hosts_only)

# Kinds older toolkit versions wrote (generated suites, --json files), and how they read today.
LEGACY_KINDS: Mapping[str, tuple[str, dict]] = {"apt_package": ("os_package", {"family": "debian"})}


@dataclass(frozen=True)
class Check:
    id: str                                  # stable, unique in a plan: "pip_package:numpy"
    kind: str
    component: str
    description: str
    params: tuple[tuple[str, object], ...] = ()
    tier: str = "cpu"

    def __post_init__(self):
        if self.kind not in CHECK_KINDS:
            raise ValueError(f"unknown check kind {self.kind!r}")
        if self.tier not in TIERS:
            raise ValueError(f"unknown tier {self.tier!r}")
        missing = set(CHECK_KINDS[self.kind]) - {k for k, _ in self.params}
        if missing:
            raise ValueError(f"check {self.id}: missing params {sorted(missing)}")

    @property
    def p(self) -> dict:
        return dict(self.params)

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "component": self.component, "tier": self.tier,
                "description": self.description, "params": {k: _jsonable(v) for k, v in self.params}}


def from_dict(data: dict) -> Check:
    """A Check from ``Check.to_dict()`` output, also as older toolkit versions wrote it (LEGACY_KINDS)."""
    kind, params = data["kind"], dict(data["params"])
    if kind in LEGACY_KINDS:
        kind, defaults = LEGACY_KINDS[kind]
        params = {**defaults, **params}
    items = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
    return Check(id=data["id"], kind=kind, component=data["component"], description=data["description"],
                 params=items, tier=data["tier"])


def _jsonable(v):
    return list(v) if isinstance(v, tuple) else v


def check(kind: str, component: str, description: str, ident: str | None = None, tier: str = "cpu",
          **params) -> Check:
    """Shorthand used by components: check("os_package", "os", "git installed", name="git", family="debian")."""
    key = ident or kind
    return Check(id=key, kind=kind, component=component, description=description,
                 params=tuple(sorted(params.items())), tier=tier)
