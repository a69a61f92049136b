"""Malformed and hostile profiles: each is refused with exit 2, file:line, the field, no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from toolkit.cli import main

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(CORPUS.glob("*.yaml"))


def expectations(path: Path) -> dict:
    if path.stat().st_size == 0:
        return {"expect-field": "", "expect-message": "file is empty", "schema-rejects": "no"}
    head = dict(re.findall(r"^# ([a-z-]+): (.*)$", path.read_text(), flags=re.M))
    return head


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_hostile_profile_is_refused(path, capsys, monkeypatch):
    monkeypatch.chdir(CORPUS)
    exp = expectations(path)
    code, out, err = run(["validate", path.name], capsys)
    assert code == 2, err
    assert "Traceback" not in err + out
    assert re.search(r"\.yaml:\d+(:\d+)?: ", err), err
    assert path.name in err, err
    if exp["expect-field"]:
        assert f": {exp['expect-field']}" in err or f"with {exp['expect-field']}" in err, err
    assert exp["expect-message"] in err, err


def test_missing_file(capsys, tmp_path):
    code, _, err = run(["validate", str(tmp_path / "nope.yaml")], capsys)
    assert code == 2 and "no such file" in err and "Traceback" not in err


def test_directory_given_as_file(capsys, tmp_path):
    code, _, err = run(["validate", str(tmp_path)], capsys)
    assert code == 2 and "is a directory" in err


def test_not_utf8(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: t\ndescription: \xff\xfe\n")
    code, _, err = run(["validate", str(bad)], capsys)
    assert code == 2 and "not UTF-8" in err


def test_all_errors_of_a_file_are_reported_at_once(capsys, tmp_path):
    bad = tmp_path / "many.yaml"
    bad.write_text("name: t\npyton: {}\nuser:\n  name: \"a;b\"\n  uid: \"x\"\nenv:\n  A: \"`x`\"\n")
    code, _, err = run(["validate", str(bad)], capsys)
    assert code == 2
    assert "4 problems" in err
    for line, field in ((2, "pyton"), (4, "user.name"), (5, "user.uid"), (7, "env.A")):
        assert f"many.yaml:{line}:" in err and field in err


def test_error_points_at_the_parent_file_that_set_the_value(capsys, tmp_path):
    (tmp_path / "parent.yaml").write_text("name: parent\nuser:\n  name: \"bad name\"\n")
    (tmp_path / "child.yaml").write_text("name: child\nextends: ./parent.yaml\n")
    code, _, err = run(["validate", str(tmp_path / "child.yaml")], capsys)
    assert code == 2 and "parent.yaml:3:" in err and "user.name" in err
