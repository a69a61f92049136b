"""environment.yml (conda): the pip section as it is; conda packages mapped to a framework, the GPU
settings, pip or apt where a well-known equivalent exists; conda-only packages listed as not adopted."""

from __future__ import annotations

import re
from pathlib import Path

from toolkit import inputs
from toolkit.profile import requirement_files as rf
from toolkit.profile.adopt import python_files
from toolkit.profile.adopt.draft import Draft, mapping

SPEC = re.compile(r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*(?P<version>[^\s\[]*)"
                  r"(?:\s+(?P<build>\S+))?$")
# conda name -> pip name, where they differ (frameworks go through Draft.requirement as their pip name)
PIP_NAMES = {"pytorch": "torch", "pytorch-gpu": "torch", "pytorch-cpu": "torch", "tensorflow-gpu": "tensorflow",
             "py-opencv": "opencv-python-headless", "opencv": "opencv-python-headless",
             "matplotlib-base": "matplotlib", "jupyter": "jupyterlab", "lightning": "lightning",
             "pytorch-lightning": "pytorch-lightning", "huggingface_hub": "huggingface-hub"}
APT = {"ffmpeg": "ffmpeg", "graphviz": "graphviz", "cmake": "cmake", "make": "make", "gcc": "build-essential",
       "gxx": "build-essential", "gcc_linux-64": "build-essential", "gxx_linux-64": "build-essential",
       "compilers": "build-essential", "c-compiler": "build-essential", "cxx-compiler": "build-essential",
       "openjdk": "default-jdk-headless", "nodejs": "nodejs", "curl": "curl", "wget": "wget",
       "libsndfile": "libsndfile1", "sox": "sox", "unzip": "unzip", "zip": "zip", "htop": "htop", "tmux": "tmux",
       "vim": "vim", "pandoc": "pandoc", "imagemagick": "imagemagick", "git": "git"}
GPU = {"cudatoolkit", "cuda-toolkit", "cuda", "pytorch-cuda", "cuda-version", "cuda-runtime", "cudnn", "cuda-nvcc"}
CONDA_ONLY = {"mkl": "numpy and the frameworks' wheels bring their own BLAS", "mkl-service": "conda's MKL glue",
              "intel-openmp": "the frameworks' wheels bring their own OpenMP", "blas": "conda's BLAS selector",
              "openblas": "numpy's wheels bring their own BLAS", "nccl": "the frameworks' CUDA wheels bring NCCL",
              "pip": "the venv has pip", "setuptools": "the venv has it", "wheel": "the venv has it",
              "python_abi": "conda's ABI marker", "ca-certificates": "toolkit installs the OS's (and network: "
              "ca_certificates)", "openssl": "the OS's is used", "certifi": "pip installs it when needed",
              "tk": "conda's Tk", "xz": "an OS library", "zlib": "an OS library", "sqlite": "an OS library",
              "readline": "an OS library", "ncurses": "an OS library", "tzdata": "an OS package", "git-lfs": ""}


def environment(draft: Draft, path: Path, newest: dict[str, str]) -> None:
    where = rf.display(path)
    doc = inputs.load_yaml(path, what="environment.yml", display=where)
    data = mapping(doc.data)
    for key in ("channels", "name", "prefix"):
        if key in data:
            draft.skip(where, f"{key}:", "conda's own setting; toolkit installs from PyPI and the OS's archive")
    variables = data.get("variables")
    if isinstance(variables, dict):
        for k, v in variables.items():
            draft.env_var(f"{where} variables.{inputs.key_name(k)}", str(k), str(v))
    deps = data.get("dependencies")
    if not isinstance(deps, list):
        draft.skip(where, "dependencies:", "no list of dependencies found")
        return
    for i, item in enumerate(deps):
        at = f"{where}:{_line(doc, ('dependencies', i))}"
        if isinstance(item, dict) and set(item) == {"pip"} and isinstance(item["pip"], list):
            for j, line in enumerate(item["pip"]):
                _pip_line(draft, f"{where}:{_line(doc, ('dependencies', i, 'pip', j))}", str(line), path, newest)
        elif isinstance(item, str):
            _conda(draft, at, item, newest)
        else:
            draft.skip(at, repr(item)[:60], "neither a conda package nor a pip: list")


def _line(doc, path: tuple) -> int | str:
    pos = doc.position(path)
    return pos[0] if pos else "?"


def _pip_line(draft: Draft, where: str, line: str, path: Path, newest: dict[str, str]) -> None:
    words = line.split()
    if len(words) == 2 and words[0] in ("-r", "--requirement"):
        python_files.requirements(draft, path.parent / words[1], newest, where)
    else:
        draft.requirement(where, line, newest)


def _version(text: str) -> str | None:
    """A conda version spec as a pip specifier ('' for none); None when it cannot be said in pip's terms."""
    if not text:
        return ""
    if text.startswith("=") and not text.startswith("=="):     # =1.2 or =1.2=build: conda's fuzzy 1.2*
        ver = text[1:].split("=", 1)[0].removesuffix(".*")
        return f"=={ver}.*" if re.fullmatch(r"\d+(\.\d+)*", ver) else None
    if re.fullmatch(r"\d+(\.\d+)*(\.\*)?", text):
        return f"=={text}"
    if re.fullmatch(r"(==|>=|<=|>|<|!=)\d+(\.\d+)*(\.\*)?(,(==|>=|<=|>|<|!=)\d+(\.\d+)*(\.\*)?)*", text):
        return text
    return None


def _conda(draft: Draft, where: str, item: str, newest: dict[str, str]) -> None:
    m = SPEC.match(item.strip())
    if not m:
        draft.skip(where, item, "not a conda package spec toolkit can read (name, name=1.2 or name>=1.2)")
        return
    name, version, build = m["name"].lower(), m["version"] or "", m["build"]
    spec = _version(version)
    plain = re.sub(r"[=<>!*,]", "", spec or "").rstrip(".")
    if name == "python":
        draft.python = ".".join(plain.split(".")[:2]) if plain else None
        draft.took(where, f"{item} -> python.version {draft.python}" if draft.python else f"{item}: any Python")
    elif name in GPU:
        draft.gpu = True
        draft.nvcc = draft.nvcc or name in ("cuda-nvcc", "cuda-toolkit", "cuda")
        if name not in ("cudnn", "cuda-nvcc") and plain:
            draft.cuda = ".".join(plain.split(".")[:2])
        draft.took(where, f"{item} -> gpu.enabled" + (f", gpu.cuda {draft.cuda}" if draft.cuda else "") +
                   (" (cuDNN: gpu.cudnn auto)" if name == "cudnn" else ""))
    elif name == "git-lfs":
        draft.lfs = True
        draft.took(where, f"{item} -> git.lfs")
    elif name in APT:
        if APT[name] != "git":
            draft.apt.append(APT[name])
        draft.took(where, f"{item} -> " + ("git (installed by default)" if APT[name] == "git" else
                                           f"packages.apt {APT[name]} (the OS's release)"))
    elif name in CONDA_ONLY or name.startswith(("lib", "_")):
        draft.skip(where, item, "conda-only: " + (CONDA_ONLY.get(name) or "a library conda packages for itself; "
                   "add the OS package (packages.apt) if a program needs it"))
    elif spec is None:
        draft.skip(where, item, f"version {inputs.shown(version, 40)!r} has no pip equivalent toolkit can write")
    else:
        if build:
            draft.skip(where, f"{item} (build {build})", "conda build strings have no pip equivalent: the version "
                       "alone is adopted")
        draft.requirement(where, PIP_NAMES.get(name, name) + spec, newest,
                          note="" if name in PIP_NAMES else " (the same name on PyPI)")
