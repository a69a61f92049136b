"""Which CUDA libraries an nvidia/cuda flavour ships and which the pip packages bring: where both hold one.

The flavour table follows NVIDIA's image recipes (gitlab.com/nvidia/container-images/cuda, dist/<ver>/<os>/):
base installs cuda-cudart and cuda-compat (the forward-compatibility driver libraries, not a toolkit
library); runtime adds cuda-libraries (cudart, nvrtc, cuBLAS, cuFFT, cuFile, cuRAND, cuSOLVER, cuSPARSE, NPP,
nvJitLink, nvJPEG), cuda-nvtx and libnccl2; devel adds nvcc, CUPTI (cuda-command-line-tools), headers and
static libraries; the cudnn variants add libcudnn. The pip side is each framework's Linux CUDA wheel
metadata (Requires-Dist); `bench/gpu_image_size.py` re-reads it from the index.
"""

from __future__ import annotations

import re

from packaging.requirements import InvalidRequirement, Requirement

BASE = frozenset({"cudart"})
RUNTIME = BASE | {"nvrtc", "cublas", "cufft", "cufile", "curand", "cusolver", "cusparse", "npp", "nvjitlink",
                  "nvjpeg", "nvtx", "nccl"}
DEVEL = RUNTIME | {"nvcc", "cupti"}
FLAVOURS: dict[str, frozenset[str]] = {
    "os": frozenset(),   # the plain OS image: no CUDA library (the driver's come from the host at run time)
    "base": BASE,
    "runtime": RUNTIME,
    "devel": DEVEL,
    "cudnn-runtime": RUNTIME | {"cudnn"},
    "cudnn-devel": DEVEL | {"cudnn"},
}

# pip distribution (without its -cu11/-cu12/-cu13 suffix) -> the library it holds
PIP_PACKAGES = {
    "nvidia-cuda-runtime": "cudart", "nvidia-cuda-nvrtc": "nvrtc", "nvidia-cublas": "cublas", "nvidia-cufft": "cufft",
    "nvidia-cufile": "cufile", "nvidia-curand": "curand", "nvidia-cusolver": "cusolver", "nvidia-cusparse": "cusparse",
    "nvidia-npp": "npp", "nvidia-nvjitlink": "nvjitlink", "nvidia-nvjpeg": "nvjpeg", "nvidia-nvtx": "nvtx",
    "nvidia-nccl": "nccl", "nvidia-cuda-nvcc": "nvcc", "nvidia-cuda-cupti": "cupti", "nvidia-cudnn": "cudnn",
    "nvidia-cusparselt": "cusparselt", "nvidia-nvshmem": "nvshmem",
}
# CUDA 13's cuda-toolkit[...] meta-package: extra -> library
TOOLKIT_EXTRAS = {"cudart": "cudart", "nvrtc": "nvrtc", "cublas": "cublas", "cufft": "cufft", "cufile": "cufile",
                  "curand": "curand", "cusolver": "cusolver", "cusparse": "cusparse", "npp": "npp",
                  "nvjitlink": "nvjitlink", "nvjpeg": "nvjpeg", "nvtx": "nvtx", "cupti": "cupti", "nvcc": "nvcc"}

# What each framework's Linux CUDA wheels pull in (the 2.7.1 cu126 torch wheel and the CUDA 12 extras;
# torch cu13x asks for cuda-toolkit[...] with the same libraries, nvidia-cudnn/nccl/cusparselt-cu13).
TORCH = ("nvidia-cuda-nvrtc", "nvidia-cuda-runtime", "nvidia-cuda-cupti", "nvidia-cudnn", "nvidia-cublas",
         "nvidia-cufft", "nvidia-curand", "nvidia-cusolver", "nvidia-cusparse", "nvidia-cusparselt", "nvidia-nccl",
         "nvidia-nvtx", "nvidia-nvjitlink", "nvidia-cufile")
TF_AND_CUDA = ("nvidia-cublas", "nvidia-cuda-cupti", "nvidia-cuda-nvcc", "nvidia-cuda-nvrtc", "nvidia-cuda-runtime",
               "nvidia-cudnn", "nvidia-cufft", "nvidia-curand", "nvidia-cusolver", "nvidia-cusparse", "nvidia-nccl",
               "nvidia-nvjitlink")
JAX_WITH_CUDA = ("nvidia-cublas", "nvidia-cuda-cupti", "nvidia-cuda-nvcc", "nvidia-cuda-runtime", "nvidia-cudnn",
                 "nvidia-cufft", "nvidia-cusolver", "nvidia-cusparse", "nvidia-nccl", "nvidia-nvjitlink")

_TAG = re.compile(r"^(?:[\w.-]+(?::\d+)?/)*nvidia/cuda:\d+\.\d+(?:\.\d+)?-(?:(cudnn\d*)-)?(base|runtime|devel)-")
_SUFFIX = re.compile(r"-cu\d+$")


def flavour_of(image: str) -> str | None:
    """"runtime", "cudnn-devel", ... for an nvidia/cuda tag; None for any other image (contents unknown)."""
    m = _TAG.match(image or "")
    if not m:
        return None
    return f"cudnn-{m.group(2)}" if m.group(1) else m.group(2)


def _supplied(req: Requirement) -> list[str]:
    name = req.name.lower().replace("_", "-")
    extras = {e.lower() for e in req.extras}
    if name == "torch":
        return list(TORCH)
    if name == "tensorflow" and "and-cuda" in extras:
        return list(TF_AND_CUDA)
    if name == "jax" and any(re.fullmatch(r"cuda\d+", e) for e in extras):
        return list(JAX_WITH_CUDA)
    if name == "cuda-toolkit":
        return [f"cuda-toolkit[{e}]" for e in sorted(extras) if e in TOOLKIT_EXTRAS]
    return [name]


def pip_libraries(requirements: tuple[str, ...] | list[str], torch_cuda: bool = True) -> dict[str, str]:
    """library -> the pip requirement that brings it (the first one), for every CUDA library among the
    requirements and what the frameworks among them pull in. torch_cuda: a torch requirement is a CUDA build."""
    out: dict[str, str] = {}
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.name.lower() == "torch" and not torch_cuda:
            continue
        for package in _supplied(req):
            if package.startswith("cuda-toolkit["):
                lib = TOOLKIT_EXTRAS.get(package[len("cuda-toolkit["):-1])
            else:
                lib = PIP_PACKAGES.get(_SUFFIX.sub("", package))
            if lib:
                out.setdefault(lib, text if package == req.name.lower() else f"{text} ({package})")
    return out


def duplicates(flavour: str | None, requirements: tuple[str, ...] | list[str],
               torch_cuda: bool = True) -> dict[str, str]:
    """library -> pip requirement, for each CUDA library both the image flavour and the pip side hold."""
    shipped = FLAVOURS.get(flavour or "", frozenset())
    return {lib: by for lib, by in sorted(pip_libraries(requirements, torch_cuda).items()) if lib in shipped}
