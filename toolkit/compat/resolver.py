"""resolve(): turn a StackRequest into a Resolution, or raise CompatError listing every problem."""

from __future__ import annotations

from . import versions as V
from .base_flavour import check_duplicates
from .companions import companion_for
from .context import Ctx
from .cuda_select import pick_full, select_cuda
from .cudnn import plan_cudnn
from .data_model import CompatData, load_data
from .frameworks import jax_extra_for, pick_frameworks
from .gpu_checks import check_arch, check_driver, family_floor_of, toolkit_driver_of
from .images import resolve_base_image
from .model import CompatError, Resolution, StackRequest
from .python_select import check_os, python_bin, resolve_python
from .requirements_check import check_co_install, check_pip_lists, resolve_keras

# Resolution attribute -> decision field that explains it (every non-empty value has one).
DECISION_FIELDS = {
    "python": "python.version",
    "cuda": "gpu.cuda",
    "cuda_full": "gpu.cuda_full",
    "cudnn": "gpu.cudnn",
    "torch_variant": "frameworks.pytorch.variant",
    "torch_index_url": "frameworks.pytorch.index_url",
    "torch_requirements": "frameworks.pytorch.requirement",
    "tensorflow_requirement": "frameworks.tensorflow.requirement",
    "jax_requirement": "frameworks.jax.requirement",
    "keras_requirement": "frameworks.keras.requirement",
    "cuda_pip_packages": "gpu.cuda_pip_packages",
    "base_image": "os.base_image",
    "base_flavour": "gpu.base_flavour",
    "min_driver": "gpu.min_driver",
}


def family_floor(cuda: str, data: CompatData | None = None) -> str:
    """Minimum driver of a CUDA major family (minor-version compatibility): "12.8" -> "525.60.13"."""
    return family_floor_of(data or load_data(), cuda)


def toolkit_driver(cuda_full: str, data: CompatData | None = None) -> str | None:
    """Toolkit driver of an exact CUDA release ("12.4.1" -> "550.54.15"); None when unknown."""
    return toolkit_driver_of(data or load_data(), cuda_full)


def resolve(req: StackRequest, data: CompatData | None = None) -> Resolution:
    ctx = Ctx(req, data or load_data())
    if ctx.data.layers:
        ctx.decide("compat.data", " + ".join(ctx.data.layers), "compatibility data in merge order (later wins)",
                   "toolkit compat show lists every value and the file it came from")
    system_python = check_os(ctx)
    pick_frameworks(ctx)
    python = resolve_python(ctx, system_python)

    cuda = cuda_full = cudnn = min_driver = None
    cudnn_variant, pip_packages, candidates = False, [], []
    if req.gpu:
        choice = select_cuda(ctx)
        if choice:
            cuda, candidates = choice.cuda, choice.candidates
            plan = plan_cudnn(ctx, cuda)
            cudnn, cudnn_variant, pip_packages = plan.version, plan.image_variant, plan.pip_packages
            cuda_full = pick_full(ctx, choice, cudnn_variant)
            min_driver = check_driver(ctx, cuda, cuda_full, candidates)
            check_arch(ctx, cuda, candidates)
    elif req.cuda not in (None, "auto"):
        ctx.warn(f"gpu.cuda {req.cuda} is ignored because the stack has no GPU")

    torch_variant, index_url, torch_reqs = _torch(ctx, cuda)
    tf_req = _tensorflow(ctx)
    jax_req = _jax(ctx, cuda)
    keras_req = resolve_keras(ctx)
    check_co_install(ctx, cuda)
    check_pip_lists(ctx)
    base = resolve_base_image(ctx, cuda, cuda_full, cudnn_variant, candidates)
    pip_side = [*torch_reqs, *(r for r in (tf_req, jax_req) if r), *pip_packages, *(t for _, t in req.pip)]
    check_duplicates(ctx, base, pip_side, torch_cuda=cuda is not None)

    if ctx.issues or python is None:
        raise CompatError(ctx.issues)
    return Resolution(
        python=python, cuda=cuda, cuda_full=cuda_full, cudnn=cudnn,
        torch_variant=torch_variant, torch_index_url=index_url, torch_requirements=torch_reqs,
        tensorflow_requirement=tf_req, jax_requirement=jax_req, cuda_pip_packages=tuple(pip_packages),
        base_image=base.image, base_flavour=base.flavour, image_env=base.env, min_driver=min_driver,
        warnings=tuple(ctx.warnings), decisions=tuple(ctx.decisions), keras_requirement=keras_req,
        python_bin=python_bin(req, python, system_python),
    )


def _torch(ctx: Ctx, cuda: str | None) -> tuple[str | None, str | None, tuple[str, ...]]:
    pick = ctx.torch
    if pick is None:
        return None, None, ()
    url: str | None
    if cuda:
        variant = V.cuda_variant(cuda)
        ctx.check_uncertain(pick.source, pick.row, f"cuda_variants.{variant}")
        rule = f"the {variant} build of {pick.label} matches CUDA {cuda}"
    else:
        variant, rule = "cpu", "CPU stack: the cpu build"
    if variant == "cpu" or pick.row.has_index_variant(variant):
        url = ctx.data.pytorch.index_url.format(variant=variant)
        ctx.decide("frameworks.pytorch.index_url", url,
                   f"wheel index of the {variant} variant (never rely on the PyPI default)", "pytorch.index_url")
        source = f"{pick.source}.cuda_variants"
    else:  # only the PyPI wheel's CUDA is known (a release described from the index's metadata)
        url = None
        rule = (f"the PyPI wheel of {pick.label} is its CUDA {cuda} build (no {variant} wheel index is known): "
                "installed from the configured index")
        source = f"{pick.source}.pypi_default_cuda"
    ctx.decide("frameworks.pytorch.variant", variant, rule, source)
    requirement = pick.requirement("torch")
    ctx.decide("frameworks.pytorch.requirement", requirement,
               "exact pin of the requested patch" if pick.pin else "requested major.minor only: any patch",
               pick.source + ".patches")
    reqs = [requirement]
    for extra in ctx.req.torch_extras:
        companion = companion_for(ctx, extra)
        if companion:
            reqs.append(companion)
    return variant, url, tuple(reqs)


def _tensorflow(ctx: Ctx) -> str | None:
    pick = ctx.tf
    if pick is None:
        return None
    and_cuda = ctx.req.gpu and ctx.req.tensorflow_and_cuda and pick.row.and_cuda_extra
    requirement = pick.requirement("tensorflow[and-cuda]" if and_cuda else "tensorflow")
    if and_cuda:
        rule = "GPU stack: the [and-cuda] extra pins CUDA/cuDNN as nvidia-* wheels"
    elif ctx.req.gpu:
        rule = "GPU stack without [and-cuda]: plain tensorflow on the system CUDA/cuDNN"
    else:
        rule = "CPU stack: plain tensorflow"
    ctx.decide("frameworks.tensorflow.requirement", requirement, rule, f"{pick.source}.and_cuda_extra")
    return requirement


def _jax(ctx: Ctx, cuda: str | None) -> str | None:
    pick = ctx.jax
    if pick is None:
        return None
    if cuda:
        extra = jax_extra_for(ctx, pick, cuda)
        if extra is None:
            return None  # select_cuda already reported it
        ctx.check_uncertain(pick.source, pick.row, f"extras.{extra}")
        requirement = pick.requirement(f"jax[{extra}]")
        rule, source = f"jax[{extra}] serves CUDA {V.major(cuda)}.x", f"jax.extras.{extra}"
    else:
        requirement, rule, source = pick.requirement("jax"), "CPU stack: plain jax", pick.source
    ctx.decide("frameworks.jax.requirement", requirement, rule, source)
    return requirement
