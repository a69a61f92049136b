"""Choose the CUDA minor (explicit or auto) and its patch release."""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import versions as V
from .context import Ctx, FwPick
from .frameworks import cuda_set, describe_set, releases_with_cuda
from .gpu_checks import arch_ok, driver_need, family_floor_of, parse_cc

CUDA_FIELD = "gpu.cuda"
_NVIDIA_TAG = re.compile(r"^(?:[\w.-]+/)?nvidia/cuda:(\d+\.\d+\.\d+)-")


@dataclass
class CudaChoice:
    cuda: str
    requested_full: str | None  # an explicit X.Y.Z pin; None = pick the patch once the image flavour is known
    candidates: list[str]  # known minors every framework allows (for hints)


def _known(ctx: Ctx) -> list[str]:
    return V.sort_versions(ctx.data.cuda.minors)


def _framework_candidates(ctx: Ctx) -> list[str]:
    allowed = set(_known(ctx))
    for pick in ctx.picks:
        allowed &= set(cuda_set(ctx, pick))
    return V.sort_versions(allowed)


def _declared_driver(ctx: Ctx) -> str | None:
    for value in (ctx.req.driver_version, ctx.req.min_driver):
        if value and V.is_valid(value):
            return value
    return None


def floor_ok(ctx: Ctx, minor: str, driver: str) -> bool:
    return V.at_least(driver, family_floor_of(ctx.data, minor))


def toolkit_driver_rank(ctx: Ctx, minor: str, driver: str) -> int:
    """2: the driver meets the toolkit driver; 1: it meets the best known lower bound of an unknown one;
    0: below, or nothing known (an unknown driver is never treated as satisfied)."""
    row = ctx.data.cuda.minors[minor]
    patch = row.images.patch if row.images else V.newest(row.releases)
    if patch is None:   # a minor without releases: nothing known
        return 0
    need, exact, _ = driver_need(ctx.data, patch)
    if need is None or not V.at_least(driver, need):
        return 0
    return 2 if exact else 1


def _has_images(ctx: Ctx, minor: str) -> bool:
    images = ctx.data.cuda.minors[minor].images
    os_tag = ctx.data.cuda.image.os_tag(ctx.req.distro)
    return images is not None and os_tag is not None and ctx.req.os_version in images.releases(os_tag)


def select_cuda(ctx: Ctx) -> CudaChoice | None:
    req = ctx.req
    candidates = _framework_candidates(ctx)
    if req.cuda and req.cuda != "auto":
        return _explicit(ctx, req.cuda, candidates)
    if not candidates:
        _no_common_cuda(ctx)
        return None
    cuda, rule, source = _auto(ctx, candidates)
    ctx.decide(CUDA_FIELD, cuda, rule, source)
    return CudaChoice(cuda, None, candidates)


def _explicit(ctx: Ctx, requested: str, candidates: list[str]) -> CudaChoice | None:
    known = _known(ctx)
    if not V.is_valid(requested) or V.n_parts(requested) not in (2, 3):
        ctx.issue((CUDA_FIELD,), f"gpu.cuda {requested!r} is not like 12.8 or auto",
                  f"set gpu.cuda to auto or one of {', '.join(known)}")
        return None
    cuda = V.major_minor(requested)
    if cuda not in ctx.data.cuda.minors:
        ctx.issue((CUDA_FIELD,), f"CUDA {cuda} is not in the compatibility data",
                  f"known CUDA versions: {', '.join(known)}")
        return None
    ok = True
    for pick in ctx.picks:
        allowed = cuda_set(ctx, pick)
        if cuda in allowed:
            continue
        ok = False
        others = releases_with_cuda(ctx, pick.name, cuda)
        other = f" or use {others} for {_cuda_name(pick, cuda)}" if others else ""
        choices = [c for c in allowed if c in ctx.data.cuda.minors] or allowed
        ctx.issue((CUDA_FIELD, pick.field),
                  f"{pick.label} has no build for CUDA {cuda}: {describe_set(pick, allowed)}",
                  f"{describe_set(pick, allowed)}; set gpu.cuda to "
                  f"{'it' if len(choices) == 1 else 'one of them'}{other}")
    if not ok:
        return None
    full = requested if V.n_parts(requested) == 3 else None
    if full:
        row = ctx.data.cuda.minors[cuda]
        if full not in row.releases:
            ctx.issue((CUDA_FIELD,), f"CUDA {full} is not a known release",
                      f"known CUDA {cuda} releases: {', '.join(V.sort_versions(row.releases))}")
            return None
    ctx.decide(CUDA_FIELD, cuda, "requested explicitly; every framework offers it", f"cuda.minors.{cuda}")
    return CudaChoice(cuda, full, candidates or [cuda])


def _cuda_name(pick: FwPick, cuda: str) -> str:
    return V.cuda_variant(cuda) if pick.name == "torch" else f"CUDA {cuda}"


def _no_common_cuda(ctx: Ctx) -> None:
    parts = [describe_set(p, cuda_set(ctx, p)) for p in ctx.picks]
    fields = tuple(p.field for p in ctx.picks)
    if ctx.tf and ctx.torch:
        sharing = releases_with_cuda(ctx, "torch", ctx.tf.row.cuda)
        hint = (f"{sharing} offers {V.cuda_variant(ctx.tf.row.cuda)} to match {ctx.tf.label}" if sharing
                else f"no torch release offers CUDA {ctx.tf.row.cuda}")
        hint += "; or install torch and tensorflow in separate environments"
    else:
        hint = "choose framework releases that share a CUDA version, or use separate environments"
    ctx.issue(fields, f"no CUDA version fits every framework: {'; '.join(parts)}", hint)


def _filtered(ctx: Ctx, candidates: list[str]) -> tuple[list[str], list[str]]:
    """Drop minors the driver / GPU / OS images rule out, unless that would drop all (checks report it later)."""
    notes: list[str] = []
    driver = _declared_driver(ctx)
    cc = parse_cc(ctx.req.compute_capability) if ctx.req.compute_capability else None
    filters = []
    if driver:
        filters.append((f"driver {driver}", lambda m: floor_ok(ctx, m, driver)))
    if cc is not None:
        filters.append((f"compute capability {ctx.req.compute_capability}", lambda m: arch_ok(ctx, m, cc)))
    os_tag = ctx.data.cuda.image.os_tag(ctx.req.distro)
    if os_tag and not ctx.req.base_image:
        filters.append((f"{os_tag} {ctx.req.os_version} images", lambda m: _has_images(ctx, m)))
    for what, keep in filters:
        kept = [m for m in candidates if keep(m)]
        if kept and len(kept) < len(candidates):
            notes.append(what)
            candidates = kept
    return candidates, notes


def _auto(ctx: Ctx, all_candidates: list[str]) -> tuple[str, str, str]:
    candidates, notes = _filtered(ctx, all_candidates)
    fits = f" that fits {', '.join(notes)}" if notes else ""
    if ctx.tf and not (ctx.torch or ctx.jax):
        built = ctx.tf.row.cuda
        if built in candidates or len(all_candidates) == 1:
            return built, f"auto: {ctx.tf.label} is built with CUDA {built}", f"{ctx.tf.source}.cuda"
        newer = [m for m in candidates if V.at_least(m, built)] or candidates
        cuda = newer[0]
        return (cuda, f"auto: {ctx.tf.label} is built with CUDA {built} and its [and-cuda] wheels bring those "
                      f"libraries; CUDA {cuda} is the closest image CUDA{fits}", f"{ctx.tf.source}.and_cuda_requires")
    image_cuda = override_cuda(ctx.req.base_image)
    if image_cuda in candidates:
        return image_cuda, f"auto: the CUDA of os.base_image {ctx.req.base_image}{fits}", "request"
    if ctx.torch and ctx.torch.row.pypi_default_cuda:
        default = ctx.torch.row.pypi_default_cuda
        if default in candidates:
            ctx.check_uncertain(ctx.torch.source, ctx.torch.row, "pypi_default_cuda")
            return (default, f"auto: the PyPI default CUDA of {ctx.torch.label}{fits}",
                    f"{ctx.torch.source}.pypi_default_cuda")
    if ctx.jax and not ctx.torch:
        for name in sorted(ctx.jax.row.extras, key=lambda e: -int(ctx.data.jax.extras[e].cuda_major)):
            built = ctx.jax.row.built_with.get(name, ctx.data.jax.extras[name].built_with)
            if built in candidates:
                return (built, f"auto: jax[{name}] is the newest CUDA extra of {ctx.jax.label}, built with CUDA {built}{fits}",
                        f"{ctx.jax.source}.extras")
    driver = _declared_driver(ctx)

    def rank(minor: str):
        certain = not (ctx.data.cuda.minors[minor].uncertain
                       or (ctx.torch and ctx.torch.row.is_uncertain(f"cuda_variants.{V.cuda_variant(minor)}")))
        return (toolkit_driver_rank(ctx, minor, driver) if driver else 2, certain, V.parse(minor))

    cuda = max(candidates, key=rank)
    who = " and ".join(p.label for p in ctx.picks) or "no framework"
    if ctx.torch and ctx.torch.row.pypi_default_cuda:
        why = f"the PyPI default {ctx.torch.row.pypi_default_cuda} is ruled out; "
    else:
        why = ""
    if ctx.torch:
        source = f"{ctx.torch.source}.cuda_variants"
    elif ctx.jax:
        source = f"{ctx.jax.source}.extras"
    else:
        source = f"cuda.minors.{cuda}"
    return (cuda, f"auto: {why}highest well-sourced CUDA allowed by {who}{fits}", source)


def override_full(image: str | None) -> str | None:
    """CUDA release of an nvidia/cuda:X.Y.Z-... override image, else None."""
    m = _NVIDIA_TAG.match(image or "")
    return m.group(1) if m else None


def override_cuda(image: str | None) -> str | None:
    """CUDA minor of an nvidia/cuda:X.Y.Z-... override image, else None."""
    full = override_full(image)
    return V.major_minor(full) if full else None


def pick_full(ctx: Ctx, choice: CudaChoice, cudnn_variant: bool) -> str:
    """The exact CUDA release: the explicit pin, the override image's, or the newest patch with images of
    the flavour the stack needs (cudnn tags can lag behind the plain ones)."""
    cuda, row = choice.cuda, ctx.data.cuda.minors[choice.cuda]
    image_full = override_full(ctx.req.base_image)
    if choice.requested_full:
        full, rule, source = choice.requested_full, "requested explicitly (gpu.cuda)", f"cuda.minors.{cuda}.releases"
    elif image_full in row.releases:
        full, rule, source = image_full, "the CUDA release of the os.base_image override", "request"
    elif row.images:
        wants_cudnn = cudnn_variant and row.images.cudnn is not None and row.images.cudnn.patch is not None
        full = row.images.patch_for(cudnn_variant)
        what = "cudnn" if wants_cudnn else "base/runtime/devel"
        rule = f"newest CUDA {cuda} patch with {what} nvidia/cuda images (the maintained one)"
        source = f"cuda.minors.{cuda}.images.{'cudnn.patch' if wants_cudnn else 'patch'}"
    else:
        newest = V.newest(row.releases)
        assert newest is not None, f"cuda.minors.{cuda} has no releases"
        full, rule = newest, f"newest known CUDA {cuda} release (no image facts)"
        source = f"cuda.minors.{cuda}.releases"
    ctx.check_uncertain(f"cuda.minors.{cuda}", row)
    ctx.check_uncertain(f"cuda.minors.{cuda}.releases.{full}", row.releases[full])
    ctx.decide("gpu.cuda_full", full, rule, source)
    return full
