"""GPU base images: the plain OS image when pip brings every CUDA library, nvidia/cuda where something needs the
system's; and the rule that no CUDA library is in the image twice (base tag contents vs pip CUDA packages)."""

from pathlib import Path

import pytest

from toolkit.compat import CompatError, StackRequest, resolve
from toolkit.compat.base_flavour import BaseChoice, check_duplicates
from toolkit.compat.context import Ctx
from toolkit.compat.cuda_libs import FLAVOURS, duplicates, flavour_of, pip_libraries
from toolkit.compat.data_model import load_data
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile

PROFILES = Path(__file__).resolve().parents[3] / "profiles"
GPU_PROFILES = sorted(p.stem for p in PROFILES.glob("*.yaml") if p.stem.startswith(("pytorch-cuda", "tensorflow-cuda")))


def gpu(**kw) -> StackRequest:
    kw.setdefault("distro", "ubuntu")
    kw.setdefault("os_version", "22.04")
    kw.setdefault("cuda", "auto")
    return StackRequest(gpu=True, **kw)


def test_the_bundled_gpu_profiles_are_all_here():
    assert GPU_PROFILES == ["pytorch-cuda", "pytorch-cuda-alma9", "pytorch-cuda-rocky9", "tensorflow-cuda"]


@pytest.mark.parametrize("name", GPU_PROFILES)
def test_bundled_gpu_profile_holds_no_cuda_library_twice(name):
    plan = build_plan(load_profile(str(PROFILES / f"{name}.yaml")))
    image = plan.target.base_image
    assert not image.startswith("nvidia/cuda"), image      # pip brings them: the plain OS image
    env = dict(plan.target.image_env)
    assert env == {"NVIDIA_VISIBLE_DEVICES": "all", "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
                   "NVIDIA_REQUIRE_CUDA": "cuda>=12.0"}
    # from the plan alone: the base tag's contents vs every pip requirement the plan installs
    requirements = [r for s in plan.steps for r in getattr(s, "requirements", ())]
    assert pip_libraries(requirements)["cudart"]            # the pip side does bring CUDA
    assert duplicates(flavour_of(image) or "os", requirements) == {}
    # ... and the same requirements on the runtime tag the profile used before would be refused
    assert {"cublas", "cudart", "nccl"} <= set(duplicates("runtime", requirements))
    decisions = {d.field: d for d in plan.decisions}
    assert decisions["gpu.duplicate_cuda_libraries"].value == "none"
    assert decisions["gpu.base_flavour"].value == "plain OS image + NVIDIA container variables"


def test_flavour_of_reads_nvidia_tags_only():
    assert flavour_of("nvidia/cuda:12.6.3-runtime-ubuntu22.04") == "runtime"
    assert flavour_of("nvidia/cuda:12.2.2-cudnn8-devel-ubuntu22.04") == "cudnn-devel"
    assert flavour_of("registry:5000/nvidia/cuda:12.6.3-base-rockylinux9") == "base"
    assert flavour_of("reg.local/mirror/nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04") == "cudnn-runtime"
    assert flavour_of("ubuntu:22.04") is None and flavour_of("registry.local/cuda-debian:12") is None
    assert FLAVOURS["base"] < FLAVOURS["runtime"] < FLAVOURS["devel"] < FLAVOURS["cudnn-devel"]


def test_pip_libraries_of_frameworks_and_explicit_packages():
    assert "cudnn" in pip_libraries(["torch==2.7.1"]) and pip_libraries(["torch==2.7.1"], torch_cuda=False) == {}
    assert "nvcc" in pip_libraries(["tensorflow[and-cuda]==2.16.1"]) and pip_libraries(["tensorflow==2.16.1"]) == {}
    assert "cublas" in pip_libraries(["jax[cuda12]==0.6.0"])
    assert pip_libraries(["nvidia-cudnn-cu12==8.9.7.29"]) == {"cudnn": "nvidia-cudnn-cu12==8.9.7.29"}
    cu13 = pip_libraries(["cuda-toolkit[cublas,cudart]==13.0.2"])
    assert set(cu13) == {"cublas", "cudart"}
    # even -base holds cudart, which nvidia-cuda-runtime brings: only the plain OS image holds nothing twice
    assert list(duplicates("base", ["torch==2.7.1"])) == ["cudart"]


def test_nvcc_keeps_devel_and_explains_the_duplicates():
    res = resolve(gpu(torch="2.7.1", nvcc=True))
    assert res.base_image == "nvidia/cuda:12.6.3-devel-ubuntu22.04" and res.image_env == ()
    why = res.decision("gpu.duplicate_cuda_libraries")
    assert "cublas" in why.value and "nvcc requested" in why.rule
    assert res.decision("gpu.base_flavour").value == "devel"


def test_tensorflow_without_and_cuda_keeps_runtime():
    res = resolve(gpu(tensorflow="2.16.1", tensorflow_and_cuda=False))
    assert res.base_image == "nvidia/cuda:12.3.2-runtime-ubuntu22.04"
    assert "without [and-cuda]" in res.decision("gpu.base_flavour").rule
    # the cuDNN pip pin is not in the runtime image: nothing twice
    assert res.decision("gpu.duplicate_cuda_libraries").value == "none"


def test_gpu_without_a_framework_keeps_runtime():
    res = resolve(gpu(cuda="12.6"))
    assert res.base_image == "nvidia/cuda:12.6.3-runtime-ubuntu22.04"


def test_an_explicit_runtime_base_is_allowed_with_a_warning():
    res = resolve(gpu(torch="2.7.1", base_image="nvidia/cuda:12.6.3-runtime-ubuntu22.04"))
    assert res.base_image == "nvidia/cuda:12.6.3-runtime-ubuntu22.04" and res.base_flavour == "runtime"
    (warning,) = [w for w in res.warnings if "twice" in w]
    assert "cublas" in warning and "torch==2.7.1" in warning and "drop os.base_image" in warning


def test_an_override_that_is_not_an_nvidia_tag_gets_the_variables_when_pip_brings_cuda():
    res = resolve(gpu(torch="2.7.1", base_image="registry.local/mirror/ubuntu:22.04"))
    assert res.base_image == "registry.local/mirror/ubuntu:22.04"
    assert dict(res.image_env)["NVIDIA_DRIVER_CAPABILITIES"] == "compute,utility"
    assert resolve(gpu(torch="2.7.1", base_image="nvidia/cuda:12.6.3-base-ubuntu22.04")).image_env == ()  # its own
    assert resolve(gpu(tensorflow="2.16.1", tensorflow_and_cuda=False,
                       base_image="registry.local/cuda:12.3")).image_env == ()   # needs the image's CUDA


def test_a_profile_pip_package_on_a_needed_runtime_image_is_explained_not_refused():
    res = resolve(gpu(tensorflow="2.16.1", tensorflow_and_cuda=False,
                      pip=(("packages.pip.0", "nvidia-cublas-cu12==12.3.4.1"),)))
    assert res.decision("gpu.duplicate_cuda_libraries").value == "cublas"


def test_a_duplicate_toolkit_chose_itself_is_refused():
    """The failing case: a runtime base that nothing needs under torch's CUDA wheels (what the resolver chose
    before this rule) is refused, naming the libraries."""
    ctx = Ctx(gpu(torch="2.7.1"), load_data())
    ctx.torch = object.__new__(type("P", (), {}))  # any pick: system_cuda_need() asks only its name
    ctx.torch.name = "torch"
    check_duplicates(ctx, BaseChoice("nvidia/cuda:12.6.3-runtime-ubuntu22.04", "runtime"), ["torch==2.7.1"], True)
    (issue,) = ctx.issues
    assert issue.fields == ("os.base_image",)
    assert "cublas" in issue.message and "nccl" in issue.message and "torch==2.7.1" in issue.message
    with pytest.raises(CompatError):
        raise CompatError(ctx.issues)
