"""Load and validate the compatibility data file, with an optional user overlay on top."""

from __future__ import annotations

import copy
import functools
import os
from importlib import resources
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, model_validator

from . import versions as V

SCHEMA_VERSION = 1
_DATA_FILE = "compat.yaml"


class CompatDataError(ValueError):
    """A compatibility data file is unreadable or invalid (names the file)."""


def _version(text: str) -> str:
    V.parse(text)
    return text


def _variant(text: str) -> str:
    if text != "all" and text != "cpu" and V.variant_cuda(text) is None:
        raise ValueError(f"{text!r} is not a CUDA variant like cu128")
    return text


Ver = Annotated[str, AfterValidator(_version)]
Variant = Annotated[str, AfterValidator(_variant)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uncertain: bool = False
    uncertain_fields: list[str] = []
    note: str | None = None

    def is_uncertain(self, field: str | None = None) -> bool:
        """Whole row uncertain, or ``field`` (or its parent, "extras" for "extras.cuda13") listed."""
        if self.uncertain:
            return True
        if field is None:
            return False
        parts = field.split(".")
        return any(".".join(parts[: i + 1]) in self.uncertain_fields for i in range(len(parts)))


class PyRange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: Ver
    max: Ver

    @model_validator(mode="after")
    def _ordered(self) -> PyRange:
        if V.parse(self.min) > V.parse(self.max):
            raise ValueError(f"python min {self.min} is above max {self.max}")
        return self

    def __str__(self) -> str:
        return f"{self.min}-{self.max}"


class OsRelease(_Row):
    python: Ver


class CudaFamily(_Row):
    floor: Ver
    min_compute_capability: Ver | None = None


class CudaRelease(_Row):
    driver: Ver | None


class CudnnImages(_Row):
    token: str
    version: Ver | None = None
    ubuntu: list[Ver]


class CudaImages(_Row):
    patch: Ver
    ubuntu: list[Ver]
    cudnn: CudnnImages | None = None
    uncertain_os: list[Ver] = []


class CudaMinor(_Row):
    releases: dict[Ver, CudaRelease]
    images: CudaImages | None = None


class ImageInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    repository: str
    flavors: list[str]
    cudnn_flavors: list[str]


class CudaData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    families: dict[str, CudaFamily]
    image: ImageInfo
    minors: dict[Ver, CudaMinor]


class TorchArch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_compute_capability: Ver
    min_torch: Ver
    min_cuda: Ver


class TorchRelease(_Row):
    patches: list[Ver]
    python: PyRange
    cuda_variants: list[Variant]
    pypi_default_cuda: Ver | None = None
    cudnn: dict[Variant, Ver] = {}

    def cudas(self) -> list[str]:
        return [c for c in (V.variant_cuda(v) for v in self.cuda_variants) if c]

    def cudnn_for(self, variant: str) -> str | None:
        return self.cudnn.get(variant, self.cudnn.get("all"))


class TorchData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    index_url: str
    gpu_arch: dict[str, TorchArch] = {}
    releases: dict[Ver, TorchRelease]


class TfRelease(_Row):
    patches: list[Ver]
    python: PyRange
    cuda: Ver
    cudnn: Ver
    and_cuda_extra: bool
    and_cuda_pins: dict[str, Ver] = {}

    def cudnn_pin(self) -> tuple[str, str] | None:
        return next(((p, v) for p, v in self.and_cuda_pins.items() if p.startswith("nvidia-cudnn-")), None)


class TfData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    releases: dict[Ver, TfRelease]


class JaxExtra(_Row):
    cuda_major: str
    min_cuda: Ver
    built_with: Ver
    cudnn: str
    min_compute_capability: Ver


class JaxRelease(_Row):
    python: PyRange
    extras: list[str]
    built_with: dict[str, Ver] = {}


class JaxData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    extras: dict[str, JaxExtra]
    releases: dict[Ver, JaxRelease]


class PythonData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uv: PyRange


class CompatData(BaseModel):
    """The whole validated data set (bundled file, possibly with a user overlay merged in)."""

    model_config = ConfigDict(extra="forbid")
    schema_version: int
    data_date: str
    sources: dict[str, list[str]] = {}
    os: dict[str, dict[Ver, OsRelease]]
    python: PythonData
    cuda: CudaData
    pytorch: TorchData
    tensorflow: TfData
    jax: JaxData

    @model_validator(mode="after")
    def _consistent(self) -> CompatData:
        problems: list[str] = []
        for key, minor in self.cuda.minors.items():
            if V.n_parts(key) != 2:
                problems.append(f"cuda.minors.{key}: key must be major.minor")
                continue
            if V.major(key) not in self.cuda.families:
                problems.append(f"cuda.minors.{key}: no cuda.families.{V.major(key)} entry (driver floor)")
            for patch in minor.releases:
                if V.n_parts(patch) != 3 or V.major_minor(patch) != key:
                    problems.append(f"cuda.minors.{key}.releases.{patch}: must be a {key}.N release")
            if minor.images and minor.images.patch not in minor.releases:
                problems.append(f"cuda.minors.{key}.images.patch {minor.images.patch} is not in its releases")
        for key, rel in self.pytorch.releases.items():
            _check_patches("pytorch", key, rel.patches, problems)
            if rel.pypi_default_cuda and V.cuda_variant(rel.pypi_default_cuda) not in rel.cuda_variants:
                problems.append(f"pytorch.releases.{key}.pypi_default_cuda {rel.pypi_default_cuda} is not one of its cuda_variants")
            for variant in rel.cudnn:
                if variant != "all" and variant not in rel.cuda_variants:
                    problems.append(f"pytorch.releases.{key}.cudnn.{variant} is not one of its cuda_variants")
        for key, rel in self.tensorflow.releases.items():
            _check_patches("tensorflow", key, rel.patches, problems)
        for key, rel in self.jax.releases.items():
            for extra in [*rel.extras, *rel.built_with]:
                if extra not in self.jax.extras:
                    problems.append(f"jax.releases.{key}: unknown extra {extra!r} (known: {', '.join(self.jax.extras)})")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def os_python(self, distro: str, version: str) -> OsRelease | None:
        return self.os.get(distro, {}).get(version)


def _check_patches(section: str, key: str, patches: list[str], problems: list[str]) -> None:
    if V.n_parts(key) != 2:
        problems.append(f"{section}.releases.{key}: key must be major.minor")
        return
    for patch in patches:
        if V.major_minor(patch) != key:
            problems.append(f"{section}.releases.{key}.patches: {patch} is not a {key}.N release")


def deep_merge(base: Any, over: Any) -> Any:
    """Mappings merge key by key (``over`` wins); any other value is replaced by ``over``."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(over)


def _raw_problems(node: Any, path: str = "") -> list[str]:
    """Non-string mapping keys and float values: versions that YAML read as numbers."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if not isinstance(key, str):
                found.append(f"{here}: key {key!r} must be a quoted string (e.g. \"{key}\")")
            found.extend(_raw_problems(value, here))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_raw_problems(value, f"{path}[{i}]"))
    elif isinstance(node, float):
        found.append(f"{path}: {node!r} is a number; write versions as quoted strings")
    return found


def _read_yaml(text: str, name: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CompatDataError(f"{name}: not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise CompatDataError(f"{name}: the top level must be a mapping, got {type(raw).__name__}")
    problems = _raw_problems(raw)
    if problems:
        raise CompatDataError(f"{name}: " + "; ".join(problems))
    return raw


def _validate(raw: dict[str, Any], name: str) -> CompatData:
    try:
        return CompatData.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"{loc}: {err['msg']}")
        raise CompatDataError(f"{name}: invalid compatibility data: " + "; ".join(lines)) from exc


@functools.lru_cache(maxsize=1)
def _bundled_raw() -> dict[str, Any]:
    text = (resources.files("toolkit.compat") / "data" / _DATA_FILE).read_text(encoding="utf-8")
    return _read_yaml(text, f"bundled {_DATA_FILE}")


@functools.lru_cache(maxsize=1)
def _bundled() -> CompatData:
    return _validate(copy.deepcopy(_bundled_raw()), f"bundled {_DATA_FILE}")


def load_data(extra: str | os.PathLike[str] | None = None) -> CompatData:
    """The bundled data, optionally overlaid by a user YAML file (deep merge; user rows win)."""
    if extra is None:
        return _bundled()
    name = os.fspath(extra)
    try:
        with open(name, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise CompatDataError(f"{name}: cannot read compatibility data file: {exc.strerror or exc}") from exc
    user = _read_yaml(text, name)
    if "schema_version" in user and user["schema_version"] != SCHEMA_VERSION:
        raise CompatDataError(
            f"{name}: schema_version {user['schema_version']!r} is not supported (this toolkit reads {SCHEMA_VERSION})"
        )
    return _validate(deep_merge(_bundled_raw(), user), f"{name} (merged onto the bundled data)")
