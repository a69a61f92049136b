"""Hostile input for the compatibility data path: user overlays, index answers, profile pip lists."""

from __future__ import annotations

import json
import os

import pytest

from toolkit.cli import main
from toolkit.compat import refresh_derive as D
from toolkit.compat.index_client import IndexFile


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    captured = capsys.readouterr()
    return exc.value.code, captured.out + captured.err


def _overlay(tmp_path, monkeypatch, content: bytes | None = None) -> str:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    path = tmp_path / "cfg" / "toolkit" / "compat.yaml"
    path.parent.mkdir(parents=True)
    if content is not None:
        path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize("content, needle", [
    (b"a: &x [*x, *x]\nb: [*x, *x, *x, *x]\n" * 3, "compat.yaml"),
    (b"os: {ubuntu: {\"\x1b[31m\": {python: '3.9'}}}\n", "compat.yaml"),
    (b"\xff\xfe not utf-8", "UTF-8"),
    (b"[" * 5000, "compat.yaml"),
    (b"os: {rocky: {'9': {python: '3.9', image: \"x\\nRUN id\"}}}\n", "image reference"),
    (b"cuda: {image: {os_tags: {rocky: 'rocky$(id)'}}}\n", "OS name"),
])
def test_hostile_user_overlay_is_refused_cleanly(content, needle, tmp_path, monkeypatch, capsys):
    _overlay(tmp_path, monkeypatch, content)
    code, text = run(["compat", "show", "cuda"], capsys)
    assert code == 2 and needle in text and "Traceback" not in text and "\x1b" not in text


def test_user_overlay_that_is_a_directory_or_fifo(tmp_path, monkeypatch, capsys):
    path = _overlay(tmp_path, monkeypatch)
    os.mkfifo(path)
    code, text = run(["compat", "show", "os"], capsys)
    assert code == 2 and "Traceback" not in text


def test_pip_list_replacing_the_resolved_torch_points_at_the_entry(tmp_path, capsys):
    (tmp_path / "p.yaml").write_text('name: t\nframeworks:\n  pytorch: {version: "2.3.1"}\npackages:\n'
                                     '  pip:\n    - numpy\n    - "torch==2.2.0"\n')
    code, text = run(["validate", str(tmp_path / "p.yaml")], capsys)
    assert code == 2 and "p.yaml:7" in text and "packages.pip.1" in text and "replace" in text


def test_local_version_on_a_cpu_profile_points_at_frameworks(tmp_path, capsys):
    (tmp_path / "p.yaml").write_text('name: t\npackages:\n  pip: ["torch==2.1.0+cu121"]\n')
    code, text = run(["validate", str(tmp_path / "p.yaml")], capsys)
    assert code == 2 and "frameworks.pytorch" in text


def test_index_filenames_with_junk_are_ignored():
    files = [IndexFile("torch-2.99.0-cp312-cp312-manylinux_2_28_x86_64.whl\x1b[2J", "u", None, True, False),
             IndexFile("../../etc/passwd", "u", None, True, False),
             IndexFile("torch-9!2.0-cp312-cp312-linux_x86_64.whl", "u", None, True, False),
             IndexFile("torch-2.98.0-cp312-cp312-manylinux_2_28_x86_64.whl", "u", ">=3.12;rm -rf", True, True)]
    assert D.release_versions(files) == {}


def test_requires_python_that_is_junk_does_not_break_the_range():
    wheels = [IndexFile("torch-2.99.0-cp312-cp312-manylinux_2_28_x86_64.whl", "u", "not a spec", True, False)]
    assert D.python_range(wheels) == {"min": "3.12", "max": "3.12"}


def test_show_json_is_parseable(capsys):
    code, text = run(["compat", "show", "keras", "--json"], capsys)
    assert code == 0 and json.loads(text)[0]["source"] == "bundled"
