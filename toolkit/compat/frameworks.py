"""Framework lookups: match requested versions to data rows; their CUDA sets and Python ranges."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import versions as V
from .context import Ctx, FwPick
from .schema import JaxRelease, PyRange, TfRelease, TorchRelease

TORCH_FIELD = "frameworks.pytorch.version"
TF_FIELD = "frameworks.tensorflow.version"
JAX_FIELD = "frameworks.jax.version"


def _patch_index(rows: dict[str, Any], patches_of) -> dict[str, list[tuple[str, str]]]:
    """major.minor -> [(patch, row key)] sorted by patch."""
    index: dict[str, list[tuple[str, str]]] = {}
    for key, row in rows.items():
        for patch in patches_of(key, row):
            index.setdefault(V.major_minor(patch), []).append((patch, key))
    for entries in index.values():
        entries.sort(key=lambda e: V.parse(e[0]))
    return index


def _near(known: list[str], requested: str, n: int = 4) -> list[str]:
    """Up to n known versions closest (by position) to requested."""
    known = V.sort_versions(known)
    pos = sum(1 for k in known if V.parse(k) < V.parse(requested))
    lo = max(0, min(pos - n // 2, len(known) - n))
    return known[lo : lo + n]


def match_release(ctx: Ctx, name: str, field: str, section: str, requested: str,
                  rows: dict[str, Any], patches_of) -> FwPick | None:
    """Find the data row for a requested framework version, or record an issue."""
    if not V.is_valid(requested) or V.n_parts(requested) not in (2, 3):
        ctx.issue((field,), f"{name} version {requested!r} is not a version like 2.7 or 2.7.1",
                  f"write {field} as major.minor or major.minor.patch")
        return None
    index = _patch_index(rows, patches_of)
    minor = V.major_minor(requested)
    entries = index.get(minor)
    if not entries:
        near = _near(list(index), minor)
        ctx.issue((field,), f"{name} {requested} is not in the compatibility data (data date {ctx.data.data_date})",
                  f"known {name} releases near it: {', '.join(near)}; pick one of them, or describe "
                  f"the new release in a user compatibility data file")
        return None
    newest_patch, newest_key = entries[-1]
    if V.n_parts(requested) == 2:
        pick = FwPick(name, field, requested, newest_key, None, newest_patch, f"{section}.{newest_key}",
                      rows[newest_key])
        ctx.warn(f"{name} {requested} is not pinned to a patch release: {pick.requirement(_dist(name))} "
                 f"installs whatever patch is newest then (newest known: {newest_patch})")
        return pick
    exact = [key for patch, key in entries if V.cmp(patch, requested) == 0]
    if exact:
        key = exact[0]
    else:
        older = [key for patch, key in entries if V.parse(patch) < V.parse(requested)]
        key = older[-1] if older else entries[0][1]
        known = ", ".join(p for p, _ in entries)
        ctx.warn(f"{name} {requested} is not in the compatibility data (known {minor} patches: {known}); "
                 f"pinned as requested, checked against the {section}.{key} row")
    return FwPick(name, field, requested, key, requested, newest_patch, f"{section}.{key}", rows[key])


def _dist(name: str) -> str:
    return {"torch": "torch", "tensorflow": "tensorflow", "jax": "jax"}[name]


def pick_frameworks(ctx: Ctx) -> None:
    req, data = ctx.req, ctx.data
    if req.torch:
        ctx.torch = match_release(ctx, "torch", TORCH_FIELD, "pytorch.releases", req.torch,
                                  data.pytorch.releases, lambda _k, r: r.patches)
    if req.tensorflow:
        ctx.tf = match_release(ctx, "tensorflow", TF_FIELD, "tensorflow.releases", req.tensorflow,
                               data.tensorflow.releases, lambda _k, r: r.patches)
    if req.jax:
        ctx.jax = match_release(ctx, "jax", JAX_FIELD, "jax.releases", req.jax,
                                data.jax.releases, lambda k, _r: [k])


def python_range(ctx: Ctx, pick: FwPick) -> PyRange:
    ctx.check_uncertain(pick.source, pick.row, "python")
    return pick.row.python


def releases_supporting_python(ctx: Ctx, name: str, python: str) -> list[str]:
    by_name: dict[str, Mapping[str, TorchRelease | TfRelease | JaxRelease]] = {
        "torch": ctx.data.pytorch.releases, "tensorflow": ctx.data.tensorflow.releases, "jax": ctx.data.jax.releases}
    rows = by_name[name]
    return V.sort_versions(k for k, r in rows.items() if V.in_range(python, r.python.min, r.python.max))


# --- CUDA sets ------------------------------------------------------------------------------


def cuda_set(ctx: Ctx, pick: FwPick) -> list[str]:
    """CUDA minors this framework release can run with (torch may list minors the data lacks, e.g. 11.7)."""
    if pick.name == "torch":
        return V.sort_versions(pick.row.cudas())
    if pick.name == "tensorflow":
        return tf_cudas(ctx, pick.row)
    out = []
    for minor in ctx.data.cuda.minors:
        extra = jax_extra_for(ctx, pick, minor)
        if extra is not None:
            out.append(minor)
    return V.sort_versions(out)


def tf_and_cuda(ctx: Ctx, row: Any) -> bool:
    """TensorFlow gets its CUDA/cuDNN from the [and-cuda] pip wheels on this stack."""
    return ctx.req.gpu and ctx.req.tensorflow_and_cuda and row.and_cuda_extra


def tf_cudas(ctx: Ctx, row: Any) -> list[str]:
    """CUDA minors a TF release runs with. Without [and-cuda] it loads the system CUDA it was built with
    (exactly); with it, the nvidia-* wheels bring the libraries: a metadata range admits every minor in it,
    an exact pin leaves the image free to carry the same or a newer minor of that major."""
    if not tf_and_cuda(ctx, row):
        return [row.cuda]
    major = V.major(row.cuda)
    same = [m for m in ctx.data.cuda.minors if V.major(m) == major]
    runtime = row.and_cuda_spec("cuda-runtime")
    if runtime and len(runtime[1]) and not all(s.operator in ("==", "===") for s in runtime[1]):
        fits = [m for m in same if runtime[1].contains(f"{m}.99999") or runtime[1].contains(f"{m}.0")]
        return V.sort_versions(fits or [row.cuda])
    return V.sort_versions(m for m in same if V.at_least(m, row.cuda))


def jax_extra_for(ctx: Ctx, pick: FwPick, cuda: str) -> str | None:
    """Name of the jax[cudaNN] extra serving this CUDA minor, if that release has it."""
    for name in pick.row.extras:
        extra = ctx.data.jax.extras[name]
        if extra.cuda_major == V.major(cuda) and V.at_least(cuda, extra.min_cuda):
            return name
    return None


def describe_set(pick: FwPick, cudas: list[str]) -> str:
    if pick.name == "torch":
        return f"{pick.label} offers {', '.join(V.cuda_variant(c) for c in cudas)}"
    if pick.name == "tensorflow":
        if len(cudas) > 1:
            return f"{pick.label} with [and-cuda] runs on CUDA {V.span(cudas)} (its nvidia-* wheels bring the libraries)"
        return f"{pick.label} is built for CUDA {cudas[0]} exactly"
    extras = ", ".join(f"jax[{e}]" for e in pick.row.extras)
    majors: dict[str, list[str]] = {}
    for c in cudas:
        majors.setdefault(V.major(c), []).append(c)
    spans = ", ".join(V.span(group) for group in majors.values())
    return f"{pick.label} offers {extras} (CUDA {spans})" if cudas else f"{pick.label} offers no CUDA extra"


def releases_with_cuda(ctx: Ctx, name: str, cuda: str) -> str | None:
    """Text like "torch >= 2.6" or "torch 2.0-2.7" for the releases that support a CUDA minor."""
    rows: dict[str, Any]
    if name == "torch":
        rows = ctx.data.pytorch.releases
        hits = [k for k, r in rows.items() if cuda in r.cudas()]
    elif name == "tensorflow":
        rows = ctx.data.tensorflow.releases
        hits = [k for k, r in rows.items() if cuda in tf_cudas(ctx, r)]
    else:
        rows = ctx.data.jax.releases
        hits = [k for k in rows if any(
            ctx.data.jax.extras[e].cuda_major == V.major(cuda) and V.at_least(cuda, ctx.data.jax.extras[e].min_cuda)
            for e in rows[k].extras)]
    if not hits:
        return None
    hits, every = V.sort_versions(hits), V.sort_versions(rows)
    first = every.index(hits[0])
    if every[first : first + len(hits)] != hits:  # not contiguous
        return f"{name} {', '.join(hits)}"
    if hits[-1] == every[-1] and len(hits) > 1:
        return f"{name} >= {hits[0]}"
    return f"{name} {V.span(hits)}"
