"""Shared helpers for the setup-script and Ansible renderer tests.

CASES: one or more example steps per step type (the golden tests render each alone).
full_plan(): every case in one plan. hostile_plan(text): every string field carries `text`.
Golden files: tests/unit/render_hosts/golden/<format>/<case>.<ext>; regenerate with
TOOLKIT_UPDATE_GOLDEN=1 python -m pytest tests/unit/render_hosts.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.unit.render_fixtures import bundled_plans, example_plans, in_ci, locked_plans, tool  # noqa: F401 - for the tests of this tree
from tests.unit.render_fixtures import check_golden as _check_golden
from tests.unit.render_fixtures import write_file as wf
from toolkit.model.plan import Plan, Target
from toolkit.model.steps import (
    Account,
    AuthorizedKeys,
    ContainerToolkit,
    CopyTree,
    CreateUser,
    Directory,
    Environment,
    GitConfig,
    Groups,
    Metadata,
    Mount,
    NvidiaDriver,
    OsPackages,
    PackageRepository,
    PipInstall,
    RunCommand,
    RunStep,
    Service,
    Step,
    TrustCA,
    Venv,
    WriteFile,
)

GOLDEN = Path(__file__).parent / "golden"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBdGVzdA==\n-----END CERTIFICATE-----\n"
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEfVmPFsNGXyRkvEoe8bTVVfRbHEx1cZUy9t2S2k2sQp alice@laptop"
HOSTILE = "'; rm -rf / # $(id) `id` \"q\" {{ lookup('pipe', 'id') }}\nnext"

CUDA_URL = "https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/"
CUDA_REPOSITORY = PackageRepository("driver", "NVIDIA CUDA repository", name="toolkit-cuda", url=CUDA_URL,
                                    key_url=CUDA_URL + "3bf863cc.pub",
                                    key_fingerprint="EB693B3035CD5710E231E123A4B469963BF863CC",
                                    signed_by="/usr/share/keyrings/toolkit-cuda-archive.asc",
                                    keyring_packages=("cuda-keyring",))
CTK_REPOSITORY = PackageRepository("driver", "NVIDIA container toolkit repository", name="nvidia-container-toolkit",
                                   url="https://nvidia.github.io/libnvidia-container/stable/deb/", arch_in_url=True,
                                   key_url="https://nvidia.github.io/libnvidia-container/gpgkey",
                                   key_fingerprint="C95B321B61E88C1809C4F759DDCAE044F796ECB0",
                                   signed_by="/usr/share/keyrings/nvidia-container-toolkit.asc")

CASES: dict[str, Step] = {
    "apt": OsPackages("os", "OS packages", packages=("ca-certificates", "python3", "curl=7.88.1-10")),
    "write_file": wf("user", "sudo rights for dev", "/etc/sudoers.d/toolkit-dev",
                     "dev ALL=(ALL:ALL) NOPASSWD: ALL\n", mode="0440"),
    "trust_ca": TrustCA("network", "trust extra CA certificates",
                        files=(wf("network", "CA corp", "/usr/local/share/ca-certificates/toolkit/00-corp.crt", PEM),)),
    "env_build_only": Environment("network", "proxy settings", build_only=True,
                                  variables=(("http_proxy", "http://proxy:3128"), ("no_proxy", "localhost,.corp"))),
    "env_persistent": Environment("env", "profile environment", variables=(("PYTHONUNBUFFERED", "1"),)),
    "create_user": CreateUser("user", "user dev", name="dev", uid=1000, gid=1000, home="/home/dev"),
    "venv": Venv("python", "virtual environment /opt/venv", path="/opt/venv", owner="dev"),
    "pip": PipInstall("pytorch", "PyTorch (cpu)", venv="/opt/venv", requirements=("torch==2.7.1",),
                              index_url="https://download.pytorch.org/whl/cpu",
                              extra_index_urls=("https://pypi.org/simple",), find_links="/opt/toolkit/wheelhouse",
                              no_index=True),
    "git": GitConfig("git", "Git configuration", settings=(("init.defaultBranch", "main"),), lfs=True),
    "service_host": Service("jupyter", "Jupyter server", name="jupyter", user="dev", port=8888,
                            command=("/opt/venv/bin/jupyter", "lab", "--ip=0.0.0.0", "--port=8888"),
                            enable_on_host=True, environment=(("VIRTUAL_ENV", "/opt/venv"),),
                            secret_file="/etc/toolkit/jupyter.env", secret_variable="JUPYTER_TOKEN"),
    "service_gpu_only": Service("monitoring", "GPU exporter (NVML)", name="gpu_exporter", in_image=False,
                                enable_on_host=True, needs_gpu=True,
                                command=("/opt/toolkit/gpu-exporter/bin/python", "exporter.py", "--port", "9400")),
    "service_image_only": Service("jupyter", "Jupyter server", name="jupyter", user="dev",
                                  command=("/opt/venv/bin/jupyter", "lab")),
    "metadata": Metadata("metadata", "provenance", profile_json='{"name": "golden"}\n'),
    "run_creates": RunCommand("python", "venv (uv)", argv=("/opt/toolkit/bootstrap/bin/uv", "venv", "/opt/venv"),
                              creates="/opt/venv/bin/python"),
    "run_unless": RunCommand("network", "drop default deb822 sources",
                             argv=("rm", "-f", "/etc/apt/sources.list.d/debian.sources"),
                             unless=("sh", "-c", '! test -e "$1"', "probe", "/etc/apt/sources.list.d/debian.sources")),
    "run_always": RunCommand("misc", "ldconfig", argv=("ldconfig",)),
    "pip_requirement_files": PipInstall("packages", "pip requirement files", venv="/opt/venv",
                                        requirement_files=("/opt/toolkit/requirements/requirements.txt",),
                                        extra_index_urls=("https://pypi.example.com/simple",)),
    "run_step_once": RunStep("run", "run warm-cache", name="warm-cache", argv=("python3", "-c", "print('warm $HOME')"),
                             user="dev", home="/home/dev", env=(("GREETING", "hi there"),), digest="ab" * 32),
    "run_step_creates": RunStep("run", "run warm", name="warm", argv=("/opt/toolkit/run/warm",),
                                creates="/data/.warm", digest="cd" * 32),
    "run_step_unless": RunStep("run", "run lfs", name="lfs", argv=("git", "lfs", "install", "--system"), user="dev",
                               home="/home/dev", unless=("git", "config", "--system", "filter.lfs.process"),
                               digest="ef" * 32),
    "copy_tree": CopyTree("python", "wheelhouse", source="/srv/wheels", dest="/opt/toolkit/wheelhouse"),
    # One of each GPU host step here; every strategy has its goldens in test_gpu_steps.py.
    "nvidia_driver": NvidiaDriver("driver", "NVIDIA driver 550 (cuda-repo, proprietary modules)", strategy="cuda-repo",
                                  branch="550", packages=("cuda-drivers-550",), kernel_prefix="linux-headers-",
                                  min_version="550.54.14", repository=CUDA_REPOSITORY),
    "container_toolkit": ContainerToolkit("driver", "NVIDIA Container Toolkit (Docker runtime)",
                                          repository=CTK_REPOSITORY),
    "package_repository": PackageRepository(
        "monitoring", "NVIDIA DCGM repository", name="toolkit-dcgm", url="https://example.com/dcgm/ubuntu2204/",
        suite="stable", components=("main", "contrib"), key_url="https://example.com/dcgm/key.asc",
        key_fingerprint="0123456789ABCDEF0123456789ABCDEF01234567", signed_by="/usr/share/keyrings/toolkit-dcgm.asc"),
    "groups": Groups("users", "groups of the accounts", groups=(("alice", 2001), ("gpu", 0))),
    "account": Account("users", "account alice", name="alice", uid=2001, gid=2001, home="/home/alice",
                       groups=("gpu", "docker"), sudo=True),
    "account_no_sudo": Account("users", "account bob", name="bob", uid=2002, gid=2002, home="/home/bob",
                               shell="/usr/bin/zsh"),
    "authorized_keys": AuthorizedKeys("users", "authorized keys of alice", user="alice", home="/home/alice",
                                      keys=(ED25519,)),
    "directory": Directory("directories", "folder /data/shared", path="/data/shared", owner="alice", group="gpu",
                           mode="2775", uid=2001),
    "mount": Mount("mounts", "mount /data", device="UUID=0a1b2c3d-1111-2222-3333-444455556666", path="/data",
                   fstype="ext4", options=("noatime", "nofail")),
    "mount_format": Mount("mounts", "mount /scratch", device="/dev/nvme1n1", path="/scratch", fstype="xfs",
                          format=True),
}


def target(**overrides) -> Target:
    base = dict(distro="debian", os_version="12", base_image="debian:12", python_version="3.11",
                python_bin="python3", venv="/opt/venv", user="dev", uid=1000, gid=1000, home="/home/dev", gpu=False)
    return Target(**{**base, **overrides})


def plan_of(*steps: Step, name: str = "golden") -> Plan:
    return Plan(name=name, description="golden test plan", digest="0" * 64, target=target(), steps=tuple(steps),
                checks=(), versions=(("python", "3.11"),))


def full_plan() -> Plan:
    return plan_of(*CASES.values(), name="full")


def _hostile_value(value, text: str):
    if isinstance(value, str):
        return text
    if isinstance(value, tuple):
        return tuple(_hostile_value(v, text) for v in value)
    if isinstance(value, (WriteFile, PackageRepository)):
        return hostile_step(value, text)
    return value


def hostile_step(step: Step, text: str) -> Step:
    """The step with every string field (nested ones too) replaced by `text`; `family` names a closed set
    (an unknown one is refused; see tests/unit/model/test_osfamily.py)."""
    changes = {f.name: _hostile_value(getattr(step, f.name), text) for f in dataclasses.fields(step)
               if f.name != "family"}
    return dataclasses.replace(step, **changes)


def hostile_plan(text: str = HOSTILE) -> Plan:
    """Every step type, every string field `text`; validation bypassed on purpose."""
    steps = tuple(hostile_step(s, text) for s in CASES.values())
    # A systemd unit cannot hold a newline in User= nor a quote in EnvironmentFile= (the renderer refuses;
    # see test_script and test_service_unit); the unit's Environment= values stay hostile (quoted).
    steps = tuple(dataclasses.replace(s, user=text.replace("\n", " "), secret_file="/etc/toolkit/hostile.env",
                                      secret_variable="HOSTILE_TOKEN") if isinstance(s, Service) else s
                  for s in steps)
    # The driver strategy picks which functions run (an unknown one is refused; see test_gpu_steps).
    steps = tuple(dataclasses.replace(s, strategy="cuda-repo") if isinstance(s, NvidiaDriver) else s for s in steps)
    return dataclasses.replace(plan_of(*steps), name=text, description=text, digest=text)


def check_golden(rel: str, text: str) -> None:
    _check_golden(GOLDEN / rel, text)
