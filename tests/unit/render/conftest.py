"""Shared fixtures for renderer tests: Plans built directly (no profile, no resolver).

`make_plan(**overrides)` gives a realistic plan whose steps mirror what the components emit for a
GPU PyTorch profile behind a proxy with an extra CA and a wheelhouse; override any Plan field
(`steps=...`) or Target field (`target={"gpu": False}`). `hostile_plan` puts HOSTILE into every
string a renderer can quote.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.unit.render_fixtures import write_file
from toolkit.model.checks import Check
from toolkit.model.plan import Plan, Target
from toolkit.model.steps import (
    CopyTree,
    CreateUser,
    Environment,
    GitConfig,
    Metadata,
    OsPackages,
    PipInstall,
    RunCommand,
    RunStep,
    Service,
    TrustCA,
    Venv,
    WriteFile,
)

HOSTILE = "x'; rm -rf / # $(id) `id` \"q\" \\\nnext"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
VENV = "/opt/venv"
WHEELHOUSE = "/opt/toolkit/wheelhouse"
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def make_target(**overrides) -> Target:
    base = dict(distro="ubuntu", os_version="22.04", base_image="nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04",
                python_version="3.10", python_bin="python3", venv=VENV, user="dev", uid=1000, gid=1000,
                home="/home/dev", gpu=True)
    return Target(**{**base, **overrides})


def default_steps(target: Target, wheelhouse_source: str = "/srv/wheels") -> tuple:
    py = f"{target.venv}/bin/python"
    ca = write_file("network", "CA corp", "/usr/local/share/ca-certificates/toolkit/00-corp.crt", PEM)
    source = dict(extra_index_urls=("https://pypi.example.com/simple",), find_links=WHEELHOUSE)
    return (
        Environment("network", "proxy settings", build_only=True,
                    variables=(("http_proxy", "http://proxy:3128"), ("HTTP_PROXY", "http://proxy:3128"),
                               ("no_proxy", "localhost,.corp"), ("NO_PROXY", "localhost,.corp"))),
        OsPackages("network", "CA tooling", packages=("ca-certificates",)),
        TrustCA("network", "trust extra CA certificates", files=(ca,), bundle=BUNDLE),
        Environment("network", "point pip at the CA bundle",
                    variables=tuple((n, BUNDLE) for n in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"))),
        OsPackages("os", "OS packages", packages=("ca-certificates", "python3", "python3-venv", "curl=7.81.0-1")),
        OsPackages("git", "Git", packages=("git", "git-lfs")),
        GitConfig("git", "Git configuration", settings=(("init.defaultBranch", "main"),), lfs=True),
        OsPackages("user", "sudo", packages=("sudo",)),
        CreateUser("user", "user dev", name=target.user or "dev", uid=target.uid or 1000, gid=target.gid or 1000,
                   shell="/bin/bash", home=target.home or "/home/dev", sudo=True),
        write_file("user", "sudo rights for dev", "/etc/sudoers.d/toolkit-dev", "dev ALL=(ALL:ALL) NOPASSWD: ALL\n",
                   mode="0440"),
        CopyTree("python", "wheelhouse", source=wheelhouse_source, dest=WHEELHOUSE),
        Venv("python", f"virtual environment {target.venv}", path=target.venv, python=target.python_bin,
             owner=target.user or "root"),
        PipInstall("pytorch", "PyTorch (cu126)", venv=target.venv, requirements=("torch==2.7.1", "torchvision==0.22.1"),
                   index_url="https://download.pytorch.org/whl/cu126", **source),
        PipInstall("packages", "pip packages", venv=target.venv, requirements=("numpy>=1.26,<3", "pandas>=2.1,<3"),
                   **source),
        PipInstall("jupyter", "Jupyter lab", venv=target.venv, requirements=("jupyterlab",), **source),
        Service("jupyter", "Jupyter server", name="jupyter", user=target.user or "root", port=8888,
                command=(f"{target.venv}/bin/jupyter", "lab", "--no-browser", "--ip=0.0.0.0", "--port=8888",
                         "--ServerApp.allow_remote_access=True"),
                healthcheck=(py, "-c", "import urllib.request; "
                             "urllib.request.urlopen('http://127.0.0.1:8888/api', timeout=3)")),
        Environment("env", "profile environment", variables=(("PYTHONUNBUFFERED", "1"),)),
        RunCommand("network", "drop default deb822 sources", argv=("rm", "-f", "/etc/apt/sources.list.d/x.sources")),
        PipInstall("packages", "pip requirement files", venv=target.venv,
                   requirement_files=("/opt/toolkit/requirements/requirements.txt",), **source),
        RunStep("run", "run warm-cache", name="warm-cache", argv=("python3", "-c", "print('warm $HOME')"),
                user=target.user or "root", home=target.home or "/root", env=(("GREETING", "hi there"),),
                digest="ab" * 32),
        Metadata("metadata", "provenance", labels=(("org.opencontainers.image.title", "demo"),
                                                   ("dev.toolkit.version.torch_variant", "cu126")),
                 profile_json=json.dumps({"profile": {"name": "demo"}}, indent=2, sort_keys=True) + "\n"),
    )


def make_plan(**overrides) -> Plan:
    target = overrides.pop("target", None)
    target = target if isinstance(target, Target) else make_target(**(target or {}))
    fields = dict(name="demo", description="a demo plan", digest="0123456789abcdef" * 4, target=target,
                  steps=default_steps(target),
                  checks=(Check("venv", "venv", "python", "venv exists", params=(("path", target.venv),)),),
                  versions=(("python", target.python_version), ("pytorch", "2.7.1")))
    fields.update(overrides)
    return Plan(**fields)


# Fields Dockerfile syntax cannot quote (FROM, WORKDIR, --chmod, --chown, --mount target, ENV names,
# a USER that is not the plan's numeric user): renderers check them against the profile's patterns
# instead, and test_dockerfile.py proves a hostile value there is refused. Everything else is hostile.
# The OS family (a step's `family`, the target's `distro` that selects it) is a closed set: an unknown
# one is refused (tests/unit/model/test_osfamily.py), never rendered.
KEEP = {WriteFile: {"mode", "owner"}, CopyTree: {"dest"}, Venv: {"owner"}, OsPackages: {"family"}}
TARGET_HOSTILE = ("os_version", "python_version", "python_bin", "venv", "user")


def hostilify(value):
    """value with HOSTILE appended to every string, except the KEEP fields of steps."""
    if isinstance(value, str):
        return value + HOSTILE
    if isinstance(value, tuple):
        return tuple(hostilify(v) for v in value)
    if dataclasses.is_dataclass(value):
        keep = KEEP.get(type(value), set()) | {"component"}
        return dataclasses.replace(value, **{f.name: hostilify(getattr(value, f.name))
                                             for f in dataclasses.fields(value) if f.name not in keep})
    return value


def make_hostile_plan() -> Plan:
    target = dataclasses.replace(make_target(), **{k: getattr(make_target(), k) + HOSTILE for k in TARGET_HOSTILE})
    steps = []
    for step in default_steps(make_target()):
        hostile = hostilify(step)
        if isinstance(step, Environment):   # names stay names; values are hostile
            hostile = dataclasses.replace(hostile, variables=tuple((k, v + HOSTILE) for k, v in step.variables))
        if isinstance(step, Venv):          # owned by the plan's (hostile) user, as the builder does
            hostile = dataclasses.replace(hostile, owner=target.user)
        steps.append(hostile)
    plan = make_plan(target=target)
    return dataclasses.replace(plan, name=plan.name + HOSTILE, description=HOSTILE, digest=HOSTILE,
                               steps=tuple(steps), versions=hostilify(plan.versions))


@pytest.fixture
def plan() -> Plan:
    return make_plan()


@pytest.fixture
def hostile_plan() -> Plan:
    return make_hostile_plan()
