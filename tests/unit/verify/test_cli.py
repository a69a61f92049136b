"""`toolkit verify` exit codes through the CLI boundary (target `local`: no Docker, SSH or GPU)."""

from __future__ import annotations

import json

import pytest

from toolkit.cli import main

PROFILE = """\
name: verify-cli
os: {{distro: debian, version: "12"}}
python: {{version: system}}
checks:
  - name: greets
    command: ["echo", "hello"]
    expect: {expect}
"""


def toolkit(capsys, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err


def profile(tmp_path, expect: str) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE.format(expect=expect))
    return str(path)


def test_passing_check_exits_0(tmp_path, capsys):
    code, out, _ = toolkit(capsys, "verify", profile(tmp_path, "hello"), "--target", "local", "-k", "greets")
    assert code == 0, out
    assert "PASS  command:greets" in out and "1 passed, 0 failed" in out


def test_failing_check_exits_3_with_expected_found_hint(tmp_path, capsys):
    code, out, err = toolkit(capsys, "verify", profile(tmp_path, "goodbye"), "--target", "local", "-k", "greets")
    assert code == 3
    assert "FAIL  command:greets" in out
    assert "expected: exit 0 and output containing 'goodbye'" in out
    assert "found:    exit 0: hello" in out and "hint:" in out
    assert "1 of 1 checks failed" in err


def test_json_output(tmp_path, capsys):
    code, out, _ = toolkit(capsys, "verify", profile(tmp_path, "goodbye"), "--target", "local", "-k", "greets",
                           "--json")
    assert code == 3
    doc = json.loads(out)
    assert [c["id"] for c in doc["checks"]] == ["command:greets"]
    assert doc["checks"][0]["status"] == "failed" and doc["checks"][0]["kind"] == "command"


@pytest.mark.parametrize("target", ["ftp://host", "docker://bad;name", "ssh://u@h:port"])
def test_invalid_target_exits_2(tmp_path, capsys, target):
    code, _, err = toolkit(capsys, "verify", profile(tmp_path, "hello"), "--target", target)
    assert code == 2 and "error:" in err


def test_invalid_profile_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nunknown_key: 1\n")
    code, _, err = toolkit(capsys, "verify", str(bad), "--target", "local")
    assert code == 2 and "unknown_key" in err


def test_nothing_selected_exits_2(tmp_path, capsys):
    code, _, err = toolkit(capsys, "verify", profile(tmp_path, "hello"), "--target", "local", "-k", "nothing_matches")
    assert code == 2 and "no checks selected" in err


def test_extra_user_tests_run_beside_the_generated_ones(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "test_mine.py").write_text("def test_root_fs(host):\n    assert host.file('/').is_directory\n")
    code, out, _ = toolkit(capsys, "verify", profile(tmp_path, "hello"), "--target", "local", "-k",
                           "greets or root_fs", "--tests", str(mine))
    assert code == 0, out
    assert "PASS  command:greets" in out and "test_root_fs" in out and "2 passed" in out


# ------------------------------------------------------------------ JUnit names, --tests classnames, --require-gpu
def _junit_cases(path) -> list[tuple[str, str]]:
    import xml.etree.ElementTree as ET

    return [(c.get("classname"), c.get("name")) for c in ET.parse(path).getroot().iter("testcase")]


def test_junit_names_are_stable_and_user_tests_have_a_class(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "test_mine.py").write_text("def test_root_fs(host):\n    assert host.file('/').is_directory\n")
    junit = tmp_path / "r.xml"
    code, out, _ = toolkit(capsys, "verify", profile(tmp_path, "hello"), "--target", "local", "-k",
                           "greets or root_fs", "--tests", str(mine), "--junit", str(junit))
    assert code == 0, out
    assert sorted(_junit_cases(junit)) == [("tests.test_verify_cli", "test_check[local-command:greets]"),
                                           ("user.test_mine", "test_root_fs[local]")]
    assert "user/test_mine.py::test_root_fs[local]" in out     # the same stable id for people and --json


def test_stable_names_replace_a_container_id_with_the_target_kind():
    from toolkit.verify.runner import StableNames

    names = StableNames("docker://0123456789abcdef", "docker-image", "tests/test_p.py")
    assert (names.rename("tests/test_p.py::test_check[docker://0123456789abcdef-pip_package:numpy]", "")
            == "tests/test_p.py::test_check[docker-image-pip_package:numpy]")
    assert names.rename("::test_x[docker://0123456789abcdef]", "../../x/test_mine.py") == \
        "user/test_mine.py::test_x[docker-image]"
    assert names.rename("::test_x[docker://0123456789abcdef]", "") == "user/tests.py::test_x[docker-image]"


def test_require_gpu_on_a_profile_without_gpu_checks_is_refused(tmp_path, capsys):
    # docker-image:// of an image that does not exist: refused before any container or engine is asked.
    code, _, err = toolkit(capsys, "verify", profile(tmp_path, "hello"), "--target", "docker-image://no/such:1",
                           "--require-gpu")
    assert code == 2
    assert "--require-gpu: profile verify-cli has no GPU-tier checks" in err and "drop --require-gpu" in err


def test_require_gpu_with_k_selecting_no_gpu_check_is_refused(tmp_path, capsys):
    import dataclasses

    from toolkit.commands.verify_cmd import run_plan
    from toolkit.errors import UsageError
    from toolkit.model.checks import check
    from toolkit.plan.builder import build_plan
    from toolkit.profile.loader import load_profile

    plan = build_plan(load_profile(profile(tmp_path, "hello")))
    plan = dataclasses.replace(plan, checks=plan.checks + (check("gpu_driver", "gpu", "driver", tier="gpu"),))
    with pytest.raises(UsageError):
        run_plan(plan, "local", keyword="greets", require_gpu=True)
    assert "none of the selected checks is GPU-tier" in capsys.readouterr().err
