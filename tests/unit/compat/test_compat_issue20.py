"""Issue 20: each corrected fact, tested from what its source says."""

import pytest

from toolkit.compat import CompatError, StackRequest, load_data, resolve
from toolkit.compat.companions import companion_requirement


def gpu(**kw) -> StackRequest:
    kw.setdefault("distro", "ubuntu")
    kw.setdefault("os_version", "22.04")
    kw.setdefault("cuda", "auto")
    return StackRequest(gpu=True, **kw)


def issues(req: StackRequest):
    with pytest.raises(CompatError) as exc:
        resolve(req)
    return exc.value.issues


# torch 2.14 wheel metadata: cuda-toolkit 13.0.3, nvidia-cudnn-cu13 9.24.0.43
def test_torch_214_pypi_default_is_cuda_130():
    row = load_data().pytorch.releases["2.14"]
    assert row.pypi_default_cuda == "13.0" and not row.is_uncertain("pypi_default_cuda")
    res = resolve(gpu(os_version="24.04", torch="2.14.0", python="3.12"))
    assert (res.cuda, res.torch_variant, res.cudnn) == ("13.0", "cu130", "9.24.0.43")


# torch 2.11 cu130 wheel metadata pins nvidia-cudnn-cu13 9.19.0.56
def test_torch_211_cu130_cudnn_from_the_wheel_metadata():
    res = resolve(gpu(os_version="24.04", torch="2.11.0", cuda="13.0"))
    assert res.cudnn == "9.19.0.56"


# jax-cuda13-plugin starts at 0.7.2
@pytest.mark.parametrize("jax", ["0.7.0", "0.7.1"])
def test_jax_cuda13_refused_before_072(jax):
    found = issues(gpu(os_version="24.04", jax=jax, cuda="13.0", python="3.12", python_installer="uv"))
    assert any("gpu.cuda" in i.fields and "cuda12" in i.message for i in found)


def test_jax_cuda13_from_072_and_data_cannot_claim_it_earlier(tmp_path):
    res = resolve(gpu(os_version="24.04", jax="0.7.2", cuda="13.0"))
    assert res.jax_requirement == "jax[cuda13]==0.7.2"
    bad = tmp_path / "jax.yaml"
    bad.write_text('jax: {releases: {"0.7.1": {python: {min: "3.11", max: "3.14"}, extras: [cuda12, cuda13]}}}\n')
    with pytest.raises(ValueError, match="does not exist before jax 0.7.2"):
        load_data(bad)


# nvidia/cuda: 12.8.2 base/runtime/devel tags exist, cudnn tags stop at 12.8.1
def test_cuda_1282_plain_images_and_1281_cudnn_images():
    res = resolve(gpu(torch="2.8.0"))  # torch brings every CUDA library: the plain OS image
    assert res.base_image == "ubuntu:22.04" and res.cuda_full == "12.8.2"
    assert res.min_driver == "570.124.06" and not any("12.8.2" in w for w in res.warnings)
    res = resolve(gpu(cuda="12.8.2", nvcc=True, torch="2.8.0"))  # a full pin of the container-only patch
    assert res.base_image == "nvidia/cuda:12.8.2-devel-ubuntu22.04" and res.cuda_full == "12.8.2"
    res = resolve(gpu(cuda="12.8", cudnn="9"))  # no framework: the cudnn image is at 12.8.1
    assert res.base_image == "nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04"
    found = issues(gpu(cuda="12.8.2", cudnn="9"))
    assert any("12.8.1" in i.message and "no cudnn runtime images for CUDA 12.8.2" in i.message for i in found)


def test_not_the_newest_patch_is_said_once():
    res = resolve(gpu(cuda="12.8.1", torch="2.8.0", nvcc=True))
    assert len([w for w in res.warnings if "not the newest" in w]) == 1


# tensorflow 2.20 [and-cuda]: nvidia-cuda-runtime-cu12>=12.5.82,<13 and nvidia-cudnn-cu12>=9.3,<10
def test_torch_28_cu128_with_tf_220_resolves():
    res = resolve(gpu(torch="2.8.0", tensorflow="2.20.0"))
    assert res.cuda == "12.8" and res.torch_variant == "cu128"
    assert res.tensorflow_requirement == "tensorflow[and-cuda]==2.20.0"


def test_exact_and_cuda_pins_that_clash_with_torch_are_refused():
    found = issues(gpu(torch="2.6.0", tensorflow="2.16.1"))  # TF pins cuDNN 8.9.7.29 / runtime 12.3.101
    assert any("pip cannot install both" in i.message for i in found)


def test_tf_and_cuda_does_not_tie_the_image_cuda():
    res = resolve(gpu(os_version="24.04", tensorflow="2.16.1"))
    assert res.base_image == "ubuntu:24.04" and res.cuda.startswith("12.")
    assert res.tensorflow_requirement == "tensorflow[and-cuda]==2.16.1"
    # without [and-cuda] TF loads the system CUDA 12.3, which has no 24.04 images
    found = issues(gpu(os_version="24.04", tensorflow="2.16.1", tensorflow_and_cuda=False))
    assert any("os.version" in i.fields for i in found)


# torch 2.8 cu128 arch list: sm_70..sm_120 (sm_50-sm_61 removed); cu126 keeps sm_50
@pytest.mark.parametrize("cc", ["6.1", "5.2"])
def test_old_gpu_with_torch_28_cu128_is_refused_with_the_right_hint(cc):
    (issue,) = issues(gpu(torch="2.8.0", cuda="12.8", compute_capability=cc))
    assert "cu128" in issue.message and ">= 7.0" in issue.message
    assert "12.6" in issue.hint and "cu126" in issue.hint
    res = resolve(gpu(torch="2.8.0", compute_capability=cc))  # auto picks the build that has kernels
    assert res.torch_variant == "cu126"


def test_volta_hint_names_cu128_for_torch_29():
    (issue,) = issues(gpu(torch="2.9.0", cuda="13.0", compute_capability="7.0"))
    assert "cu126, cu128" in issue.hint  # sm_70 is in cu128 too: cu126 is not "the last with sm_70"


# test-infra release_versions.sh: torch 2.12 / 2.13 pair with torchaudio 2.11
@pytest.mark.parametrize("torch, audio, vision", [("2.8.0", "2.8", "0.23"), ("2.12.0", "2.11", "0.27"),
                                                  ("2.13.0", "2.11", "0.28")])
def test_companions_are_data(torch, audio, vision):
    res = resolve(StackRequest(distro="ubuntu", os_version="24.04", torch=torch,
                               torch_extras=("torchvision", "torchaudio")))
    assert res.torch_requirements == (f"torch=={torch}", f"torchvision=={vision}.*", f"torchaudio=={audio}.*")
    assert companion_requirement("torchaudio", torch) == f"torchaudio=={audio}.*"


# the toolkit driver of 13.0.3 is unknown: never treated as satisfied, never the bare family floor
def test_unknown_toolkit_driver_is_not_satisfied():
    res = resolve(gpu(os_version="24.04", torch="2.11.0", cuda="13.0", min_driver="580.65.06"))
    assert res.cuda_full == "13.0.3" and res.min_driver == "580.95.05"
    assert any("below the toolkit driver of CUDA 13.0.3" in w for w in res.warnings)
    res = resolve(gpu(os_version="24.04", torch="2.11.0", cuda="13.0", min_driver="590.44.01"))
    assert any("cannot be confirmed" in w for w in res.warnings)


def test_os_list_is_the_data():
    res = resolve(StackRequest(distro="ubuntu", os_version="26.04"))
    assert res.python == "3.14" and any("26.04" in w and "uncertain" in w for w in res.warnings)
    (issue,) = issues(StackRequest(distro="ubuntu", os_version="18.04"))
    assert "not supported" in issue.message and "26.04" in issue.hint


# keras: tensorflow 2.16 requires keras>=3.0.0
def test_keras_215_with_tf_216_is_refused():
    (issue,) = issues(StackRequest(distro="ubuntu", os_version="22.04", tensorflow="2.16.1", keras="2.15"))
    assert "ResolutionImpossible" in issue.message and "keras>=3.0.0" in issue.message
    res = resolve(StackRequest(distro="ubuntu", os_version="22.04", tensorflow="2.16.1", keras="3.3"))
    assert res.keras_requirement == "keras==3.3.*"


@pytest.mark.parametrize("keras", ["3.99", "3.4.7", "4", "2.16.0"])
def test_keras_that_does_not_exist_is_refused(keras):
    (issue,) = issues(StackRequest(distro="ubuntu", os_version="22.04", torch="2.8.0", keras=keras))
    assert "frameworks.keras.version" in issue.fields and "does not exist" in issue.message


def test_keras_2_needs_tensorflow():
    (issue,) = issues(StackRequest(distro="ubuntu", os_version="22.04", torch="2.8.0", keras="2.15.0"))
    assert "only on TensorFlow" in issue.message


# the profile's pip lists cannot undo what frameworks: resolved
@pytest.mark.parametrize("entry", ["torch==2.2.0", "torch<2.3", "torchaudio==2.1.0"])
def test_pip_list_that_replaces_the_resolved_torch_is_refused(entry):
    (issue,) = issues(StackRequest(distro="ubuntu", os_version="22.04", torch="2.3.1",
                                   pip=(("packages.pip.1", entry),)))
    assert issue.fields == ("packages.pip.1",) and "replace" in issue.message


@pytest.mark.parametrize("framework, entry", [("tensorflow", "tensorflow==2.15.0"), ("jax", "jaxlib==0.4.30"),
                                              ("keras", "keras<3")])
def test_pip_list_conflicts_for_every_framework(framework, entry):
    kw = {"tensorflow": {"tensorflow": "2.16.1"}, "jax": {"jax": "0.5.0"},
          "keras": {"tensorflow": "2.16.1", "keras": "3.3.3"}}[framework]
    found = issues(StackRequest(distro="ubuntu", os_version="22.04", pip=(("packages.pip_base.0", entry),), **kw))
    assert any(i.fields == ("packages.pip_base.0",) for i in found)


def test_pip_list_naming_the_same_version_only_warns():
    res = resolve(StackRequest(distro="ubuntu", os_version="22.04", torch="2.3.1", pip=(("packages.pip.0", "torch"),)))
    assert any("already installs" in w for w in res.warnings)


def test_local_version_in_pip_points_at_frameworks():
    (issue,) = issues(StackRequest(distro="ubuntu", os_version="22.04", pip=(("packages.pip.0", "torch==2.1.0+cu121"),)))
    assert "frameworks.pytorch" in issue.hint and "+cu121" in issue.message
