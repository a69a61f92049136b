"""resolve(): auto-picks, refusals with concrete hints, decisions and warnings."""

import dataclasses

import pytest

from toolkit.compat import CompatError, CompatIssue, Resolution, StackRequest, resolve
from toolkit.compat.model import ISSUE_FIELDS
from toolkit.compat.resolver import DECISION_FIELDS


def gpu(**kw) -> StackRequest:
    kw.setdefault("distro", "ubuntu")
    kw.setdefault("os_version", "22.04")
    kw.setdefault("cuda", "auto")
    return StackRequest(gpu=True, **kw)


def refused(req: StackRequest) -> tuple[CompatIssue, ...]:
    with pytest.raises(CompatError) as exc:
        resolve(req)
    issues = exc.value.issues
    assert issues, "CompatError without issues"
    for issue in issues:
        assert issue.message and issue.hint
        assert set(issue.fields) <= set(ISSUE_FIELDS)
    assert all(i.message in str(exc.value) for i in issues)
    return issues


def assert_decisions_complete(res: Resolution) -> None:
    fields = {d.field for d in res.decisions}
    for attr, field in DECISION_FIELDS.items():
        value = getattr(res, attr)
        if value not in (None, (), ""):
            assert field in fields, f"no decision for {attr} ({field})"
    for d in res.decisions:
        assert d.value and d.rule and d.source


# --- the required cases ---------------------------------------------------------------------


def test_torch_25_with_cuda_126_is_refused_listing_its_variants():
    (issue,) = refused(gpu(cuda="12.6", torch="2.5"))
    assert set(issue.fields) == {"gpu.cuda", "frameworks.pytorch.version"}
    for variant in ("cu118", "cu121", "cu124"):
        assert variant in issue.message and variant in issue.hint
    assert "torch >= 2.6" in issue.hint and "cu126" in issue.hint


def test_tensorflow_216_auto_resolves_cuda_123_cudnn_89():
    res = resolve(gpu(tensorflow="2.16"))
    assert (res.cuda, res.cuda_full, res.cudnn) == ("12.3", "12.3.2", "8.9")
    assert res.tensorflow_requirement == "tensorflow[and-cuda]==2.16.*"
    # pip supplies cuDNN: no cudnn image flavor (the 12.3.2 cudnn image ships cuDNN 9)
    assert res.base_image == "ubuntu:22.04"   # [and-cuda] brings every CUDA library
    assert res.decision("gpu.cuda").source == "tensorflow.releases.2.16.cuda"
    assert_decisions_complete(res)


def test_tensorflow_full_version_is_pinned_exactly():
    res = resolve(gpu(tensorflow="2.16.1"))
    assert res.tensorflow_requirement == "tensorflow[and-cuda]==2.16.1"
    assert not any("not pinned" in w for w in res.warnings)


def test_torch_27_auto_resolves_to_its_pypi_default_and_a_real_tag():
    res = resolve(gpu(torch="2.7"))
    assert (res.cuda, res.cuda_full) == ("12.6", "12.6.3")
    assert res.base_image == "ubuntu:22.04" and res.base_flavour == "os"
    assert res.torch_variant == "cu126"
    assert res.torch_index_url == "https://download.pytorch.org/whl/cu126"
    assert res.torch_requirements == ("torch==2.7.*",)
    assert res.cudnn == "9.5.1.17"
    assert res.python == "3.10"
    assert res.min_driver == "560.35.05"
    assert res.decision("gpu.cuda").source == "pytorch.releases.2.7.pypi_default_cuda"
    assert any("not pinned" in w for w in res.warnings)
    assert_decisions_complete(res)


def test_cuda_13_with_declared_550_driver_is_refused():
    issues = refused(gpu(os_version="24.04", cuda="13.0", torch="2.11.0", min_driver="550"))
    (issue,) = [i for i in issues if "gpu.min_driver" in i.fields]
    assert "580" in issue.message
    assert "12.8" in issue.hint  # a CUDA the driver can run
    assert ">= 580" in issue.hint


def test_python_313_with_tensorflow_216_is_refused():
    issues = refused(gpu(os_version="24.04", python="3.13", python_installer="uv", tensorflow="2.16.1"))
    (issue,) = [i for i in issues if "python.version" in i.fields]
    assert "frameworks.tensorflow.version" in issue.fields
    assert "3.9-3.12" in issue.message
    assert "2.20" in issue.hint  # TF releases that support 3.13


def test_cpu_debian_12_numpy_only():
    res = resolve(StackRequest(distro="debian", os_version="12"))
    assert res.python == "3.11"
    assert res.base_image == "debian:12"
    assert (res.cuda, res.cuda_full, res.cudnn, res.min_driver) == (None, None, None, None)
    assert res.torch_requirements == () and res.torch_variant is None
    assert_decisions_complete(res)


# --- more resolution rules ---------------------------------------------------------------------


def test_cpu_torch_uses_the_cpu_index():
    res = resolve(StackRequest(distro="ubuntu", os_version="24.04", torch="2.9.1", tensorflow="2.20.0", jax="0.8.0"))
    assert res.torch_variant == "cpu"
    assert res.torch_index_url == "https://download.pytorch.org/whl/cpu"
    assert res.torch_requirements == ("torch==2.9.1",)
    assert res.tensorflow_requirement == "tensorflow==2.20.0"
    assert res.jax_requirement == "jax==0.8.0"
    assert res.base_image == "ubuntu:24.04"
    assert_decisions_complete(res)


def test_pip_python_must_be_the_system_python():
    (issue,) = refused(StackRequest(distro="ubuntu", os_version="22.04", python="3.11"))
    assert "not available on that OS" in issue.message
    assert "3.10" in issue.hint and "uv" in issue.hint


def test_uv_can_provide_other_pythons():
    res = resolve(StackRequest(distro="ubuntu", os_version="22.04", python="3.12", python_installer="uv", torch="2.8.0"))
    assert res.python == "3.12"


def test_system_python_outside_framework_range_is_refused():
    (issue,) = refused(StackRequest(distro="ubuntu", os_version="20.04", torch="2.9.0"))
    assert "3.8" in issue.message and "uv" in issue.hint


def test_no_python_fits_all_frameworks():
    issues = refused(StackRequest(distro="ubuntu", os_version="24.04", python="3.12", python_installer="uv",
                                  torch="2.0.1", jax="0.11.0"))
    assert any({"frameworks.pytorch.version", "frameworks.jax.version"} <= set(i.fields) for i in issues)


def test_all_issues_are_reported_together():
    issues = refused(gpu(os_version="24.04", python="3.13", python_installer="uv", tensorflow="2.16.1",
                         cudnn="9", min_driver="470"))
    fields = {f for i in issues for f in i.fields}
    assert {"python.version", "gpu.cudnn", "gpu.min_driver"} <= fields
    assert "os.version" not in fields  # [and-cuda] brings CUDA 12.3: the image may be a newer 12.x with 24.04 tags


def test_blackwell_needs_torch_27_and_cuda_128():
    res = resolve(gpu(os_version="24.04", torch="2.7.1", compute_capability="12.0"))
    assert res.cuda == "12.8" and res.torch_variant == "cu128" and res.cudnn == "9.7.1.26"
    issues = refused(gpu(torch="2.6.0", compute_capability="12.0"))
    assert any("frameworks.pytorch.version" in i.fields and "2.7" in i.hint for i in issues)
    issues = refused(gpu(torch="2.7.1", cuda="12.6", compute_capability="sm_120"))
    assert any("12.8" in i.message for i in issues)


def test_cuda_13_refuses_volta():
    (issue,) = refused(gpu(os_version="24.04", torch="2.12.1", cuda="13.0", compute_capability="7.0"))
    assert "7.5" in issue.message and "12.6" in issue.hint
    res = resolve(gpu(os_version="24.04", torch="2.12.1", compute_capability="7.0"))
    assert res.cuda == "12.6"  # auto avoids the PyPI default 13.0


def test_driver_between_floor_and_toolkit_driver_warns():
    res = resolve(gpu(torch="2.8.0", cuda="12.8", min_driver="550.54.15"))
    assert res.min_driver == "570.124.06"
    assert any("PTX" in w for w in res.warnings)


def test_target_driver_steers_auto_cuda():
    res = resolve(gpu(torch="2.11.0", driver_version="570.133.07"))
    assert res.cuda == "12.8"  # the PyPI default 13.0 needs >= 580
    issues = refused(gpu(torch="2.11.0", cuda="13.0", driver_version="570.133.07"))
    assert any("gpu.cuda" in i.fields and "580" in i.message for i in issues)


def test_gpu_on_debian_uses_debian_when_pip_brings_cuda_and_is_refused_for_nvcc():
    res = resolve(gpu(distro="debian", os_version="12", torch="2.7.1"))
    assert res.base_image == "debian:12" and dict(res.image_env)["NVIDIA_REQUIRE_CUDA"] == "cuda>=12.0"
    (issue,) = refused(gpu(distro="debian", os_version="12", torch="2.7.1", nvcc=True))
    assert "os.distro" in issue.fields and "ubuntu" in issue.hint and "os.base_image" in issue.hint


def test_base_image_override_is_recorded():
    res = resolve(gpu(distro="debian", os_version="12", torch="2.7.1", base_image="registry.local/cuda-debian:12"))
    assert res.base_image == "registry.local/cuda-debian:12"
    assert res.decision("os.base_image").rule.startswith("explicit")
    res = resolve(gpu(torch="2.7.1", base_image="nvidia/cuda:12.8.1-devel-ubuntu22.04"))
    assert res.cuda == "12.8" and res.cuda_full == "12.8.1"


def test_missing_cudnn_tag_is_refused_with_os_versions():
    (issue,) = refused(gpu(os_version="24.04", cuda="12.5", cudnn="auto"))
    assert "20.04, 22.04" in issue.hint
    res = resolve(gpu(os_version="22.04", cuda="12.5", cudnn="auto"))
    assert res.base_image == "nvidia/cuda:12.5.1-cudnn-runtime-ubuntu22.04"
    assert res.cudnn == "9.2.1.18"


def test_no_ubuntu_2004_for_cuda_13():
    (issue,) = refused(gpu(os_version="20.04", cuda="13.0"))
    assert "22.04, 24.04" in issue.hint


def test_nvcc_selects_devel_and_legacy_cudnn_token():
    res = resolve(gpu(tensorflow="2.15.0", tensorflow_and_cuda=False, nvcc=True))
    assert res.base_image == "nvidia/cuda:12.2.2-cudnn8-devel-ubuntu22.04"
    assert res.tensorflow_requirement == "tensorflow==2.15.0"


def test_tensorflow_without_and_cuda_gets_a_cudnn_pip_pin_when_the_image_differs():
    res = resolve(gpu(tensorflow="2.16.1", tensorflow_and_cuda=False))
    assert res.cuda_pip_packages == ("nvidia-cudnn-cu12==8.9.7.29",)
    assert res.base_image == "nvidia/cuda:12.3.2-runtime-ubuntu22.04"
    assert_decisions_complete(res)


def test_explicit_cudnn_must_match_the_framework():
    (issue,) = refused(gpu(torch="2.7.1", cudnn="8"))
    assert set(issue.fields) == {"gpu.cudnn", "frameworks.pytorch.version"}
    assert resolve(gpu(torch="2.7.1", cudnn="9")).cudnn == "9.5.1.17"


def test_jax_picks_extra_by_cuda_major():
    res = resolve(gpu(os_version="24.04", jax="0.8.0"))
    assert res.cuda == "13.0" and res.jax_requirement == "jax[cuda13]==0.8.0"
    res = resolve(gpu(os_version="24.04", jax="0.8.0", cuda="12.8"))
    assert res.jax_requirement == "jax[cuda12]==0.8.0"
    (issue,) = refused(gpu(os_version="22.04", python="3.11", python_installer="uv", jax="0.6.0", cuda="13.0"))
    assert "0.7" in issue.hint


def test_torch_and_tensorflow_together():
    res = resolve(gpu(torch="2.3.1", tensorflow="2.14.0"))
    assert res.cuda == "11.8"
    assert any("separate environments" in w for w in res.warnings)
    (issue,) = refused(gpu(torch="2.3.1", tensorflow="2.16.1"))
    assert "separate environments" in issue.hint


def test_unknown_framework_version_lists_known_neighbours():
    (issue,) = refused(gpu(torch="2.15"))
    assert "2.14" in issue.hint and "2.13" in issue.hint
    (issue,) = refused(gpu(tensorflow="2.30.0"))
    assert "2.21" in issue.hint


def test_unknown_patch_warns_and_pins_as_requested():
    res = resolve(gpu(torch="2.7.9"))
    assert res.torch_requirements == ("torch==2.7.9",)
    assert any("2.7.9" in w for w in res.warnings)


def test_uncertain_rows_warn():
    res = resolve(gpu(os_version="24.04", torch="2.14.0", python="3.12"))
    assert res.cuda == "13.0"  # the wheel requires cuda-toolkit 13.0.3 (not the 13.2 the RFC planned)
    assert any("python" in w and "uncertain" in w for w in res.warnings)
    res = resolve(gpu(os_version="24.04", jax="0.8.0"))  # 13.0.3: driver unknown
    assert res.min_driver == "580.95.05"  # at least 13.0.2's toolkit driver, never the bare family floor
    assert any("13.0.3" in w for w in res.warnings)


def test_unknown_os_and_distro():
    (issue,) = refused(StackRequest(distro="ubuntu", os_version="18.04"))
    assert "22.04" in issue.hint and issue.fields == ("os.version",)
    (issue,) = refused(StackRequest(distro="fedora", os_version="40"))
    assert issue.fields == ("os.distro",)


def test_cpu_stack_ignores_cuda():
    res = resolve(StackRequest(distro="ubuntu", os_version="24.04", cuda="12.8", torch="2.8.0"))
    assert res.cuda is None and res.torch_variant == "cpu"
    assert any("ignored" in w for w in res.warnings)


def test_results_are_frozen():
    res = resolve(StackRequest(distro="debian", os_version="12"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.python = "3.12"  # type: ignore[misc]
