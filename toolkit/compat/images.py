"""The base image: an explicit override, a plain OS image (CPU) or an nvidia/cuda tag known to exist."""

from __future__ import annotations

from . import versions as V
from .base_flavour import FLAVOUR_FIELD, BaseChoice, container_env, kept_flavour, plain_choice, system_cuda_need
from .context import Ctx
from .cuda_libs import flavour_of
from .cuda_select import override_cuda

IMAGE_FIELD = "os.base_image"


def resolve_base_image(ctx: Ctx, cuda: str | None, cuda_full: str | None, cudnn_variant: bool,
                       candidates: list[str]) -> BaseChoice:
    req, data = ctx.req, ctx.data
    if req.base_image:
        image = _override(ctx, cuda)
        flavour = flavour_of(image)
        if flavour:
            ctx.decide(FLAVOUR_FIELD, flavour, "read from the os.base_image override's tag", "request")
        elif req.gpu and cuda and system_cuda_need(ctx) is None:   # a mirror of the plain OS image, most often
            ctx.decide(FLAVOUR_FIELD, "os.base_image + NVIDIA container variables", "not an nvidia/cuda tag and pip "
                       "brings every CUDA library: the image gets the variables nvidia/cuda would have set", "request")
            return BaseChoice(image, None, container_env(ctx, cuda))
        return BaseChoice(image, flavour)
    if not req.gpu:
        release = data.os.get(req.distro, {}).get(req.os_version)
        image = (release.image if release else None) or f"{req.distro}:{req.os_version}"
        ctx.decide(IMAGE_FIELD, image, "CPU stack: the plain OS image", f"os.{req.distro}.{req.os_version}")
        return BaseChoice(image)
    if cuda is None or cuda_full is None:
        return BaseChoice("")
    need = system_cuda_need(ctx)
    if need is None and not cudnn_variant:
        return plain_choice(ctx, cuda)
    image = _nvidia_tag(ctx, cuda, cuda_full, cudnn_variant, candidates)
    flavour = flavour_of(image)
    if image and flavour:
        kept_flavour(ctx, flavour, need or "cuDNN comes from the image's cudnn variant")
    return BaseChoice(image, flavour)


def _nvidia_tag(ctx: Ctx, cuda: str, cuda_full: str, cudnn_variant: bool, candidates: list[str]) -> str:
    req, data = ctx.req, ctx.data
    os_tag = data.cuda.image.os_tag(req.distro)
    if os_tag is None:
        with_images = V.sort_versions(_os_for(ctx, cuda, cudnn_variant, "ubuntu"))
        where = f" (CUDA {cuda} images exist for ubuntu {', '.join(with_images)})" if with_images else ""
        ctx.issue(("os.distro", "os.base_image"),
                  f"nvidia/cuda publishes no {req.distro} images, so a GPU stack on {req.distro} has no base image",
                  f"set os.distro: ubuntu{where}, or set os.base_image to a {req.distro} image that carries CUDA")
        return ""
    row = data.cuda.minors[cuda]
    images = row.images
    if images is None:
        with_any = [m for m in candidates if data.cuda.minors[m].images]
        ctx.issue(("gpu.cuda", "os.base_image"), f"no nvidia/cuda image facts are known for CUDA {cuda}",
                  f"use gpu.cuda {' or '.join(with_any[-3:])}, or set os.base_image" if with_any
                  else "set os.base_image explicitly")
        return ""
    flavor = "devel" if req.nvcc else "runtime"
    if cudnn_variant and images.cudnn:
        tag = f"{cuda_full}-{images.cudnn.token}-{flavor}-{os_tag}{req.os_version}"
        desc = f"cudnn {flavor}"
    else:
        tag = f"{cuda_full}-{flavor}-{os_tag}{req.os_version}"
        desc = flavor
    available = _os_for(ctx, cuda, cudnn_variant, os_tag)
    if req.os_version not in available:
        _missing(ctx, cuda, cuda_full, desc, available, cudnn_variant, candidates, os_tag)
        return ""
    newest = images.patch_for(cudnn_variant and images.cudnn is not None)
    if V.parse(cuda_full) > V.parse(newest):
        plain = f"; plain {flavor} images exist at {images.patch}" if cudnn_variant and images.cudnn else ""
        ctx.issue(("gpu.cuda", "os.base_image"), f"nvidia/cuda has no {desc} images for CUDA {cuda_full}: the newest "
                  f"{desc} patch is {newest}{plain}",
                  f"set gpu.cuda to {newest} (or {cuda}), let a framework bring cuDNN through pip, or set os.base_image")
        return ""
    if V.cmp(cuda_full, newest) != 0:
        ctx.warn(f"nvidia/cuda:{tag} is not the newest {cuda} {desc} patch ({newest}): it is unmaintained and "
                 "may be deleted from Docker Hub")
    ctx.check_uncertain(f"cuda.minors.{cuda}.images", images)
    if req.os_version in images.uncertain_os:
        ctx.warn(f"data row cuda.minors.{cuda}.images lists {os_tag} {req.os_version} as uncertain; "
                 f"check that nvidia/cuda:{tag} exists before relying on it")
    image = f"{data.cuda.image.repository}:{tag}"
    why = ("nvcc requested: devel flavor" if req.nvcc else "runtime flavor (no nvcc requested)")
    why += ("; cudnn variant because no framework brings cuDNN through pip" if cudnn_variant and images.cudnn
            else "; no cudnn variant (cuDNN comes from pip wheels or is not needed)")
    if not os_tag.startswith(req.distro):   # almalinux on rockylinux images
        why += (f"; nvidia/cuda publishes no {req.distro} tags: its {os_tag} images are the same RHEL "
                f"{req.os_version} rebuild (same ABI and RPM repositories)")
    ctx.decide(IMAGE_FIELD, image, f"nvidia/cuda tag for CUDA {cuda_full} on {os_tag} {req.os_version}: {why}",
               f"cuda.minors.{cuda}.images")
    return image


def _os_for(ctx: Ctx, cuda: str, cudnn_variant: bool, os_tag: str) -> list[str]:
    images = ctx.data.cuda.minors[cuda].images
    if images is None:
        return []
    if cudnn_variant:
        return images.cudnn.releases(os_tag) if images.cudnn else []
    return images.releases(os_tag)


def _missing(ctx: Ctx, cuda: str, cuda_full: str, desc: str, available: list[str], cudnn_variant: bool,
             candidates: list[str], os_tag: str) -> None:
    req = ctx.req
    others = [m for m in candidates if m != cuda and req.os_version in _os_for(ctx, m, cudnn_variant, os_tag)]
    others = [m for m in others if not ctx.data.cuda.minors[m].uncertain] or others
    newer = [m for m in others if V.parse(m) > V.parse(cuda)]
    others = V.sort_versions((newer + V.sort_versions(set(others) - set(newer), reverse=True))[:3])
    parts = []
    if available:
        parts.append(f"CUDA {cuda_full} {desc} images exist for {os_tag} {', '.join(V.sort_versions(available))}: "
                     "set os.version to one of them")
    if others:
        parts.append(f"use gpu.cuda {' or '.join(others)}, which {'has' if len(others) == 1 else 'have'} "
                     f"{os_tag} {req.os_version} {desc} images")
    if cudnn_variant and req.os_version in _os_for(ctx, cuda, False, os_tag):
        parts.append(f"let a framework bring cuDNN through pip and use the plain {desc.split()[-1]} image")
    parts.append("or set os.base_image explicitly")
    ctx.issue(("os.version", "gpu.cuda"),
              f"nvidia/cuda has no {desc} image for CUDA {cuda_full} on {os_tag} {req.os_version}",
              "; ".join(parts))


def _override(ctx: Ctx, cuda: str | None) -> str:
    image = ctx.req.base_image or ""
    ctx.decide(IMAGE_FIELD, image, "explicit os.base_image override: tag resolution skipped", "request")
    image_cuda = override_cuda(image)
    if image_cuda and cuda and image_cuda != cuda:
        ctx.warn(f"os.base_image {image} carries CUDA {image_cuda} but the stack resolved CUDA {cuda}; "
                 "frameworks use their own CUDA wheels, but nvcc and the image's driver guard follow the image")
    return image
