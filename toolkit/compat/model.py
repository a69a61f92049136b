"""Public value types of the compatibility resolver: request, decisions, issues, result."""

from __future__ import annotations

from dataclasses import dataclass

# Profile field paths a CompatIssue may name.
ISSUE_FIELDS = (
    "os.distro",
    "os.version",
    "os.base_image",
    "python.version",
    "gpu.cuda",
    "gpu.cudnn",
    "gpu.min_driver",
    "gpu.nvcc",
    "frameworks.pytorch.version",
    "frameworks.tensorflow.version",
    "frameworks.jax.version",
    "frameworks.keras.version",
    "frameworks.pytorch.extras",
    "packages.pip",
    "packages.pip_base",
    "packages.pip_requirements",
)


@dataclass(frozen=True)
class StackRequest:
    distro: str  # "ubuntu" | "debian" | "rocky" | "almalinux"
    os_version: str  # "22.04", "24.04", "12"
    python: str | None = None  # "3.11"; None = the OS's system python
    python_installer: str = "pip"  # "pip" | "uv"
    gpu: bool = False
    cuda: str | None = None  # "auto" or "12.8"; ignored when not gpu
    cudnn: str | None = None  # "auto", "9", "9.10", ...
    min_driver: str | None = None  # declared host driver, "550" or "550.54.15"
    nvcc: bool = False  # devel image wanted
    torch: str | None = None  # "2.7", "2.7.1" or None
    tensorflow: str | None = None
    tensorflow_and_cuda: bool = True
    jax: str | None = None
    base_image: str | None = None  # explicit override
    compute_capability: str | None = None  # target fact, e.g. "12.0"
    driver_version: str | None = None  # target fact: installed driver
    keras: str | None = None
    torch_extras: tuple[str, ...] = ()  # "torchvision", "torchaudio"
    pip: tuple[tuple[str, str], ...] = ()  # (profile field, requirement) of the profile's own pip lists


@dataclass(frozen=True)
class Decision:
    field: str  # e.g. "gpu.cuda", "frameworks.pytorch.index_url", "os.base_image"
    value: str
    rule: str  # which rule chose it
    source: str  # which data row, e.g. "pytorch.releases.2.7.pypi_default_cuda"


@dataclass(frozen=True)
class CompatIssue:
    fields: tuple[str, ...]
    message: str
    hint: str

    def __str__(self) -> str:
        text = f"{self.message} [{', '.join(self.fields)}]"
        return f"{text}\n    hint: {self.hint}" if self.hint else text


@dataclass(frozen=True)
class Resolution:
    python: str
    cuda: str | None
    cuda_full: str | None
    cudnn: str | None
    torch_variant: str | None
    torch_index_url: str | None
    torch_requirements: tuple[str, ...]
    tensorflow_requirement: str | None
    jax_requirement: str | None
    cuda_pip_packages: tuple[str, ...]
    base_image: str
    min_driver: str | None
    warnings: tuple[str, ...]
    decisions: tuple[Decision, ...]
    keras_requirement: str | None = None
    python_bin: str = "python3"   # the interpreter that creates the venv (python3.11: an OS-packaged newer one)
    base_flavour: str | None = None   # "os" (plain OS image), "runtime", "cudnn-devel", ...; None: unknown override
    image_env: tuple[tuple[str, str], ...] = ()   # variables the image sets (NVIDIA's, on a plain OS image)

    def decision(self, field: str) -> Decision | None:
        """The decision recorded for ``field`` (None when that field was not resolved)."""
        return next((d for d in self.decisions if d.field == field), None)


class CompatError(Exception):
    """The request cannot be satisfied; ``issues`` lists every problem found."""

    def __init__(self, issues: tuple[CompatIssue, ...] | list[CompatIssue]):
        self.issues: tuple[CompatIssue, ...] = tuple(issues)
        super().__init__(self.__str__())

    def __str__(self) -> str:
        n = len(self.issues)
        head = f"{n} compatibility problem{'s' if n != 1 else ''}:"
        return "\n".join([head, *(f"  - {issue}" for issue in self.issues)])
