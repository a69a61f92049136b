"""Schema of the compatibility data file (pydantic models and cross-row consistency checks)."""

from __future__ import annotations

import re
from typing import Annotated

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import AfterValidator, BaseModel, ConfigDict, PrivateAttr, model_validator

from . import versions as V


def _version(text: str) -> str:
    V.parse(text)
    return text


def _variant(text: str) -> str:
    if text != "all" and text != "cpu" and V.variant_cuda(text) is None:
        raise ValueError(f"{text!r} is not a CUDA variant like cu128")
    return text


def _spec(text: str) -> str:
    try:
        SpecifierSet(text)
    except InvalidSpecifier:
        raise ValueError(f"{text!r} is not a version specifier like >=9.3,<10") from None
    if not text.strip():
        raise ValueError("empty version specifier")
    return text


def _image(text: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9._/:@-]{0,200}", text):
        raise ValueError(f"{text!r} is not an image reference like almalinux:9")
    return text


def _os_tag(text: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9]{0,30}", text):
        raise ValueError(f"{text!r} is not an image tag's OS name like rockylinux")
    return text


Ver = Annotated[str, AfterValidator(_version)]
Image = Annotated[str, AfterValidator(_image)]
OsTag = Annotated[str, AfterValidator(_os_tag)]
Spec = Annotated[str, AfterValidator(_spec)]
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
    python: Ver                   # the system Python (python3)
    pythons: list[Ver] = []       # newer Pythons the OS packages itself (RHEL module/AppStream python3.X)
    image: Image | None = None    # the plain OS image when it is not <distro>:<version>


class CudaFamily(_Row):
    floor: Ver
    min_compute_capability: Ver | None = None


class CudaRelease(_Row):
    driver: Ver | None
    container_only: bool = False


class CudnnImages(_Row):
    token: str
    patch: Ver | None = None  # newest patch with cudnn tags when it differs from images.patch
    version: Ver | None = None
    ubuntu: list[Ver]
    rockylinux: list[Ver] = []

    def releases(self, os_tag: str) -> list[str]:
        """Releases of the image OS (the tag's suffix, "ubuntu" or "rockylinux") with cudnn tags."""
        return list(getattr(self, os_tag, []))


class CudaImages(_Row):
    patch: Ver
    ubuntu: list[Ver]
    rockylinux: list[Ver] = []
    cudnn: CudnnImages | None = None
    uncertain_os: list[Ver] = []

    def releases(self, os_tag: str) -> list[str]:
        """Releases of the image OS (the tag's suffix, "ubuntu" or "rockylinux") with base/runtime/devel tags."""
        return list(getattr(self, os_tag, []))

    def patch_for(self, cudnn_variant: bool) -> str:
        """Newest patch with tags of the wanted flavour (cudnn images may lag behind the plain ones)."""
        if cudnn_variant and self.cudnn and self.cudnn.patch:
            return self.cudnn.patch
        return self.patch


class CudaMinor(_Row):
    releases: dict[Ver, CudaRelease]
    images: CudaImages | None = None


class ImageInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    repository: str
    flavors: list[str]
    cudnn_flavors: list[str]
    # target distro -> the OS its tags name (ubuntu22.04, rockylinux9); distros not listed have no images
    os_tags: dict[str, OsTag] = {"ubuntu": "ubuntu"}

    def os_tag(self, distro: str) -> str | None:
        return self.os_tags.get(distro)


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
    cuda_variants: list[Variant] = []  # wheel indexes download.pytorch.org/whl/cuXYZ
    pypi_default_cuda: Ver | None = None  # the CUDA of the plain PyPI wheel
    cudnn: dict[Variant, Ver] = {}
    companions: dict[str, Ver] = {}  # torchvision / torchaudio major.minor
    min_compute_capability: dict[Variant, Ver] = {}

    def cudas(self) -> list[str]:
        """CUDA minors with a build: the wheel-index variants plus the PyPI wheel's own CUDA."""
        found = [c for c in (V.variant_cuda(v) for v in self.cuda_variants) if c]
        if self.pypi_default_cuda and V.major_minor(self.pypi_default_cuda) not in found:
            found.append(V.major_minor(self.pypi_default_cuda))
        return found

    def has_index_variant(self, variant: str) -> bool:
        return variant in self.cuda_variants

    def min_cc_for(self, variant: str) -> str | None:
        return self.min_compute_capability.get(variant, self.min_compute_capability.get("all"))

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
    and_cuda_requires: dict[str, Spec] = {}
    keras: Spec | None = None

    def cudnn_pin(self) -> tuple[str, str] | None:
        return next(((p, v) for p, v in self.and_cuda_pins.items() if p.startswith("nvidia-cudnn-")), None)

    def and_cuda_spec(self, prefix: str) -> tuple[str, SpecifierSet] | None:
        """(package, specifier) of the [and-cuda] requirement on nvidia-<prefix>-*: metadata ranges first,
        else the exact pin; None when neither is known."""
        for package, spec in self.and_cuda_requires.items():
            if package.startswith(f"nvidia-{prefix}-"):
                return package, SpecifierSet(spec)
        for package, pin in self.and_cuda_pins.items():
            if package.startswith(f"nvidia-{prefix}-"):
                return package, SpecifierSet(f"=={pin}")
        return None


class TfData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    releases: dict[Ver, TfRelease]


class JaxExtra(_Row):
    cuda_major: str
    min_cuda: Ver
    built_with: Ver
    cudnn: str
    min_compute_capability: Ver
    min_jax: Ver | None = None  # first jax release with this extra's plugin


class JaxRelease(_Row):
    python: PyRange
    extras: list[str]
    built_with: dict[str, Ver] = {}


class JaxData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    extras: dict[str, JaxExtra]
    releases: dict[Ver, JaxRelease]


class KerasRelease(_Row):
    patches: list[Ver]


class KerasData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    releases: dict[Ver, KerasRelease] = {}


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
    keras: KerasData = KerasData()
    _layers: list[str] = PrivateAttr(default_factory=list)  # where the data came from, in merge order

    @property
    def layers(self) -> list[str]:
        return list(self._layers)

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
            cudnn = minor.images.cudnn if minor.images else None
            if cudnn and cudnn.patch and cudnn.patch not in minor.releases:
                problems.append(f"cuda.minors.{key}.images.cudnn.patch {cudnn.patch} is not in its releases")
        for key, rel in self.pytorch.releases.items():
            _check_patches("pytorch", key, rel.patches, problems)
            builds = {V.cuda_variant(c) for c in rel.cudas()}
            for name, table in (("cudnn", rel.cudnn), ("min_compute_capability", rel.min_compute_capability)):
                for variant in table:
                    if variant != "all" and variant not in builds:
                        problems.append(f"pytorch.releases.{key}.{name}.{variant} is not one of its builds "
                                        "(cuda_variants or pypi_default_cuda)")
            for companion in rel.companions:
                if companion not in ("torchvision", "torchaudio"):
                    problems.append(f"pytorch.releases.{key}.companions.{companion}: only torchvision and torchaudio")
        for key, tf_rel in self.tensorflow.releases.items():
            _check_patches("tensorflow", key, tf_rel.patches, problems)
        for key, jax_rel in self.jax.releases.items():
            for extra in [*jax_rel.extras, *jax_rel.built_with]:
                if extra not in self.jax.extras:
                    problems.append(f"jax.releases.{key}: unknown extra {extra!r} (known: {', '.join(self.jax.extras)})")
                elif (first := self.jax.extras[extra].min_jax) and V.parse(key) < V.parse(first):
                    problems.append(f"jax.releases.{key}: jax[{extra}] does not exist before jax {first}")
        for key, keras_rel in self.keras.releases.items():
            _check_patches("keras", key, keras_rel.patches, problems)
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
