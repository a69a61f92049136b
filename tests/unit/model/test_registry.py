"""Step types and check kinds are derived from their classes; forgetting a renderer function or a
check-kind row fails at import. The "forgot" cases load the real module with one class added, as a
developer would write it, in a fresh interpreter."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import textwrap

import toolkit
from toolkit.model import checks, steps
from toolkit.model.registry import declared_in


def _all_toolkit_modules() -> None:
    for info in pkgutil.walk_packages(toolkit.__path__, "toolkit."):
        if info.name != "toolkit.__main__":
            importlib.import_module(info.name)


def _subclasses(base: type) -> set[type]:
    out: set[type] = set()
    for sub in base.__subclasses__():
        out |= {sub} | _subclasses(sub)
    return out


def test_every_step_class_is_a_step_type_and_declared_in_steps():
    _all_toolkit_modules()
    found = {c for c in _subclasses(steps.Step) if c.__module__.startswith("toolkit.")}
    assert found == set(steps.STEP_TYPES), "declare step types in toolkit/model/steps.py"
    assert len(set(steps.STEP_TYPES)) == len(steps.STEP_TYPES)


def test_every_check_kind_class_is_declared_in_checks():
    _all_toolkit_modules()
    found = {c for c in _subclasses(checks.CheckKind) if c.__module__.startswith("toolkit.")}
    assert {c.kind for c in found} == set(checks.CHECK_KINDS)
    assert all(checks.CHECK_KINDS[c.kind] == c.params for c in found)


def test_declared_in_keeps_order_and_depth_and_ignores_other_modules():
    class Base:
        pass

    class A(Base):
        pass

    class B(A):
        pass

    class C(Base):
        pass

    assert declared_in(Base, __name__) == (A, B, C)
    assert declared_in(Base, "elsewhere") == ()


def test_a_kind_declared_twice_is_refused():
    class One(checks.CheckKind, kind="twice"):
        pass

    class Two(checks.CheckKind, kind="twice"):
        pass

    try:
        checks._derive((One, Two))
    except TypeError as exc:
        assert "'twice' is declared twice" in str(exc)
    else:
        raise AssertionError("a kind declared twice was accepted")


def _with_added_class(module: str, before: str, code: str, then_import: str) -> subprocess.CompletedProcess:
    """Import ``then_import`` in a fresh interpreter where ``module``'s source has ``code`` inserted
    before the line starting with ``before`` (as if a developer had added a class there)."""
    script = textwrap.dedent(f"""
        import importlib.util, pathlib, sys
        spec = importlib.util.find_spec({module!r})
        source = pathlib.Path(spec.origin).read_text()
        at = source.index({before!r})
        source = source[:at] + {code!r} + source[at:]
        mod = importlib.util.module_from_spec(spec)
        sys.modules[{module!r}] = mod
        exec(compile(source, spec.origin, "exec"), mod.__dict__)
        import {then_import}
    """)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_a_new_check_kind_without_a_table_row_fails_at_import():
    code = 'class Forgotten(CheckKind, kind="forgotten_kind", params=("x",)):\n    """New."""\n\n\n'
    res = _with_added_class("toolkit.model.checks", "def _derive(", code, "toolkit.verify.kinds")
    assert res.returncode != 0
    assert "TypeError" in res.stderr and "kinds without a row: forgotten_kind" in res.stderr
    assert "Adding a check kind" in res.stderr
    # and the same edit with nothing else imported is fine: the model alone does not know the verifier
    ok = _with_added_class("toolkit.model.checks", "def _derive(", code, "toolkit.model.plan")
    assert ok.returncode == 0, ok.stderr


def test_a_new_step_type_without_renderer_functions_fails_at_import():
    code = '@dataclass(frozen=True)\nclass ForgottenStep(Step):\n    pass\n\n\n'
    for renderer in ("toolkit.render.dockerfile", "toolkit.render.script", "toolkit.render.ansible"):
        res = _with_added_class("toolkit.model.steps", "# The closed set of step types", code, renderer)
        assert res.returncode != 0, renderer
        assert "has no function for step types: ForgottenStep" in res.stderr, (renderer, res.stderr[-500:])


def test_every_step_type_has_golden_cases_in_both_render_test_trees():
    """A new step type needs an example in each golden tree (Dockerfile; setup.sh + Ansible)."""
    from tests.unit.render.test_dockerfile import CASES as DOCKERFILE_CASES
    from tests.unit.render_hosts import CASES as HOST_CASES

    assert {type(s) for group, _ in DOCKERFILE_CASES.values() for s in group} == set(steps.STEP_TYPES)
    assert {type(s) for s in HOST_CASES.values()} == set(steps.STEP_TYPES)
