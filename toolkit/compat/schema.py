"""Schema of the compatibility data file (pydantic models and cross-row consistency checks)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

from . import versions as V


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


def _check_patches(section: str, key: str, patches: list[str], problems: list[str]) -> None:
    if V.n_parts(key) != 2:
        problems.append(f"{section}.releases.{key}: key must be major.minor")
        return
    for patch in patches:
        if V.major_minor(patch) != key:
            problems.append(f"{section}.releases.{key}.patches: {patch} is not a {key}.N release")
