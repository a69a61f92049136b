"""GPU image size: what the bundled GPU profiles no longer hold twice, from published sizes only.

    python bench/gpu_image_size.py [--no-write]

For each bundled GPU profile (profiles/pytorch-cuda*.yaml, profiles/tensorflow-cuda*.yaml):
  pins      the nvidia-* packages the plan's framework wheels require, at the versions they pin, read from
            the wheel's own metadata on PyPI (PEP 658 `.metadata`); where the index serves none, the pins in
            RECALLED below, marked as such in the table
  sizes     each pinned wheel's compressed size (PyPI JSON API, the manylinux x86_64 wheel)
  twice     which of those libraries the nvidia/cuda runtime tag the profile started from before also holds
            (toolkit.compat.cuda_libs.FLAVOURS, from NVIDIA's image recipes)
No CUDA image can be pulled here, Docker Hub is unreachable and no published compressed size of the
nvidia/cuda tags was found: the runtime tag's copy of a library is estimated by the pip wheel of the same
library of the same CUDA minor (NVIDIA ships the same binaries both ways). The estimate leaves out what the
runtime tag holds and pip does not (NPP, nvJPEG, cuda-compat), so the saving is at least the figure shown.
Results go to the "GPU image size" section of docs/benchmarks.md (other sections are left alone).
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from docs_section import publish  # noqa: E402

from toolkit.compat.cuda_libs import FLAVOURS, PIP_PACKAGES  # noqa: E402
from toolkit.compat.data_model import load_data  # noqa: E402
from toolkit.model.steps import PipInstall  # noqa: E402
from toolkit.plan.builder import build_plan  # noqa: E402
from toolkit.profile.loader import load_profile  # noqa: E402

SECTION = "## GPU image size"
PYPI = "https://pypi.org/pypi/{name}/json"
# tensorflow 2.16.1's [and-cuda] extra (tensorflow/tools/pip_package/setup.py EXTRA_PACKAGES['and-cuda']); used
# only when the index serves no metadata file for the wheel. The compat data confirms four of them.
RECALLED = {
    ("tensorflow", "2.16.1"): {
        "nvidia-cublas-cu12": "12.3.4.1", "nvidia-cuda-cupti-cu12": "12.3.101", "nvidia-cuda-nvcc-cu12": "12.3.107",
        "nvidia-cuda-nvrtc-cu12": "12.3.107", "nvidia-cuda-runtime-cu12": "12.3.101", "nvidia-cudnn-cu12": "8.9.7.29",
        "nvidia-cufft-cu12": "11.0.12.1", "nvidia-curand-cu12": "10.3.4.107", "nvidia-cusolver-cu12": "11.5.4.101",
        "nvidia-cusparse-cu12": "12.2.0.103", "nvidia-nccl-cu12": "2.19.3", "nvidia-nvjitlink-cu12": "12.3.101",
    },
}
_PIN = re.compile(r"^([A-Za-z0-9_.-]+)\s*==\s*([0-9][0-9A-Za-z.]*)")
_cache: dict[str, dict] = {}


def project(name: str) -> dict:
    if name not in _cache:
        with urllib.request.urlopen(PYPI.format(name=name), timeout=120) as r:
            _cache[name] = json.load(r)
    return _cache[name]


def linux_wheels(name: str, version: str) -> list[dict]:
    files = project(name)["releases"].get(version, [])
    return sorted((f for f in files if f["filename"].endswith(".whl") and "x86_64" in f["filename"]
                   and "linux" in f["filename"]), key=lambda f: f["size"])


def wheel_size(name: str, version: str) -> int | None:
    wheels = linux_wheels(name, version)
    return wheels[0]["size"] if wheels else None


def pins(name: str, version: str, extra: str | None) -> tuple[dict[str, str], str]:
    """nvidia-* (and cuda-toolkit) pins of a framework wheel: (package -> version, where they came from)."""
    for wheel in linux_wheels(name, version)[:3]:
        url = urllib.parse.urljoin(PYPI.format(name=name), wheel["url"] + ".metadata")
        try:
            with urllib.request.urlopen(url, timeout=120) as r:
                text = r.read().decode()
        except OSError:
            continue
        out = {}
        for line in text.splitlines():
            if not line.startswith("Requires-Dist:"):
                continue
            spec, _, marker = line.split(":", 1)[1].strip().partition(";")
            if extra and f'extra == "{extra}"' not in marker or not extra and "extra ==" in marker:
                continue
            m = _PIN.match(spec.strip())
            if m and (m.group(1).startswith("nvidia-") or m.group(1).startswith("cuda-toolkit")):
                out[m.group(1).split("[")[0]] = m.group(2)
        return out, f"{wheel['filename']} metadata"
    if (name, version) in RECALLED:
        return dict(RECALLED[(name, version)]), f"recalled {name} {version} setup.py (no metadata file served)"
    return {}, "no metadata"


def library(package: str) -> str | None:
    return PIP_PACKAGES.get(re.sub(r"-cu\d+$", "", package))


def framework_wheel(name: str, version: str, python: str) -> int | None:
    """The framework's own wheel for the plan's Python (cp310...)."""
    tag = "cp" + python.replace(".", "")
    sizes = [f["size"] for f in linux_wheels(name, version) if f"-{tag}-" in f["filename"]]
    return min(sizes) if sizes else None


def framework_pins(plan) -> tuple[dict[str, str], list[str], int]:
    found: dict[str, str] = {}
    sources = []
    own = 0
    for step in plan.steps:
        if not isinstance(step, PipInstall):
            continue
        for req in step.requirements:
            m = re.match(r"^(torch|tensorflow)(\[and-cuda\])?==([0-9.]+)$", req)
            if not m:
                continue
            got, where = pins(m.group(1), m.group(3), "and-cuda" if m.group(2) else None)
            found.update(got)
            sources.append(where)
            own += framework_wheel(m.group(1), m.group(3), plan.target.python_version) or 0
    return found, sources, own


def row(name: str) -> dict:
    plan = build_plan(load_profile(str(ROOT / "profiles" / f"{name}.yaml")))
    versions = dict(plan.versions)
    data = load_data()
    os_tag = data.cuda.image.os_tag(plan.target.distro)
    before = f"nvidia/cuda:{versions['cuda']}-runtime-{os_tag}{plan.target.os_version}"
    pinned, sources, own = framework_pins(plan)
    sizes = {p: wheel_size(p, v) for p, v in pinned.items()}
    twice = {p: s for p, s in sizes.items() if library(p) in FLAVOURS["runtime"]}
    not_counted = sorted(FLAVOURS["runtime"] - {library(p) for p in pinned})
    return {"profile": name, "before": before, "now": plan.target.base_image, "pins": pinned, "sizes": sizes,
            "twice": twice, "not_counted": not_counted, "sources": sources,
            "framework": own, "python": plan.target.python_version}


def mb(n: int | None) -> str:
    return "?" if n is None else f"{n / 1e6:,.0f} MB"


def render(rows: list[dict]) -> str:
    today = datetime.date.today().isoformat()
    lines = [SECTION, "",
             f"`python bench/gpu_image_size.py`, {today}. Sizes are PyPI's compressed wheel sizes (JSON API); the pins are "
             "the framework wheel's own Requires-Dist (PyPI's torch 2.7.1 is its cu126 build, which the profiles install from "
             "download.pytorch.org/whl/cu126 with the same pins; triton and torchvision are left out). No published compressed size of the nvidia/cuda tags could be "
             "found or fetched here (Docker Hub is unreachable): the runtime tag's copy of each library is estimated "
             "by the pip wheel of the same library and CUDA minor, so the saving is a lower bound (NPP, nvJPEG and "
             "cuda-compat, which the runtime tag also holds, are not counted). The expected compressed image is then "
             "about the OS image plus the framework wheel plus the CUDA wheels plus the other pip layers (the plain "
             "OS images' own compressed sizes could not be sourced here either). Target (issue 21): no CUDA library twice "
             "in a bundled GPU image; checked from the plan by `tests/unit/compat/test_base_flavour.py`.", "",
             "| profile | base before | base now | framework wheel | pip CUDA wheels (held once now) "
             "| held twice before = saved, at least (pip's copy) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        total = sum(s for s in r["sizes"].values() if s)
        twice = sum(s for s in r["twice"].values() if s)
        libs = ", ".join(sorted(filter(None, (library(p) for p in r["twice"]))))
        lines.append(f"| {r['profile']} | `{r['before']}` | `{r['now']}` | {mb(r['framework'])} (Python {r['python']}) "
                     f"| {len(r['pins'])} wheels, {mb(total)} "
                     f"| {libs}: **{mb(twice)}** |")
    lines += ["", "Pins and wheel sizes:", ""]
    for r in rows:
        lines.append(f"- {r['profile']} ({'; '.join(r['sources'])}): " + ", ".join(
            f"{p}=={v} {mb(r['sizes'][p])}" for p, v in sorted(r["pins"].items())))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    names = sorted(p.stem for p in (ROOT / "profiles").glob("*.yaml")
                   if p.stem.startswith(("pytorch-cuda", "tensorflow-cuda")))
    publish(render([row(n) for n in names]), SECTION, args.no_write)


if __name__ == "__main__":
    main()
