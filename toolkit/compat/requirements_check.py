"""What pip itself would refuse or silently undo: keras against TensorFlow's requirement, nvidia-* pins of
torch and tensorflow[and-cuda] in one environment, and framework packages named in the profile's own pip
lists (a later `pip install torch==2.2.0` replaces the resolved torch; a `+cu121` local version is on no
index pip is given)."""

from __future__ import annotations

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from . import versions as V
from .context import Ctx, FwPick
from .frameworks import tf_and_cuda

KERAS_FIELD = "frameworks.keras.version"
# pip distribution -> the frameworks: section that owns it
OWNERS = {
    "torch": "pytorch", "torchvision": "pytorch", "torchaudio": "pytorch",
    "tensorflow": "tensorflow", "tensorflow-cpu": "tensorflow", "tensorflow-gpu": "tensorflow",
    "keras": "keras",
    "jax": "jax", "jaxlib": "jax", "jax-cuda12-plugin": "jax", "jax-cuda13-plugin": "jax",
    "jax-cuda12-pjrt": "jax", "jax-cuda13-pjrt": "jax",
}


def _keras_known(ctx: Ctx, requested: str) -> list[str] | None:
    """Known keras releases matching the request ("3", "3.10", "3.10.0"); None (with an issue) if none exist."""
    rows = ctx.data.keras.releases
    every = V.sort_versions(p for r in rows.values() for p in r.patches)
    parts = V.parse(requested).release
    matching = [p for p in every if V.parse(p).release[: len(parts)] == parts]
    if matching:
        return matching
    newest = every[-1] if every else None
    if len(parts) == 3 and newest and V.major_minor(requested) in rows and V.parse(requested) > V.parse(newest):
        ctx.warn(f"keras {requested} is newer than the compatibility data knows (newest known: {newest}); "
                 "pinned as requested")
        return [requested]
    near = ", ".join(sorted(rows, key=V.parse)[-6:])
    ctx.issue((KERAS_FIELD,), f"keras {requested} does not exist (known keras releases up to the data date "
              f"{ctx.data.data_date}: ... {near})",
              "pick an existing release, or run `toolkit compat refresh` if it is newer than the data")
    return None


def resolve_keras(ctx: Ctx) -> str | None:
    requested = ctx.req.keras
    if not requested:
        return None
    if not V.is_valid(requested) or V.n_parts(requested) > 3:
        ctx.issue((KERAS_FIELD,), f"keras version {requested!r} is not like 3, 3.10 or 3.10.0",
                  "write frameworks.keras.version as major, major.minor or major.minor.patch")
        return None
    known = _keras_known(ctx, requested)
    if known is None:
        return None
    if V.major(requested) == "2" and not ctx.tf:
        ctx.issue((KERAS_FIELD,), f"keras {requested} is keras 2, which runs only on TensorFlow",
                  "add frameworks.tensorflow of the same minor, or use keras 3 with pytorch or jax")
        return None
    if ctx.tf and ctx.tf.row.keras:
        spec = SpecifierSet(ctx.tf.row.keras)
        if not any(spec.contains(v) for v in known):
            fits = [p for r in ctx.data.keras.releases.values() for p in r.patches if spec.contains(p)]
            use = f"use keras {V.newest(fits)} (newest known release in range)" if fits else "leave frameworks.keras out"
            ctx.issue((KERAS_FIELD, ctx.tf.field),
                      f"keras {requested} does not satisfy {ctx.tf.label}'s requirement keras{spec}: "
                      "pip stops with ResolutionImpossible",
                      f"{use}, or choose a tensorflow release that takes keras {requested}")
            return None
        ctx.check_uncertain(ctx.tf.source, ctx.tf.row, "keras")
    n = V.n_parts(requested)
    requirement = f"keras=={requested}" if n == 3 else f"keras=={requested}.*"
    ctx.decide("frameworks.keras.requirement", requirement,
               "exact pin of the requested patch" if n == 3 else "requested prefix: newest matching release",
               f"keras.releases.{V.major_minor(known[-1])}")
    return requirement


def check_co_install(ctx: Ctx, cuda: str | None) -> None:
    """torch and tensorflow in one environment: refuse nvidia-* pins pip cannot satisfy together."""
    torch, tf = ctx.torch, ctx.tf
    if not (torch and tf):
        return
    if not cuda:
        ctx.warn(f"{torch.label} and {tf.label} share one environment: their pinned dependencies can "
                 "conflict; consider separate environments")
        return
    if not tf_and_cuda(ctx, tf.row):
        return  # TF loads the system libraries; the cuDNN plan already checked them
    t_cudnn = torch.row.cudnn_for(V.cuda_variant(cuda))
    clashes, unknown = [], []
    for prefix, torch_has in (("cuda-runtime", f"{cuda}.99999"), ("cudnn", t_cudnn)):
        spec = tf.row.and_cuda_spec(prefix)
        if spec is None or torch_has is None:
            unknown.append(prefix)
            continue
        fits = _minor_fits(spec[1], cuda) if prefix == "cuda-runtime" else spec[1].contains(torch_has)
        if not fits:
            shown = f"CUDA {cuda}" if prefix == "cuda-runtime" else f"{torch_has}"
            clashes.append(f"{tf.label}[and-cuda] needs {spec[0]}{spec[1]}, {torch.label} {V.cuda_variant(cuda)} "
                           f"brings {shown}")
    if clashes:
        ctx.issue((tf.field, "frameworks.pytorch.version", "gpu.cuda"),
                  "pip cannot install both in one environment: " + "; ".join(clashes),
                  "choose releases whose nvidia-* requirements overlap (tensorflow >= 2.20 takes ranges), or "
                  "install torch and tensorflow in separate environments")
    elif unknown:
        ctx.warn(f"{torch.label} and {tf.label} in one environment both pull nvidia-* wheels; the data does not "
                 f"know tensorflow's {' and '.join(unknown)} requirement, so pip may still refuse - "
                 "consider separate environments")
    else:
        ctx.warn(f"{torch.label} and {tf.label} in one environment share nvidia-* wheels: their CUDA runtime and "
                 "cuDNN requirements overlap, cuBLAS/NCCL pins are not checked - if pip refuses, use separate "
                 "environments")


def _minor_fits(spec: SpecifierSet, cuda: str) -> bool:
    """Some release of CUDA minor ``cuda`` satisfies the nvidia-cuda-runtime requirement ``spec``."""
    exact = [s.version for s in spec if s.operator in ("==", "===")]
    if exact:
        return any(V.is_valid(v) and V.n_parts(v) >= 2 and V.major_minor(v) == cuda for v in exact)
    return spec.contains(f"{cuda}.99999") or spec.contains(f"{cuda}.0")


def _owned_version(ctx: Ctx, dist: str) -> tuple[str, str] | None:
    """(section label, version pip must keep) when the profile's frameworks: section installs ``dist``."""
    owner = OWNERS[dist]
    pick: FwPick | None = {"pytorch": ctx.torch, "tensorflow": ctx.tf, "jax": ctx.jax}.get(owner)
    if owner == "keras":
        return ("frameworks.keras", ctx.req.keras) if ctx.req.keras else None
    if pick is None:
        return None
    version = pick.pin or pick.newest_known
    if dist in ("torchvision", "torchaudio"):
        minor = pick.row.companions.get(dist)
        return (f"frameworks.pytorch ({pick.label})", f"{minor}.0") if minor else None
    return f"frameworks.{owner}", version


def check_pip_lists(ctx: Ctx) -> None:
    for field, text in ctx.req.pip:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue  # the profile schema reports malformed entries
        dist = canonicalize_name(req.name)
        if dist not in OWNERS:
            continue
        section = f"frameworks.{OWNERS[dist]}"
        local = next((s.version for s in req.specifier if "+" in s.version), None)
        if local:
            ctx.issue((field,), f"{text}: a local version (+{local.split('+', 1)[1]}) exists only on a framework's "
                      "own wheel index, which pip is not given for this list",
                      f"remove it and set {section}.version (with gpu.enabled for a CUDA build): toolkit picks the "
                      "matching wheel index")
            continue
        owned = _owned_version(ctx, dist)
        if owned is None:
            ctx.warn(f"{field} installs {dist} outside {section}: pip takes the index's default build "
                     f"(torch >= 2.11 on PyPI is a CUDA 13 build); set {section} so toolkit resolves it")
            continue
        label, version = owned
        wanted = f"{dist}{req.specifier}" if str(req.specifier) else dist
        if str(req.specifier) and V.is_valid(version) and not req.specifier.contains(version, prereleases=True):
            ctx.issue((field,), f"{text} conflicts with {label}, which installs {dist} {version}: the later pip "
                      "step would silently replace it",
                      f"remove {dist} from {field.rpartition('.')[0]} and set the version in {section}")
        else:
            ctx.warn(f"{field} lists {wanted}, which {label} already installs: remove it from the pip list")
