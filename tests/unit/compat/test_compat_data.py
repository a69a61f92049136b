"""The bundled data file and user overlays."""

import textwrap

import pytest

from toolkit.compat import (
    CompatDataError,
    StackRequest,
    family_floor,
    load_data,
    resolve,
    toolkit_driver,
)
from toolkit.compat import versions as V


def _write(tmp_path, text, name="extra.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_bundled_data_has_the_required_coverage():
    data = load_data()
    assert data.schema_version == 1 and data.data_date
    minors = V.sort_versions(data.cuda.minors)
    assert minors[0] == "11.8" and V.major(minors[-1]) == "13"
    assert {k: f.floor for k, f in data.cuda.families.items()} == {"11": "450.80.02", "12": "525.60.13", "13": "580"}
    assert set(data.pytorch.releases) >= {f"2.{n}" for n in range(0, 15)}
    assert set(data.tensorflow.releases) >= {f"2.{n}" for n in range(12, 22)}
    assert {"cuda12", "cuda13"} <= set(data.jax.extras)
    assert {v: r.python for v, r in data.os["ubuntu"].items() if v != "26.04"} == {
        "20.04": "3.8", "22.04": "3.10", "24.04": "3.12"}
    assert {v: r.python for v, r in data.os["debian"].items()} == {"11": "3.9", "12": "3.11", "13": "3.13"}


def test_image_facts():
    minors = load_data().cuda.minors
    assert minors["12.3"].images.cudnn.token == "cudnn9"
    assert minors["12.2"].images.cudnn.token == "cudnn8"
    assert minors["12.4"].images.cudnn.token == "cudnn"
    assert "24.04" in minors["12.5"].images.ubuntu
    assert "24.04" not in minors["12.5"].images.cudnn.ubuntu
    for minor in ("13.0", "13.1", "13.2", "13.3"):
        assert "20.04" not in minors[minor].images.ubuntu
    for minor, row in minors.items():
        if row.images:
            assert row.images.patch == V.newest(row.releases), minor  # only the newest patch is maintained


def test_uncertain_rows_stay_marked():
    data = load_data()
    assert data.pytorch.releases["2.14"].is_uncertain("companions.torchaudio")
    assert data.cuda.minors["13.0"].releases["13.0.3"].uncertain
    assert data.cuda.minors["12.2"].releases["12.2.1"].uncertain
    assert data.cuda.minors["13.3"].uncertain
    assert data.os["ubuntu"]["26.04"].uncertain
    assert data.pytorch.releases["2.11"].is_uncertain("cuda_variants.cu129")
    assert not data.pytorch.releases["2.11"].is_uncertain("cuda_variants.cu128")


def test_driver_helpers():
    assert family_floor("12.8") == "525.60.13"
    assert family_floor("13.0") == "580"
    assert family_floor("11.8") == "450.80.02"
    assert toolkit_driver("12.4.1") == "550.54.15"
    assert toolkit_driver("13.0.3") is None
    assert toolkit_driver("12.7.0") is None
    with pytest.raises(ValueError):
        family_floor("10.2")


def test_user_file_adds_a_torch_release_that_resolves(tmp_path):
    extra = _write(tmp_path, """
        pytorch:
          releases:
            "2.15":
              patches: ["2.15.0"]
              python: {min: "3.10", max: "3.14"}
              cuda_variants: [cu130, cu132]
              pypi_default_cuda: "13.2"
              cudnn: {all: "9.24.0.43"}
    """)
    data = load_data(extra)
    assert "2.14" in data.pytorch.releases  # bundled rows are kept
    res = resolve(StackRequest(distro="ubuntu", os_version="24.04", gpu=True, cuda="auto", torch="2.15.0"), data)
    assert res.cuda == "13.2"
    assert res.torch_variant == "cu132"
    assert res.torch_requirements == ("torch==2.15.0",)
    assert res.base_image == "ubuntu:24.04" and res.cuda_full == "13.2.1"   # pip brings torch's CUDA libraries
    assert load_data() is not data and "2.15" not in load_data().pytorch.releases


def test_user_rows_win_over_bundled(tmp_path):
    extra = _write(tmp_path, """
        os:
          ubuntu:
            "22.04": {python: "3.11"}
    """)
    assert load_data(extra).os["ubuntu"]["22.04"].python == "3.11"
    assert load_data(extra).os["ubuntu"]["24.04"].python == "3.12"


@pytest.mark.parametrize("text, needle", [
    ("cuda:\n  minors:\n    12.10: {releases: {}}\n", "quoted string"),
    ("pytorch: [1, 2]\n", "pytorch"),
    ("- just a list\n", "top level must be a mapping"),
    ("pytorch: {releases: {'2.15': {patches: ['2.15.0']}}}\n", "pytorch.releases.2.15"),
    ("schema_version: 99\n", "schema_version"),
    ("pytorch: {releases: {'2.15': {patches: ['2.15.0'], python: {min: '3.10', max: '3.14'}, "
     "cuda_variants: [cu130], cudnn: {cu128: '9.10.2.21'}}}}\n", "cudnn.cu128"),
    ("key: [unclosed\n", "not valid YAML"),
    ("tensorflow: {releases: {'2.22': {typo_field: 1}}}\n", "typo_field"),
])
def test_bad_user_file_names_the_file(tmp_path, text, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CompatDataError) as exc:
        load_data(path)
    assert str(path) in str(exc.value)
    assert needle in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_missing_user_file(tmp_path):
    with pytest.raises(CompatDataError, match="missing.yaml"):
        load_data(tmp_path / "missing.yaml")
