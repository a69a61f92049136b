"""The one-way dependency rule (shared/GUIDE.md): cli -> commands -> plan -> components -> model (steps);
renderers and executors depend on steps, never on the profile-to-plan side. Checked on every import in
toolkit/, including the lazy ones inside functions. Below the parts, the modules: no import cycle between
any two modules of toolkit/ (inside a part too), lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "toolkit"
BASE = {"errors", "ui", "inputs", "redact"}
# what each part of toolkit may import besides itself (anything not listed is a violation)
ALLOWED = {
    "errors": set(),
    "redact": set(),                           # the one masking helper: a leaf every part may use
    "ui": {"errors", "redact"},
    "inputs": {"errors", "redact"},            # the one hardened path for files users hand us
    "profile": {"errors", "inputs", "redact"},
    "compat": {"errors", "inputs", "redact"},
    "model": {"errors", "redact"},
    "outputs": {"errors", "inputs", "redact"},  # the safe writer every writing command uses
    "components": BASE | {"model", "compat", "profile"},
    "plan": BASE | {"components", "model", "compat", "profile"},
    "render": BASE | {"model", "profile", "outputs"},     # profile: only its quoting patterns
    "targets": BASE,                           # naming and reaching a target: addresses, ssh values, probes' transport
    "verify": BASE | {"model", "render", "outputs", "targets"},
    "gpu": BASE | {"model", "compat", "targets"},   # compat: the driver each CUDA needs
    "lock": BASE | {"model", "outputs"},      # resolving and pinning a plan's packages; never the plan builder
    "bundle": BASE | {"model", "lock", "render", "outputs"},    # air-gap bundles: collect, index, sum, install.sh
    "executors": BASE | {"model", "render", "outputs", "targets", "bundle"},   # bundle: its layout and sums; never verify
    "commands": BASE | {"plan", "components", "model", "compat", "profile", "render", "verify", "gpu", "executors",
                 "outputs", "targets", "lock", "bundle"},
    "cli": BASE | {"commands"},
    "__main__": {"cli"},
    "__init__": set(),
}
FILES = sorted(PACKAGE.rglob("*.py"))


def part_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_parts(path: Path) -> set[tuple[str, int]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + ([f"{node.module}.{a.name}" for a in node.names] if node.module == "toolkit" else [])
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "toolkit" and len(parts) > 1:
                # `from toolkit import __version__` reads the package itself, which every part may
                found.add((parts[1] if parts[1] in ALLOWED else "__init__", node.lineno))
    return found


def test_every_part_is_classified():
    assert {part_of(p) for p in FILES} <= set(ALLOWED), "add the new part of toolkit to ALLOWED"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PACKAGE)) for p in FILES])
def test_imports_follow_the_one_way_rule(path):
    part = part_of(path)
    wrong = sorted((target, line) for target, line in imported_parts(path)
                   if target not in (part, "__init__") and target not in ALLOWED[part])
    assert not wrong, f"{part} may not import " + ", ".join(f"toolkit.{t} (line {n})" for t, n in wrong)


def test_the_rule_has_no_cycles():
    def visit(node: str, seen: tuple[str, ...]) -> None:
        assert node not in seen, " -> ".join((*seen, node))
        for nxt in ALLOWED[node]:
            visit(nxt, (*seen, node))
    for part in ALLOWED:
        visit(part, ())


# --------------------------------------------------------------------------- modules: no cycles
def module_name(path: Path, root: Path = PACKAGE) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def module_edges(path: Path, modules: set[str], root: Path = PACKAGE) -> set[str]:
    """The toolkit modules `path` imports (at module level or inside functions). `from PKG import NAME`
    names the module PKG.NAME when there is one, else PKG itself."""
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
    return {m for m in found if m in modules and m != me}


def import_cycles(root: Path = PACKAGE) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), each sorted."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    graph = {m: sorted(module_edges(p, set(files), root)) for m, p in files.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for v in graph:
        if v not in index:
            strong(v)
    return cycles


def test_no_import_cycle_between_modules():
    assert import_cycles() == [], "modules that import each other: move what both need into a module below them"


def test_the_cycle_check_catches_a_pair_that_imports_each_other_lazily(tmp_path):
    """The shape render/ansible.py and render/ansible_gpu.py once had: one imports the other at the top,
    the other imports it back as `from PKG import mod as A` (and a third, lazy, import inside a function)."""
    pkg = tmp_path / "toolkit"
    (pkg / "render").mkdir(parents=True)
    for name in ("__init__.py", "render/__init__.py", "render/common.py"):
        (pkg / name).write_text("")
    (pkg / "render/ansible.py").write_text("from toolkit.render import ansible_gpu\nfrom . import common\n")
    (pkg / "render/ansible_gpu.py").write_text("from toolkit.render import ansible as A\n")
    (pkg / "render/lazy.py").write_text("def f():\n    from .ansible import thing\n")
    (pkg / "render/back.py").write_text("import toolkit.render.lazy\n")
    assert import_cycles(pkg) == [["toolkit.render.ansible", "toolkit.render.ansible_gpu"]]
    (pkg / "render/ansible.py").write_text("def f():\n    from toolkit.render.lazy import g\n")
    (pkg / "render/lazy.py").write_text("def f():\n    from .ansible import thing\n")
    assert import_cycles(pkg) == [["toolkit.render.ansible", "toolkit.render.lazy"]]
