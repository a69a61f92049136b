"""Checks: what verification asserts, produced by the same components that install things."""

from __future__ import annotations

from dataclasses import dataclass

TIERS = ("cpu", "gpu")

# The closed set of check kinds and the parameters each takes. The verifier implements
# every kind; the probe gathers the facts they need in one round trip.
CHECK_KINDS: dict[str, tuple[str, ...]] = {
    "os_release": ("distro", "version"),
    "apt_package": ("name",),
    "python_version": ("python", "version"),
    "venv": ("path",),
    "pip_package": ("python", "name", "specifier", "import_name"),
    "pip_check": ("python",),
    "torch_cuda": ("python", "cuda"),
    "tensorflow_build": ("python", "cuda", "cudnn"),
    "jupyter": ("python", "flavor", "port"),
    "git": ("lfs",),
    "git_config": ("key", "value"),
    "user": ("name", "uid", "gid", "home", "shell", "sudo"),
    "shm": ("min_mb",),
    "command": ("argv", "expect"),
    "file": ("path",),
    "writable": ("user", "dirs", "trees"),   # as user: a new folder in each of dirs; every folder under trees
    "gpu_driver": (),
    "gpu_inventory": (),
    "torch_gpu": ("python",),
    "torch_matmul": ("python",),
    "tensorflow_gpu": ("python",),
}


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


def _jsonable(v):
    return list(v) if isinstance(v, tuple) else v


def check(kind: str, component: str, description: str, ident: str | None = None, tier: str = "cpu",
          **params) -> Check:
    """Shorthand used by components: check("apt_package", "os", "git installed", name="git")."""
    key = ident or kind
    return Check(id=key, kind=kind, component=component, description=description,
                 params=tuple(sorted(params.items())), tier=tier)
