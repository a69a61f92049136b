"""The Python interpreter and the virtual environment everything is installed into (PEP 668)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from toolkit.components.base import Context, Contribution
from toolkit.errors import ProfileError
from toolkit.model.checks import check
from toolkit.model.steps import CopyTree, PipInstall, RunCommand, Step, Venv

BOOTSTRAP = "/opt/toolkit/bootstrap"
UV = f"{BOOTSTRAP}/bin/uv"


def pip_source(ctx: Context) -> dict:
    """Index settings shared by every pip step: profile index, wheelhouse, offline."""
    net = ctx.profile.network
    return {
        "index_url": net.pip.index_url,
        "extra_index_urls": tuple(net.pip.extra_index_urls),
        "find_links": WHEELHOUSE if net.wheelhouse else None,
        "no_index": net.offline,
    }


WHEELHOUSE = "/opt/toolkit/wheelhouse"


def contribute(ctx: Context) -> Contribution:
    out = Contribution()
    t = ctx.target
    owner = t.user or "root"
    if ctx.profile.python.installer == "uv":
        out.steps.append(Venv("python", "bootstrap venv for uv", path=BOOTSTRAP, python=t.python_bin, build_tool=True))
        out.steps.append(PipInstall("python", "uv", venv=BOOTSTRAP, requirements=("uv",), **pip_source(ctx)))
        out.steps.append(RunCommand("python", f"Python {t.python_version} venv (uv)",
                                    argv=(UV, "venv", "--seed", "--python", t.python_version, t.venv),
                                    creates=f"{t.venv}/bin/python"))
    else:
        out.steps.append(Venv("python", f"virtual environment {t.venv}", path=t.venv, python=t.python_bin,
                              owner=owner))
    if ctx.profile.network.wheelhouse:
        out.steps.insert(0, _wheelhouse(ctx))
    py = f"{t.venv}/bin/python"
    out.checks.append(check("python_version", "python", f"Python {t.python_version}", python=py,
                            version=t.python_version))
    out.checks.append(check("venv", "python", f"virtual environment at {t.venv}", path=t.venv))
    out.checks.append(check("pip_check", "python", "pip check reports no broken requirements", python=py))
    if owner != "root" and ctx.profile.python.installer != "uv":
        # The venv is given to its user so that it can pip install more: prove it, as that user.
        out.checks.append(check("writable", "python", f"{owner} can install into {t.venv}",
                                ident=f"writable:{t.venv}", user=owner, dirs=(t.venv,), trees=(t.venv,)))
    return out


def with_installer(ctx: Context, steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """python.installer: uv: every pip step into the target's venv installs with uv (the bootstrap's own
    install of uv stays pip's)."""
    if ctx.profile.python.installer != "uv":
        return steps
    return tuple(dataclasses.replace(s, uv=UV) if isinstance(s, PipInstall) and s.venv == ctx.target.venv else s
                 for s in steps)


def _wheelhouse(ctx: Context) -> CopyTree:
    ref = ctx.profile.network.wheelhouse
    assert ref is not None  # only asked for when the profile names one
    field = "network.wheelhouse"
    path = Path(ref) if Path(ref).is_absolute() else ctx.source_file(field).parent / ref
    if not path.is_dir():
        raise ProfileError([ctx.loaded.problem(field, f"wheelhouse folder {str(path)!r} not found",
                                               "paths are relative to the profile that names them")])
    return CopyTree("python", "wheelhouse", source=str(path.resolve()), dest=WHEELHOUSE)
