"""Both probes ship as one script with the shared helpers put in (toolkit.targets.shipping)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from toolkit.gpu import probe as gpu_probe
from toolkit.targets import probe_lib, shipping
from toolkit.verify import facts as verify_facts

# each probe's source before shipping: the GPU probe's file; verify's parts joined
SOURCES = {"gpu": lambda: open(gpu_probe.__file__, encoding="utf-8").read(), "verify": verify_facts.probe_source}


def shipped(name: str) -> str:
    return shipping.inline(SOURCES[name](), name)


def standalone(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    """python -I in an empty folder: toolkit cannot be imported, as on a target."""
    return subprocess.run([sys.executable, "-I", *args], capture_output=True, text=True, timeout=120, cwd=tmp_path)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_a_shipped_probe_imports_nothing_of_toolkit_and_defines_the_helpers(name):
    tree = ast.parse(shipped(name))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {m for m in imported if m and m.startswith("toolkit")} == set()
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert {"run_command", "read"} <= defined


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_each_probe_imports_the_helpers_on_one_marked_line_and_repeats_none_of_them(name):
    source = SOURCES[name]()
    assert sum(line.rstrip().endswith(probe_lib.SHIPPED_MARK) for line in source.splitlines()) == 1
    own = {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
    shared = {n.name for n in ast.parse(open(probe_lib.__file__).read()).body if isinstance(n, ast.FunctionDef)}
    assert not own & shared


@pytest.mark.process
def test_the_gpu_probe_runs_alone_on_a_target(tmp_path):
    proc = standalone(["-c", shipped("gpu")], tmp_path)
    assert proc.returncode == 0, proc.stderr
    raw = json.loads(proc.stdout)
    assert raw["schema"] == gpu_probe.SCHEMA and set(raw["commands"]) >= {"lspci", "nvidia_smi"}


def test_the_verify_probe_runs_alone_on_a_target_and_again_in_another_interpreter(tmp_path):
    request = {"shm": True, "pythons": {sys.executable: {"dists": [], "imports": {"json": "json"}}}}
    boot = verify_facts.bootstrap()
    proc = standalone(["-c", boot, "probe", json.dumps(request)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    assert facts["shm"]["mb"] > 0
    assert facts["interp:" + sys.executable]["imports"]["json"]["ok"] is True   # re-run with -c PROBE_SOURCE


def test_a_probe_without_its_marked_line_is_a_bug_not_a_silent_import(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("from toolkit.targets.probe_lib import read\n")
    with pytest.raises(ValueError, match="expected one line"):
        shipping.script(path)


def test_command_line_runs_the_first_python_with_the_probes_arguments(tmp_path):
    template, words = shipping.command_line("import sys, json; print(json.dumps(sys.argv[1:]))", ["--python", "a b"])
    assert template == "sh -c " + " ".join(["%s"] * len(words))
    proc = subprocess.run(["sh", "-c", *words], capture_output=True, text=True, cwd=tmp_path)
    assert shipping.parse_json(proc.returncode, proc.stdout, proc.stderr) is None   # a list is not a probe's dict
    assert json.loads(proc.stdout) == ["--python", "a b"]
    assert shipping.parse_json(0, 'noise\n{"a": 1}\n', "") == {"a": 1}
    assert shipping.parse_json(1, '{"a": 1}\n', "") is None
