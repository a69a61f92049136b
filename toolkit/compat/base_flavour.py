"""Which kind of base image a GPU stack starts from, and the rule that no CUDA library is in it twice.

When pip brings every CUDA library the frameworks load (torch's CUDA wheels, tensorflow[and-cuda], jax[cudaNN]),
the image starts from the plain OS image plus the variables NVIDIA's container runtime reads: nvidia/cuda's
-runtime would hold cuBLAS, cuFFT, NCCL... a second time, and even -base holds cudart, which
nvidia-cuda-runtime-cu1X brings too (docs/gpu.md, "Base images"). Something that needs the system CUDA keeps
an nvidia/cuda tag: nvcc (devel), TensorFlow without [and-cuda], a GPU stack without a framework.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import versions as V
from .context import Ctx
from .cuda_libs import FLAVOURS, duplicates, flavour_of
from .frameworks import tf_and_cuda

FLAVOUR_FIELD = "gpu.base_flavour"
DUPLICATES_FIELD = "gpu.duplicate_cuda_libraries"
PLAIN = "os"


@dataclass(frozen=True)
class BaseChoice:
    image: str
    flavour: str | None = None   # a FLAVOURS key; None: an image whose contents toolkit does not know
    env: tuple[tuple[str, str], ...] = ()   # image variables the base would otherwise have set


def system_cuda_need(ctx: Ctx) -> str | None:
    """Why the stack needs the system (image) CUDA libraries; None when pip brings every one it loads."""
    if ctx.req.nvcc:
        return "nvcc requested (gpu.nvcc): the devel image holds the compiler, headers and static libraries"
    if not ctx.picks:
        return "no framework brings CUDA libraries through pip: programs on this stack load the image's"
    system = [p.label for p in ctx.picks if p.name == "tensorflow" and not tf_and_cuda(ctx, p.row)]
    if system:
        return f"{system[0]} without [and-cuda] loads the system CUDA libraries"
    return None


def pip_suppliers(ctx: Ctx) -> str:
    names = []
    for p in ctx.picks:
        if p.name == "torch":
            names.append(f"{p.label}'s CUDA wheels")
        elif p.name == "tensorflow":
            names.append(f"{p.name}[and-cuda] {p.pin or p.key}")
        else:
            names.append(f"{p.label}'s CUDA extra")
    return " and ".join(names)


def container_env(ctx: Ctx, cuda: str) -> tuple[tuple[str, str], ...]:
    """What nvidia/cuda images set for the NVIDIA container runtime. NVIDIA_REQUIRE_CUDA names the CUDA major's
    driver floor: below it nothing runs; above it minor-version compatibility runs the pip libraries (the
    resolver warns below the toolkit driver, as nvidia/cuda's own brand=...,driver>=... alternatives admit)."""
    return (("NVIDIA_VISIBLE_DEVICES", "all"), ("NVIDIA_DRIVER_CAPABILITIES", "compute,utility"),
            ("NVIDIA_REQUIRE_CUDA", f"cuda>={V.major(cuda)}.0"))


def plain_choice(ctx: Ctx, cuda: str) -> BaseChoice:
    req, data = ctx.req, ctx.data
    release = data.os.get(req.distro, {}).get(req.os_version)
    image = (release.image if release else None) or f"{req.distro}:{req.os_version}"
    floor = data.cuda.families[V.major(cuda)].floor
    who = pip_suppliers(ctx)
    ctx.decide("os.base_image", image, f"GPU stack whose CUDA libraries all come from pip ({who}): the plain OS "
               "image; nvidia/cuda's runtime flavour would hold them a second time", f"os.{req.distro}.{req.os_version}")
    ctx.decide(FLAVOUR_FIELD, "plain OS image + NVIDIA container variables",
               f"pip brings every CUDA library ({who}); the host's driver is mounted by the NVIDIA runtime. "
               "Not nvidia/cuda -base: its cudart duplicates nvidia-cuda-runtime, its cuda-compat helps only "
               "data-center GPUs on drivers older than the stack's CUDA (set os.base_image to a -base tag for that). "
               f"NVIDIA_REQUIRE_CUDA=cuda>={V.major(cuda)}.0: the runtime refuses drivers below the CUDA "
               f"{V.major(cuda)}.x floor {floor}", "compat: base_flavour.system_cuda_need")
    return BaseChoice(image, PLAIN, container_env(ctx, cuda))


def kept_flavour(ctx: Ctx, flavour: str, need: str) -> None:
    ctx.decide(FLAVOUR_FIELD, flavour, f"nvidia/cuda {flavour}: {need}", "compat: base_flavour.system_cuda_need")


def check_duplicates(ctx: Ctx, choice: BaseChoice, requirements: list[str], torch_cuda: bool) -> None:
    """No CUDA library twice (base image contents vs the pip CUDA packages). Refused when toolkit chose the base
    with nothing needing the system copy; warned when the user did (os.base_image); explained when the stack
    needs the system libraries (nvcc, TensorFlow without [and-cuda])."""
    flavour = choice.flavour if choice.flavour is not None else flavour_of(choice.image)
    if flavour not in FLAVOURS:
        return
    twice = duplicates(flavour, requirements, torch_cuda)
    if not twice:
        if ctx.req.gpu:
            held = (f"the {flavour} image's CUDA libraries ({', '.join(sorted(FLAVOURS[flavour]))})" if FLAVOURS[flavour]
                    else "the plain OS image holds no CUDA library; the pip CUDA packages bring them once")
            rule = f"{held} and the pip CUDA packages do not overlap" if FLAVOURS[flavour] else held
            ctx.decide(DUPLICATES_FIELD, "none", rule, "compat: cuda_libs.FLAVOURS")
        return
    libs = ", ".join(twice)
    by = sorted({v.split(" (")[0] for v in twice.values()})
    if ctx.req.base_image:
        ctx.warn(f"os.base_image {choice.image} ({flavour}) already holds CUDA libraries that pip installs again "
                 f"({libs}, from {', '.join(by)}): the image carries them twice; drop os.base_image to start "
                 "from the plain OS image, or use an nvidia/cuda -base tag")
        return
    need = system_cuda_need(ctx)
    if need:
        ctx.decide(DUPLICATES_FIELD, libs, f"kept twice on purpose: {need}; the pip copies come from {', '.join(by)}",
                   "compat: cuda_libs.FLAVOURS")
        return
    ctx.issue(("os.base_image",), f"the {flavour} base image {choice.image} and the pip packages "
              f"({', '.join(by)}) would both hold {libs}",
              "this is toolkit's own choice of base image: report it; meanwhile set os.base_image to the plain OS image")
