"""Turn an index's file lists and wheel metadata into compatibility rows (pure functions, no network).

What can be derived: released versions, Python ranges (wheel tags, Requires-Python), the CUDA and cuDNN
the plain PyPI wheel pins (its nvidia-* / cuda-toolkit requirements), tensorflow[and-cuda] requirements,
keras requirements, torch companions (their `torch==` requirement), which jax CUDA extras have a plugin.
What cannot: driver floors, image tags, the cuXYZ wheel indexes - those stay out of the overlay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.message import Message

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from .index_client import IndexFile

_CP = re.compile(r"^cp3(\d+)t?$")


def release_versions(files: Iterable[IndexFile]) -> dict[str, list[IndexFile]]:
    """Final releases (no pre/dev/local, not yanked) -> their wheels."""
    out: dict[str, list[IndexFile]] = {}
    for f in files:
        if f.yanked or not f.filename.endswith(".whl"):
            continue
        try:
            _, version, _, _ = parse_wheel_filename(f.filename)
        except (InvalidWheelFilename, InvalidVersion):
            continue
        if version.is_prerelease or version.is_devrelease or version.is_postrelease or version.local or version.epoch:
            continue
        out.setdefault(str(version), []).append(f)
    return out


def minor_of(version: str) -> str:
    rel = Version(version).release
    return f"{rel[0]}.{rel[1] if len(rel) > 1 else 0}"


def python_range(wheels: list[IndexFile]) -> dict[str, str] | None:
    """{min, max} from the CPython tags of the wheels, raised to Requires-Python's floor."""
    minors = set()
    for f in wheels:
        try:
            _, _, _, tags = parse_wheel_filename(f.filename)
        except (InvalidWheelFilename, InvalidVersion):
            continue
        for tag in tags:
            m = _CP.match(tag.interpreter)
            if m:
                minors.add(int(m.group(1)))
    if not minors:
        return None
    low, high = min(minors), max(minors)
    floors = [v for v in (_floor(f.requires_python) for f in wheels if f.requires_python) if v is not None]
    if floors:
        low = max(low, max(floors))
    return {"min": f"3.{low}", "max": f"3.{high}"} if low <= high else None


def requires_python_min(wheels: list[IndexFile], meta: Message | None = None) -> str | None:
    texts = [f.requires_python for f in wheels if f.requires_python]
    if meta is not None and meta.get("Requires-Python"):
        texts.append(str(meta.get("Requires-Python")))
    floors = [v for v in (_floor(t) for t in texts) if v is not None]
    return f"3.{max(floors)}" if floors else None


def _floor(spec_text: str) -> int | None:
    """The lowest Python 3 minor a Requires-Python specifier admits (3.0-3.30 probed)."""
    try:
        spec = SpecifierSet(spec_text)
    except ValueError:
        return None
    return next((m for m in range(0, 31) if spec.contains(f"3.{m}.99", prereleases=True)), None)


def linux_wheel(wheels: list[IndexFile]) -> IndexFile | None:
    """The wheel whose metadata describes Linux x86_64: a manylinux x86_64 wheel (else a pure-Python one),
    one with PEP 658 metadata first (the index client reads the others with range requests)."""
    linux = [f for f in wheels if "manylinux" in f.filename and "x86_64" in f.filename]
    pure = [f for f in wheels if f.filename.endswith("-none-any.whl")]
    for group in (linux, pure):
        if group:
            return sorted(group, key=lambda f: not f.has_metadata)[0]
    return None


def requirements(meta: Message, extra: str | None = None) -> list[Requirement]:
    """Requires-Dist entries that apply on Linux x86_64 (for ``extra`` when given, else unconditional)."""
    out = []
    env = {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
           "python_version": "3.12", "python_full_version": "3.12.0", "implementation_name": "cpython",
           "platform_python_implementation": "CPython", "os_name": "posix", "extra": extra or ""}
    for text in meta.get_all("Requires-Dist") or []:
        try:
            req = Requirement(str(text))
        except InvalidRequirement:
            continue
        marker: Marker | None = req.marker
        if marker is None:
            if extra is None:
                out.append(req)
            continue
        mentions_extra = "extra" in str(marker)
        if (extra is None) == mentions_extra:
            continue
        if marker.evaluate(env):
            out.append(req)
    return out


def _pin(req: Requirement) -> str | None:
    exact = [s.version for s in req.specifier if s.operator in ("==", "===") and "*" not in s.version]
    return exact[0] if exact else None


def torch_cuda(meta: Message) -> tuple[str | None, dict[str, str]]:
    """(PyPI default CUDA minor, {cuXYZ: cuDNN}) from a torch wheel's pins; (None, {}) for a CPU wheel."""
    cuda = cudnn = None
    for req in requirements(meta):
        name, pin = canonicalize_name(req.name), _pin(req)
        if not pin:
            continue
        if name == "cuda-toolkit" or name.startswith("nvidia-cuda-runtime"):
            cuda = cuda or minor_of(pin)
        elif name.startswith("nvidia-cudnn-"):
            cudnn = pin
    if cuda is None:
        return None, {}
    variant = "cu" + cuda.replace(".", "")
    return cuda, ({variant: cudnn} if cudnn else {})


def torch_pin(meta: Message) -> str | None:
    """The torch version a torchvision / torchaudio wheel requires."""
    for req in requirements(meta):
        if canonicalize_name(req.name) == "torch":
            return _pin(req)
    return None


def tf_row(meta: Message) -> dict | None:
    """and-cuda requirements, the CUDA/cuDNN floors they imply, and the keras requirement."""
    row: dict = {}
    keras = next((r for r in requirements(meta) if canonicalize_name(r.name) == "keras"), None)
    if keras is not None and str(keras.specifier):
        row["keras"] = str(keras.specifier)
    extras = [str(e) for e in (meta.get_all("Provides-Extra") or [])]
    row["and_cuda_extra"] = "and-cuda" in extras
    needs = {}
    for req in requirements(meta, "and-cuda") if row["and_cuda_extra"] else []:
        name = canonicalize_name(req.name)
        if name.startswith(("nvidia-cuda-runtime-", "nvidia-cudnn-")) and str(req.specifier):
            needs[name] = str(req.specifier)
    floors = {}
    for name, spec in needs.items():
        low = [s.version for s in SpecifierSet(spec) if s.operator in (">=", "==", "~=")]
        if low:
            floors["cuda" if "runtime" in name else "cudnn"] = minor_of(low[0])
    if "cuda" not in floors or "cudnn" not in floors:
        return None
    row.update(cuda=floors["cuda"], cudnn=floors["cudnn"], and_cuda_requires=needs)
    return row


def jax_extras(meta: Message, known: Iterable[str], plugin_versions: dict[str, set[str]], version: str) -> list[str]:
    """jax extras (of those toolkit knows) whose plugin really exists at this version."""
    declared = {str(e) for e in (meta.get_all("Provides-Extra") or [])}
    out = []
    for name in known:
        plugin = f"jax-{name}-plugin"
        if name in declared and version in plugin_versions.get(plugin, set()):
            out.append(name)
    return out
