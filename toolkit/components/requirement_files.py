"""packages.pip_requirements: the requirement files' content written to the target and installed with
`pip install -r`, in their own layer after pip_base (and Jupyter) and before packages.pip: editing a file
rebuilds from there, editing packages.pip still rebuilds only the last layer.

Verify gets a pip_package check per requirement whose environment marker holds on the target (URL and git
requirements: the distribution's name). A requirement whose marker depends on what the plan does not know
(the machine's architecture or kernel) is installed by pip's own judgement and left out of verify, with a
warning."""

from __future__ import annotations

import re

from packaging.markers import Marker
from packaging.requirements import Requirement

from toolkit.components.base import Context, Contribution, write_file
from toolkit.components.packages import IMPORT_NAMES
from toolkit.components.python import pip_source
from toolkit.errors import Problem, ProfileError
from toolkit.model.checks import check
from toolkit.model.steps import PipInstall
from toolkit.profile import requirement_files as rf

FOLDER = "/opt/toolkit/requirements"
REQUIREMENTS = f"{FOLDER}/requirements.txt"
CONSTRAINTS = f"{FOLDER}/constraints.txt"
UNKNOWN = ("platform_machine", "platform_release", "platform_version", "python_full_version",
           "implementation_version")
QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")


def contribute(ctx: Context, reqs: rf.RequirementSet | None = None) -> Contribution:
    out = Contribution()
    if not ctx.profile.packages.pip_requirements:
        return out
    reqs = rf.load(ctx.loaded) if reqs is None else reqs
    _need_git(ctx, reqs)
    if not reqs.entries:
        out.warnings.append(f"{rf.FIELD}: the files name no requirement (only options or constraints): nothing "
                            "to install")
        return out
    if reqs.constraints:
        out.steps.append(write_file("packages", "pip constraints of the requirement files", CONSTRAINTS,
                                    reqs.constraints_text()))
    out.steps.append(write_file("packages", "pip requirement files, as one file", REQUIREMENTS,
                                reqs.requirements_text(CONSTRAINTS if reqs.constraints else None)))
    # `requirements`: what the files ask for, for a lock's resolver (installed through the file, not by name)
    out.steps.append(PipInstall("packages", "pip requirement files", venv=ctx.target.venv,
                                requirements=tuple(e.requirement for e in reqs.entries),
                                requirement_files=(REQUIREMENTS,), **pip_source(ctx)))
    unknown = []
    py = f"{ctx.target.venv}/bin/python"
    for e in reqs.entries:
        req = Requirement(e.requirement)
        holds = applies(req.marker, ctx.target.python_version)
        if holds is None:
            unknown.append(f"{e.file}:{e.line}")
        if not holds:
            continue
        key = req.name.lower().replace("_", "-")
        out.checks.append(check("pip_package", "packages", f"{req.name}{req.specifier or ''} installed (from {e.origin})",
                                ident=f"pip_package:{req.name.lower()}", python=py, name=req.name,
                                specifier=str(req.specifier), import_name=IMPORT_NAMES.get(key)))
    if unknown:
        out.warnings.append(f"{rf.FIELD}: the markers of {', '.join(unknown)} depend on the machine (architecture, "
                            "kernel, exact Python): pip decides on the target, verify does not check them")
    return out


def applies(marker: Marker | None, python: str) -> bool | None:
    """Whether marker holds on a Linux CPython `python` target; None when it names what the plan does not
    know (UNKNOWN: the machine's architecture, kernel, exact Python)."""
    if marker is None:
        return True
    names = QUOTED.sub("", str(marker))
    if any(re.search(rf"\b{name}\b", names) for name in UNKNOWN):
        return None
    known = {"python_version": ".".join(python.split(".")[:2]), "sys_platform": "linux", "platform_system": "Linux",
             "os_name": "posix", "implementation_name": "cpython", "platform_python_implementation": "CPython",
             "extra": ""}
    try:
        return marker.evaluate(known)
    except Exception:       # noqa: BLE001 - packaging raises several types for odd comparisons
        return None


def _need_git(ctx: Context, reqs: rf.RequirementSet) -> None:
    if ctx.profile.git.enabled:
        return
    def at(e: rf.Entry) -> str:
        listed = ctx.loaded.problem(e.field, "")
        return f"{listed.file}:{listed.line}"
    problems = [Problem(e.file, e.line, None, e.field, "a git+https requirement needs git on the target, and "
                        "git.enabled is false", "set git.enabled: true, or require a released version instead; "
                        f"{e.field} is at {at(e)}")
                for e in reqs.entries if "git+https://" in e.requirement]
    if problems:
        raise ProfileError(problems)
