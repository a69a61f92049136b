"""Driver floors and GPU architecture checks for a chosen CUDA version."""

from __future__ import annotations

import re

from packaging.version import Version

from . import versions as V
from .context import Ctx
from .frameworks import jax_extra_for
from .schema import CompatData

_SM = re.compile(r"^sm_(\d+)(\d)[a-z]?$")


def parse_cc(text: str) -> Version | None:
    """"12.0" / "sm_120" / "8.6" -> Version; None when unreadable."""
    text = text.strip().lower()
    m = _SM.match(text)
    if m:
        text = f"{m.group(1)}.{m.group(2)}"
    return V.parse(text) if V.is_valid(text) and V.n_parts(text) == 2 else None


def family_floor_of(data: CompatData, cuda: str) -> str:
    fam = data.cuda.families.get(V.major(cuda))
    if fam is None:
        raise ValueError(f"no driver floor known for CUDA {V.major(cuda)}.x (known: {', '.join(data.cuda.families)})")
    return fam.floor


def toolkit_driver_of(data: CompatData, cuda_full: str) -> str | None:
    if V.n_parts(cuda_full) != 3:
        raise ValueError(f"{cuda_full!r} is not a full CUDA release like 12.4.1")
    row = data.cuda.minors.get(V.major_minor(cuda_full))
    rel = row.releases.get(cuda_full) if row else None
    return rel.driver if rel else None


def driver_need(data: CompatData, cuda_full: str) -> tuple[str | None, bool, str | None]:
    """(driver, exact, release it comes from) for an exact CUDA release. When its own toolkit driver is
    unknown, the newest known driver of an earlier patch of that minor is the least it can need
    (exact=False); (None, False, None) when nothing is known."""
    row = data.cuda.minors.get(V.major_minor(cuda_full))
    if row is None:
        return None, False, None
    rel = row.releases.get(cuda_full)
    if rel is not None and rel.driver:
        return rel.driver, True, cuda_full
    earlier = [(p, r.driver) for p, r in row.releases.items() if r.driver and V.parse(p) <= V.parse(cuda_full)]
    if not earlier:
        return None, False, None
    patch, driver = max(earlier, key=lambda e: V.parse(e[1]))
    return driver, bool(rel is not None and rel.container_only), patch


def arch_ok(ctx: Ctx, minor: str, cc: Version) -> bool:
    return not _arch_problems(ctx, minor, cc)


def _arch_problems(ctx: Ctx, minor: str, cc: Version,
                   candidates: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str, str]]:
    """(fields, message, hint) for every way the target GPU is missing from this stack's builds."""
    data = ctx.data
    out: list[tuple[tuple[str, ...], str, str]] = []
    shown = ctx.req.compute_capability
    bw = data.pytorch.gpu_arch.get("blackwell")
    if bw and cc >= V.parse(bw.min_compute_capability):
        if V.parse(minor) < V.parse(bw.min_cuda):
            out.append((("gpu.cuda",), f"compute capability {shown} needs CUDA >= {bw.min_cuda}; CUDA {minor} has no kernels for it",
                        f"set gpu.cuda to {bw.min_cuda} or newer (torch >= {bw.min_torch} offers {V.cuda_variant(bw.min_cuda)})"))
        if ctx.torch and V.parse(ctx.torch.key) < V.parse(bw.min_torch):
            out.append((("frameworks.pytorch.version",),
                        f"compute capability {shown} needs torch >= {bw.min_torch}; {ctx.torch.label} has no kernels for it",
                        f"use torch >= {bw.min_torch} with {V.cuda_variant(bw.min_cuda)} or newer"))
    fam = data.cuda.families.get(V.major(minor))
    if fam and fam.min_compute_capability and cc < V.parse(fam.min_compute_capability):
        fits = [m for m in candidates if not _family_too_new(data, m, cc) and not _torch_too_new(ctx, m, cc)]
        older = [f"{f}.x" for f, r in data.cuda.families.items() if not r.min_compute_capability]
        use = " or ".join(fits[-3:]) if fits else ", ".join(older)
        out.append((("gpu.cuda",), f"CUDA {V.major(minor)}.x needs compute capability >= {fam.min_compute_capability}; the target GPU is {shown}",
                    f"set gpu.cuda to {use}{_torch_arch_note(ctx, cc)}"))
    elif ctx.torch and _torch_too_new(ctx, minor, cc):
        variant = V.cuda_variant(minor)
        need = ctx.torch.row.min_cc_for(variant)
        fits = [m for m in candidates if not _family_too_new(data, m, cc) and not _torch_too_new(ctx, m, cc)]
        use = f"set gpu.cuda to {' or '.join(fits[-3:])}" if fits else "use an older torch release or a newer GPU"
        out.append((("gpu.cuda", "frameworks.pytorch.version"),
                    f"{ctx.torch.label} {variant} has kernels for compute capability >= {need} only; the target GPU is {shown}",
                    f"{use}{_torch_arch_note(ctx, cc)}"))
    if ctx.jax:
        name = jax_extra_for(ctx, ctx.jax, minor)
        extra = data.jax.extras.get(name) if name else None
        if extra and cc < V.parse(extra.min_compute_capability):
            out.append((("frameworks.jax.version", "gpu.cuda"),
                        f"jax[{name}] needs compute capability >= {extra.min_compute_capability}; the target GPU is {shown}",
                        "use an older CUDA extra or a newer GPU"))
    return out


def _torch_too_new(ctx: Ctx, minor: str, cc: Version) -> bool:
    need = ctx.torch.row.min_cc_for(V.cuda_variant(minor)) if ctx.torch else None
    return bool(need and cc < V.parse(need))


def _torch_arch_note(ctx: Ctx, cc: Version) -> str:
    """Which builds of the requested torch have kernels for this GPU, from the data (not a fixed sentence)."""
    if not ctx.torch:
        return ""
    row, shown = ctx.torch.row, ctx.req.compute_capability
    with_kernels = [V.cuda_variant(c) for c in V.sort_versions(row.cudas())
                    if not _family_too_new(ctx.data, c, cc) and not _torch_too_new(ctx, c, cc)]
    if with_kernels:
        return f" ({ctx.torch.label} has kernels for compute capability {shown} in {', '.join(with_kernels)})"
    return f" ({ctx.torch.label} has no build with kernels for compute capability {shown}: use an older torch)"


def _family_too_new(data: CompatData, minor: str, cc: Version) -> bool:
    fam = data.cuda.families.get(V.major(minor))
    return bool(fam and fam.min_compute_capability and cc < V.parse(fam.min_compute_capability))


def check_arch(ctx: Ctx, minor: str, candidates: list[str]) -> None:
    text = ctx.req.compute_capability
    if not text:
        return
    cc = parse_cc(text)
    if cc is None:
        ctx.issue(("gpu.cuda",), f"compute capability {text!r} is not like 8.6 or sm_120",
                  "give the target GPU's compute capability as major.minor")
        return
    for fields, message, hint in _arch_problems(ctx, minor, cc, tuple(candidates)):
        ctx.issue(fields, message, hint)
    variant = V.cuda_variant(minor)
    if ctx.torch and ctx.torch.row.min_cc_for(variant):
        ctx.check_uncertain(ctx.torch.source, ctx.torch.row, f"min_compute_capability.{variant}")


def check_driver(ctx: Ctx, cuda: str, cuda_full: str, candidates: list[str]) -> str:
    """Record the driver floor decision, check declared/installed drivers; return the driver the host needs."""
    data, major = ctx.data, V.major(cuda)
    floor = family_floor_of(data, cuda)
    need, exact, origin = driver_need(data, cuda_full)
    row = data.cuda.minors[cuda]
    if need and exact:
        assert origin is not None  # an exact driver always names its release
        ctx.check_uncertain(f"cuda.minors.{cuda}.releases.{origin}", row.releases[origin], "driver")
        same = "" if origin == cuda_full else f", a container-only patch of the {origin} toolkit"
        ctx.decide("gpu.min_driver", need, f"toolkit driver of CUDA {origin}{same} (family floor {floor} works "
                   "through minor-version compatibility, without PTX JIT of newer code)",
                   f"cuda.minors.{cuda}.releases.{origin}.driver")
    elif need:
        ctx.warn(f"the toolkit driver of CUDA {cuda_full} is not known: it needs at least {need} "
                 f"(the toolkit driver of {origin}); check NVIDIA's release notes for the exact value")
        ctx.decide("gpu.min_driver", need, f"toolkit driver of CUDA {cuda_full} unknown: at least that of {origin}",
                   f"cuda.minors.{cuda}.releases.{origin}.driver")
    else:
        need = floor
        ctx.warn(f"no toolkit driver is known for any CUDA {cuda} release up to {cuda_full}: using the CUDA {major}.x "
                 f"floor {floor}; a host driver cannot be confirmed to run newer PTX")
        ctx.decide("gpu.min_driver", need, f"CUDA {major}.x family floor (toolkit driver of {cuda_full} unknown)",
                   f"cuda.families.{major}.floor")
    checks = [("the declared driver (gpu.min_driver)", ctx.req.min_driver, ("gpu.min_driver", "gpu.cuda")),
              ("the target's installed driver", ctx.req.driver_version, ("gpu.cuda",))]
    for label, value, fields in checks:
        if not value:
            continue
        if not V.is_valid(value):
            ctx.issue(fields, f"{label} {value!r} is not a driver version like 550 or 550.54.15",
                      "give the NVIDIA driver version as shown by nvidia-smi")
            continue
        if not V.at_least(value, floor):
            ok = [m for m in candidates if V.at_least(value, family_floor_of(data, m))]
            shown = " or ".join(ok) if len(ok) <= 4 else f"{ok[0]} ... {ok[-1]}"
            use = f"with driver {value} use gpu.cuda {shown}, or " if ok else ""
            ctx.issue(fields, f"{label} {value} is below the CUDA {major}.x driver floor {floor} needed by CUDA {cuda}",
                      f"{use}upgrade the driver to >= {need} (data-center GPUs can instead use the "
                      "cuda-compat forward-compatibility package)")
        elif need != floor and not V.at_least(value, need):
            which = f"CUDA {cuda_full} toolkit driver {need}" if exact else \
                f"toolkit driver of CUDA {cuda_full} (unknown, at least {need} like {origin})"
            ctx.warn(f"{label} {value} is below the {which} (>= the {floor} floor, so it runs via minor-version "
                     "compatibility, but PTX JIT of newer code - Triton/torch.compile, XLA - can fail)")
        elif not exact:
            ctx.warn(f"{label} {value} cannot be confirmed against the toolkit driver of CUDA {cuda_full}, which is "
                     "not known (an unknown driver requirement is never treated as met)")
    return need
