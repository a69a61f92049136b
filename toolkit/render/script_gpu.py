"""setup.sh parts of the GPU host steps: the NVIDIA driver (one function per strategy) and the
NVIDIA Container Toolkit, plus the bash library they call (templates/gpu-host.sh.j2).

Each function returns the fields of a script.Block: `skip` is the body of sN_skip (prints why and
succeeds where the step has nothing to do on this host: no NVIDIA GPU, or a suitable driver it
adopts); `apply` the body of sN_apply. Every plan value goes through sh().
"""

from __future__ import annotations

from toolkit.model import host_probes, osfamily
from toolkit.model.plan import Plan
from toolkit.model.steps import ContainerToolkit, NvidiaDriver, Service, Step
from toolkit.render import script_repo
from toolkit.render.common import sh, template

STEP_TYPES = (NvidiaDriver, ContainerToolkit)
NON_FREE_HINT = ("enable Debian's contrib non-free non-free-firmware components in the apt sources, "
                 "or use gpu.driver.strategy cuda-repo")


def guarded(step: Step) -> bool:
    """Whether the step needs this library: a GPU host step, or a service only GPU hosts run."""
    return isinstance(step, STEP_TYPES) or (isinstance(step, Service) and step.needs_gpu)


def library(count: int, family: osfamily.OsFamily = osfamily.DEBIAN) -> str:
    """The functions the GPU steps call; rendered once, before the first step."""
    packages, kernel_meta, hold_list = host_probes.for_family(family.name)
    probes = host_probes.HAS_GPU + host_probes.DRIVER_VERSION + packages + kernel_meta + hold_list
    return template("gpu-host.sh.j2").render(probes=probes, count=count, family=family)


def _ubuntu_signed(step: NvidiaDriver, plan: Plan) -> list[str]:
    # Canonical's prebuilt modules are signed with its key: they load under Secure Boot, no DKMS build.
    return [f"nvidia_install {sh(step.kernel_prefix, *step.packages)}"]


def _cuda_repo(step: NvidiaDriver, plan: Plan) -> list[str]:
    # NVIDIA's packages build the module with DKMS against linux-headers-$(uname -r) (kernel_prefix);
    # on the RHEL family against kernel-devel-$(uname -r), from the enabled nvidia-driver module stream.
    repo = [script_repo.call(step.repository)] if step.repository else []
    stream = [f"nvidia_module_stream {sh(step.module_stream)}"] if step.module_stream else []
    return [*repo, *stream, f"nvidia_install {sh(step.kernel_prefix, *step.packages)}"]


def _dkms(step: NvidiaDriver, plan: Plan) -> list[str]:
    lines = []
    if plan.target.distro == "debian":
        lines.append(f"nvidia_require {sh(step.packages[0], NON_FREE_HINT)}")
    return lines + [f"nvidia_install {sh(step.kernel_prefix, *step.packages)}"]


STRATEGIES = {"ubuntu-signed": _ubuntu_signed, "cuda-repo": _cuda_repo, "dkms": _dkms}


def driver(step: NvidiaDriver, plan: Plan) -> dict:
    if step.strategy not in STRATEGIES:
        raise ValueError(f"unknown driver strategy {step.strategy!r}")
    lines = [f"nvidia_refuse_old {sh(step.min_version)}", *STRATEGIES[step.strategy](step, plan)]
    if step.blacklist_nouveau:
        lines.append("nvidia_blacklist_nouveau")
    if step.lock:
        # Signed modules exist per kernel: hold the kernel metapackages too, so both move together.
        kernel = step.kernel_prefix if step.strategy == "ubuntu-signed" else ""
        lines.append(f"nvidia_hold {sh(step.branch, kernel, *step.packages)}")
    lines.append(f"nvidia_reboot_required {sh(f'NVIDIA driver {step.branch} installed')}")
    return {"skip": f"nvidia_driver_skip {sh(step.install_mode, step.min_version, *step.packages)}",
            "apply": "\n".join(lines)}


def container_toolkit(step: ContainerToolkit, plan: Plan) -> dict:
    family = osfamily.for_distro(plan.target.distro)
    repo = [script_repo.call(step.repository)] if step.repository else []
    lines = [*repo, f"{family.script_install} {sh(*step.packages)}",
             "nvidia_configure_docker"]
    return {"skip": f"nvidia_skip {sh(step.install_mode)}", "apply": "\n".join(lines)}
