"""The one-way dependency rule (shared/GUIDE.md): cli -> commands -> plan -> components -> model (steps);
renderers and executors depend on steps, never on the profile-to-plan side. Checked on every import in
toolkit/, including the lazy ones inside functions."""

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
    "verify": BASE | {"model", "render", "outputs"},
    "gpu": BASE | {"model", "compat"},          # compat: the driver each CUDA needs
    "executors": BASE | {"model", "render", "verify", "outputs"},
    "commands": BASE | {"plan", "components", "model", "compat", "profile", "render", "verify", "gpu", "executors",
                 "outputs"},
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
