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
