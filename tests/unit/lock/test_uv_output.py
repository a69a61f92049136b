"""Reading uv's annotated requirements output and pylock.toml, and the layer rule."""

from __future__ import annotations

import pytest

from toolkit.lock.uv_output import assign_layers, parse_compiled, parse_pylock

A = "a" * 64
B = "b" * 64
C = "c" * 64
COMPILED = f"""\
dep==1.0 \\
    --hash=sha256:{A}
    # via
    #   -r step-02.in
    #   testpkg
    #   top[extra]
    # from http://127.0.0.1:1/simple
Local_Pkg==2.0 \\
    --hash=sha256:{B} \\
    --hash=sha256:{C}
    # via -r step-02.in
    # from file:///srv/wheels
testpkg==1.0 \\
    --hash=sha256:{C}
    # via -r step-01.in
    # from http://127.0.0.1:1/simple
top==3.0
    # via -r step-02.in
"""


def test_pins_hashes_parents_inputs_and_index():
    out = parse_compiled(COMPILED)
    assert list(out) == ["dep", "local-pkg", "testpkg", "top"]
    dep = out["dep"]
    assert (dep.version, dep.hashes, dep.inputs, dep.parents, dep.source) == (
        "1.0", [f"sha256:{A}"], ["step-02.in"], ["testpkg", "top"], "http://127.0.0.1:1/simple")
    assert out["local-pkg"].hashes == [f"sha256:{B}", f"sha256:{C}"]
    assert out["local-pkg"].source == "file:///srv/wheels"
    assert out["top"].hashes == [] and out["top"].source is None


def test_a_package_goes_to_the_first_step_whose_closure_holds_it():
    layers = assign_layers(parse_compiled(COMPILED), ["step-01.in", "step-02.in"])
    # dep: step 2 asks for it, but step 1's testpkg already brings it
    assert layers == {"testpkg": 0, "dep": 0, "local-pkg": 1, "top": 1}


def test_an_unknown_line_is_refused():
    with pytest.raises(ValueError, match="--index-url"):
        parse_compiled("--index-url https://example.invalid/simple\nsix==1.0\n")
    with pytest.raises(ValueError, match="weird"):
        parse_compiled("six==1.0\n    weird\n")


def test_pylock_lists_each_packages_artifacts_with_their_hashes():
    text = f"""lock-version = "1.0"
created-by = "uv"

[[packages]]
name = "NumPy"
version = "2.1.0"
sdist = {{ url = "https://files.example/numpy-2.1.0.tar.gz", hashes = {{ sha256 = "{A}" }} }}
wheels = [{{ url = "https://files.example/p/numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl", hashes = {{ sha256 = "{B}" }} }}]

[[packages]]
name = "torchy"
version = "1.0"
wheels = [{{ url = "https://files.example/torchy-1.0%2Bcpu-py3-none-any.whl" }}]
"""
    assert parse_pylock(text) == {
        ("numpy", "2.1.0"): [("numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl", f"sha256:{B}"),
                             ("numpy-2.1.0.tar.gz", f"sha256:{A}")],
        ("torchy", "1.0"): [("torchy-1.0+cpu-py3-none-any.whl", "")],
    }
