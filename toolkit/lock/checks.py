"""`verify --locked`: one exact-version check per locked package, so drift is named package by package."""

from __future__ import annotations

from toolkit.lock.model import Lock, step_key
from toolkit.model.checks import Check, check
from toolkit.model.plan import Plan
from toolkit.model.steps import OsPackages, PipInstall


def locked_checks(plan: Plan, lock: Lock) -> tuple[Check, ...]:
    """Checks of every locked package the plan installs (its steps name the venv and the OS family)."""
    venvs = {step_key(s): s.venv for s in plan.steps if isinstance(s, PipInstall)}
    families = {step_key(s): s.family for s in plan.steps if isinstance(s, OsPackages)}
    out = []
    for p in sorted(lock.os_packages, key=lambda p: p.name):
        family = families.get(p.step)
        if family:
            out.append(check("os_package_version", "lock", f"OS package {p.name} {p.version} (locked)",
                             ident=f"os_package_version:{p.name}", name=p.name, family=family, version=p.version))
    for q in sorted(lock.pip, key=lambda p: p.name):
        venv = venvs.get(q.step)
        if venv:
            out.append(check("pip_version", "lock", f"pip package {q.name} {q.version} (locked)",
                             ident=f"pip_version:{venv}:{q.name}", python=f"{venv}/bin/python", name=q.name,
                             version=q.version))
    return tuple(out)
