"""Where cuDNN comes from (framework pip wheels, the image's cudnn variant, or an extra pip pin)."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import versions as V
from .context import Ctx
from .frameworks import jax_extra_for

CUDNN_FIELD = "gpu.cudnn"


@dataclass
class CudnnPlan:
    version: str | None = None
    image_variant: bool = False  # the nvidia/cuda image must be a cudnn variant
    pip_packages: list[str] = field(default_factory=list)


@dataclass
class _Supplier:
    label: str
    version: str | None
    source: str
    field: str


def image_cudnn(ctx: Ctx, cuda: str):
    """The cudnn image block of this CUDA minor when it exists for the requested OS release."""
    images = ctx.data.cuda.minors[cuda].images
    cudnn = images.cudnn if images else None
    os_tag = ctx.data.cuda.image.os_tag(ctx.req.distro)
    if cudnn and os_tag and ctx.req.os_version in cudnn.releases(os_tag):
        return cudnn
    return None


def _pip_suppliers(ctx: Ctx, cuda: str) -> list[_Supplier]:
    out = []
    if ctx.torch:
        variant = V.cuda_variant(cuda)
        key = variant if variant in ctx.torch.row.cudnn else "all"
        out.append(_Supplier(f"{ctx.torch.label} {variant}", ctx.torch.row.cudnn_for(variant),
                             f"{ctx.torch.source}.cudnn.{key}", ctx.torch.field))
    if ctx.tf and ctx.req.tensorflow_and_cuda and ctx.tf.row.and_cuda_extra:
        out.append(_Supplier(f"{ctx.tf.label} [and-cuda]", ctx.tf.row.cudnn, f"{ctx.tf.source}.cudnn", ctx.tf.field))
    if ctx.jax:
        name = jax_extra_for(ctx, ctx.jax, cuda)
        if name:
            out.append(_Supplier(f"{ctx.jax.label} [{name}]", ctx.data.jax.extras[name].cudnn,
                                 f"jax.extras.{name}.cudnn", ctx.jax.field))
    return out


def plan_cudnn(ctx: Ctx, cuda: str) -> CudnnPlan:
    plan = CudnnPlan()
    suppliers = _pip_suppliers(ctx, cuda)
    pip_supplied = bool(suppliers)
    pip_labels = {s.label for s in suppliers}
    if ctx.tf and not (ctx.req.tensorflow_and_cuda and ctx.tf.row.and_cuda_extra):
        tf_sup = _tf_system(ctx, cuda, pip_supplied, plan)
        if tf_sup:
            suppliers.append(tf_sup)
    elif not suppliers and ctx.req.cudnn is not None:
        suppliers.append(_from_image(ctx, cuda, plan))
    _check_requested(ctx, suppliers)
    first = next((s for s in suppliers if s.version), None)
    if first and first.version:
        plan.version = first.version
        how = "the pip wheels of " if first.label in pip_labels else ""
        ctx.decide(CUDNN_FIELD, first.version, f"cuDNN {first.version} comes from {how}{first.label}", first.source)
    return plan


def _tf_system(ctx: Ctx, cuda: str, pip_supplied: bool, plan: CudnnPlan) -> _Supplier | None:
    """TensorFlow without [and-cuda] loads the cuDNN major.minor it was built with from the system."""
    tf = ctx.tf
    assert tf is not None, "plan_cudnn asks only with a TensorFlow pick"
    need = tf.row.cudnn
    if ctx.req.tensorflow_and_cuda:
        ctx.warn(f"{tf.label} has no [and-cuda] extra: installing plain tensorflow, which needs the system "
                 f"CUDA {tf.row.cuda} libraries and cuDNN {need}")
    img = image_cudnn(ctx, cuda)
    if not pip_supplied and img and img.version and V.prefix_match(need, img.version):
        plan.image_variant = True
        return _Supplier(f"the CUDA {cuda} cudnn image for {tf.label}", img.version,
                         f"cuda.minors.{cuda}.images.cudnn.version", tf.field)
    if ctx.req.base_image:
        ctx.warn(f"{tf.label} without [and-cuda] needs cuDNN {need} inside os.base_image {ctx.req.base_image}")
        return _Supplier(f"{tf.label} (system cuDNN)", need, f"{tf.source}.cudnn", tf.field)
    pin = tf.row.cudnn_pin()
    if pin and V.prefix_match(need, pin[1]):
        ctx.check_uncertain(tf.source, tf.row, "and_cuda_pins")
        package = f"{pin[0]}=={pin[1]}"
        plan.pip_packages.append(package)
        ctx.decide("gpu.cuda_pip_packages", package,
                   f"{tf.label} without [and-cuda] needs cuDNN {need}, which the image does not ship: pip wheel pin",
                   f"{tf.source}.and_cuda_pins.{pin[0]}")
        ctx.warn(f"{tf.label} without [and-cuda] loads cuDNN from the {pin[0]} wheel: its lib directory must be on "
                 "LD_LIBRARY_PATH")
        return _Supplier(f"{tf.label} (pip {pin[0]})", pin[1], f"{tf.source}.and_cuda_pins.{pin[0]}", tf.field)
    have = f"the CUDA {cuda} cudnn image ships {img.version}" if img and img.version else "no matching cudnn image exists"
    fix = ("set tensorflow and_cuda to true" if tf.row.and_cuda_extra
           else "use tensorflow >= 2.14 with [and-cuda]")
    ctx.issue((tf.field, CUDNN_FIELD), f"{tf.label} without [and-cuda] needs the system cuDNN {need}, but {have} "
              "and no pip pin for it is known",
              f"{fix}, set os.base_image to an image with cuDNN {need}, or add and_cuda_pins for it in a user data file")
    return None


def _from_image(ctx: Ctx, cuda: str, plan: CudnnPlan) -> _Supplier:
    """No framework brings cuDNN but one was asked for: the image's cudnn variant provides it."""
    plan.image_variant = ctx.data.cuda.image.os_tag(ctx.req.distro) is not None and not ctx.req.base_image
    images = ctx.data.cuda.minors[cuda].images
    cudnn = images.cudnn if images else None
    version = cudnn.version if cudnn else None
    if cudnn and not version and cudnn.token[-1:].isdigit():
        version = cudnn.token[len("cudnn"):]
    return _Supplier(f"the CUDA {cuda} cudnn image", version, f"cuda.minors.{cuda}.images.cudnn", CUDNN_FIELD)


def _check_requested(ctx: Ctx, suppliers: list[_Supplier]) -> None:
    wanted = ctx.req.cudnn
    if wanted in (None, "auto"):
        return
    if not V.is_valid(wanted):
        ctx.issue((CUDNN_FIELD,), f"gpu.cudnn {wanted!r} is not like auto, 9 or 9.10", "set gpu.cudnn to auto")
        return
    for sup in suppliers:
        if sup.version and not (V.prefix_match(wanted, sup.version) or V.prefix_match(sup.version, wanted)):
            fields = (CUDNN_FIELD,) if sup.field == CUDNN_FIELD else (CUDNN_FIELD, sup.field)
            ctx.issue(fields, f"{sup.label} uses cuDNN {sup.version}, not the requested {wanted}",
                      f"set gpu.cudnn: auto (or {V.major(sup.version)}), or choose a release that ships cuDNN {wanted}")
