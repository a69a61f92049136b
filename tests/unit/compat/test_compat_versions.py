"""Version parsing/comparison helpers: numeric, never string or float ordering."""

import pytest

from toolkit.compat import versions as V


def test_minor_ordering_is_numeric():
    assert V.parse("12.10") > V.parse("12.9")
    assert V.cmp("12.10", "12.9") == 1
    assert V.sort_versions(["12.9", "12.10", "12.1", "11.8"]) == ["11.8", "12.1", "12.9", "12.10"]
    assert V.newest(["2.9", "2.10", "2.14"]) == "2.14"


def test_driver_versions_compare_componentwise():
    assert V.at_least("550", "525.60.13")
    assert not V.at_least("550", "550.54.14")  # "550" is 550.0.0
    assert V.at_least("580.95.05", "580")
    assert V.at_least("1000.1", "999.99.99")


@pytest.mark.parametrize("bad", [12.1, "latest", "", "12.x", None])
def test_parse_refuses_floats_and_junk(bad):
    with pytest.raises(ValueError):
        V.parse(bad)


def test_cuda_variant_round_trip():
    assert V.cuda_variant("12.8") == "cu128"
    assert V.cuda_variant("11.8") == "cu118"
    assert V.cuda_variant("12.10") == "cu1210"
    assert V.variant_cuda("cu130") == "13.0"
    assert V.variant_cuda("cu1210") == "12.10"
    assert V.variant_cuda("cpu") is None
    assert V.variant_cuda("rocm6.2") is None


def test_prefix_match_is_by_component():
    assert V.prefix_match("9", "9.10.2.21")
    assert V.prefix_match("9.10", "9.10.2.21")
    assert not V.prefix_match("9.1", "9.10.2.21")
    assert not V.prefix_match("9.10.2.21", "9")


def test_ranges_and_helpers():
    assert V.in_range("3.10", "3.9", "3.12")
    assert V.in_range("3.12.4", "3.9", "3.12")
    assert not V.in_range("3.13", "3.9", "3.12")
    assert V.python_versions("3.9", "3.11") == ["3.9", "3.10", "3.11"]
    assert V.major_minor("12.8.1") == "12.8"
    assert V.major("13.0") == "13"
    assert V.span(["2.14", "2.6", "2.10"]) == "2.6-2.14"


def test_torch_companions_follow_the_release_pattern():
    from toolkit.compat import companion_requirement

    assert companion_requirement("torchvision", "2.7.1") == "torchvision==0.22.*"
    assert companion_requirement("torchvision", "2.13") == "torchvision==0.28.*"
    assert companion_requirement("torchaudio", "2.7.1") == "torchaudio==2.7.*"
