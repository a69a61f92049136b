"""The probe is kept as parts and shipped as one script: that script must stand alone on a bare python3."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from toolkit.model.checks import check
from toolkit.verify import facts, probe

from .recorded import PY


def _tree() -> ast.Module:
    return ast.parse(facts.shipped_source())


def test_every_part_file_is_shipped_once_in_order():
    files = {p.stem for p in Path(probe.__file__).parent.glob("*.py")} - {"__init__"}
    assert set(probe.PARTS) == files and len(probe.PARTS) == len(files)
    shipped = facts.shipped_source()
    marks = [shipped.index(f"# ---- toolkit probe part: {name}\n") for name in probe.PARTS]
    assert marks == sorted(marks)
    assert shipped.rstrip().endswith("main(sys.argv)")      # the entry point comes last


def test_the_shipped_script_imports_only_the_standard_library():
    """At the top only the standard library; inside functions also the frameworks a venv's interpreter is asked about."""
    tree = _tree()
    top = set(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"line {node.lineno}: a relative import was left in"
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            allowed = sys.stdlib_module_names | (set() if node in top else {"torch", "tensorflow"})
            assert name.split(".")[0] in allowed, f"line {node.lineno}: {name} is not stdlib"


def test_no_part_redefines_a_name_another_part_defines():
    """Concatenated, the parts share one namespace: a second definition would silently win."""
    owner: dict[str, str] = {}
    for name in probe.PARTS:
        text = (Path(probe.__file__).parent / f"{name}.py").read_text()
        for node in ast.parse(text).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined = [node.name]
            elif isinstance(node, ast.Assign):
                defined = [t.id for t in node.targets if isinstance(t, ast.Name)]
            else:
                continue
            for d in defined:
                assert d not in owner, f"{d} is defined in both {owner[d]} and {name}"
                owner[d] = name


def _run_bare(tmp_path, request: dict) -> dict:
    """The bootstrap line as the target runs it, on an isolated python (-I -S: no site-packages, so no toolkit)."""
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", facts.bootstrap(), "probe", json.dumps(request)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_shipped_script_runs_without_toolkit_installed(tmp_path):
    assert subprocess.run([sys.executable, "-I", "-S", "-c", "import toolkit"], capture_output=True,
                          cwd=tmp_path).returncode != 0           # the isolation is real
    (tmp_path / "there").write_text("x")
    req = facts.request_for([
        check("os_release", "os", "os", distro="debian", version="12"),
        check("file", "t", "f", ident="file:a", path=str(tmp_path / "there")),
        check("command", "t", "c", ident="command:c", argv=("echo", "hi"), expect="hi"),
        check("pip_package", "t", "p", ident="pip_package:json", python=sys.executable, name="pip",
              specifier="", import_name="json"),
    ])
    got = _run_bare(tmp_path, req)
    assert got["files"] == {str(tmp_path / "there"): True}
    assert got[facts.command_key(["echo", "hi"])]["out"] == "hi\n"
    # a venv's interpreter is asked by re-running the shipped source: it must carry itself along
    assert got["interp:" + sys.executable]["imports"]["pip"]["ok"] is True


def test_a_framework_import_alone_is_still_gathered(tmp_path):
    """pip_package torch selected on its own (verify -k pip_package) asks the torch gatherer, with no GPU work."""
    torch = check("pip_package", "pytorch", "torch", ident="pip_package:torch", python=PY, name="torch",
                  specifier="", import_name="torch")
    got = _run_bare(tmp_path, facts.request_for([torch]))
    assert set(facts.sections(torch)) <= set(got)
    assert got["torch:" + PY]["missing"] is True
