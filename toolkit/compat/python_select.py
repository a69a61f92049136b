"""OS release lookup and the Python version: system Python, installer, framework ranges."""

from __future__ import annotations

from . import versions as V
from .context import Ctx
from .frameworks import python_range, releases_supporting_python

PY_FIELD = "python.version"


def check_os(ctx: Ctx) -> str | None:
    """The OS release's system Python, or None (with an issue) when the OS is unknown."""
    req, data = ctx.req, ctx.data
    if req.distro not in data.os:
        ctx.issue(("os.distro",), f"unknown distro {req.distro!r}",
                  f"use one of: {', '.join(sorted(data.os))}")
        return None
    releases = data.os[req.distro]
    row = releases.get(req.os_version)
    if row is None:
        ctx.issue(("os.version",), f"{req.distro} {req.os_version} is not supported (not in the compatibility data)",
                  f"use one of: {', '.join(V.sort_versions(releases))}")
        return None
    ctx.check_uncertain(f"os.{req.distro}.{req.os_version}", row)
    return row.python


def _os_shipping(ctx: Ctx, python: str) -> list[str]:
    return [f"{d} {v}" for d, rels in ctx.data.os.items() for v, r in rels.items()
            if V.cmp(r.python, python) == 0 or python in r.pythons]


def _os_packaged(ctx: Ctx) -> list[str]:
    """Newer Pythons the OS release packages itself beside its system Python (RHEL: python3.11, python3.12)."""
    row = ctx.data.os.get(ctx.req.distro, {}).get(ctx.req.os_version)
    return list(row.pythons) if row else []


def python_bin(req, python: str | None, system_python: str | None) -> str:
    """The interpreter that creates the venv: the system python3, or the OS package's python3.X."""
    if req.python_installer == "pip" and python and system_python and V.cmp(python, system_python) != 0:
        return f"python{python}"
    return "python3"


def _fitting_os_python(ctx: Ctx, system_python: str) -> str | None:
    """No Python requested and the system one is outside the frameworks' ranges: the newest OS-packaged one inside."""
    if not ctx.picks or ctx.req.python_installer != "pip":
        return None
    ranges = [python_range(ctx, p) for p in ctx.picks]
    if all(V.in_range(system_python, r.min, r.max) for r in ranges):
        return None
    fits = [v for v in _os_packaged(ctx) if all(V.in_range(v, r.min, r.max) for r in ranges)]
    return V.sort_versions(fits)[-1] if fits else None


def resolve_python(ctx: Ctx, system_python: str | None) -> str | None:
    req = ctx.req
    os_name = f"{req.distro} {req.os_version}"
    if req.python_installer not in ("pip", "uv"):
        ctx.issue((PY_FIELD,), f"unknown python installer {req.python_installer!r}",
                  "set python.installer to pip (system Python) or uv (any Python 3.8-3.14)")
        return None
    if req.python is None:
        if system_python is None:
            return None
        python = system_python
        packaged = _fitting_os_python(ctx, system_python)
        if packaged:
            python = packaged
            ctx.decide(PY_FIELD, python, f"no Python requested: the system Python {system_python} of {os_name} is "
                       f"outside the frameworks' range; {os_name} packages python{python} (the newest that fits)",
                       f"os.{req.distro}.{req.os_version}.pythons")
        else:
            ctx.decide(PY_FIELD, python, f"no Python requested: the system Python of {os_name}",
                       f"os.{req.distro}.{req.os_version}.python")
    else:
        if not V.is_valid(req.python) or V.n_parts(req.python) < 2:
            ctx.issue((PY_FIELD,), f"python version {req.python!r} is not like 3.11",
                      "write python.version as major.minor, e.g. 3.11")
            return None
        python = V.major_minor(req.python)
        if not _installer_ok(ctx, python, system_python, os_name):
            return None
    _check_ranges(ctx, python, system_python)
    return python


def _installer_ok(ctx: Ctx, python: str, system_python: str | None, os_name: str) -> bool:
    req = ctx.req
    if req.python_installer == "pip":
        if system_python is None:
            return True  # the OS issue is already recorded
        if V.cmp(python, system_python) != 0 and python in _os_packaged(ctx):
            ctx.decide(PY_FIELD, python, f"requested; {os_name} packages python{python} beside its system Python "
                       f"{system_python} (installer pip, OS package python{python})",
                       f"os.{req.distro}.{req.os_version}.pythons")
            return True
        if V.cmp(python, system_python) != 0:
            others = _os_shipping(ctx, python)
            elsewhere = f", use an OS release that ships it ({', '.join(others)})" if others else ""
            ctx.issue((PY_FIELD, "os.version"),
                      f"Python {python} is not available on that OS: {os_name} ships Python {system_python} "
                      f"and python.installer pip uses the system Python",
                      f"set python.version: {system_python}{elsewhere}, or set python.installer: uv")
            return False
        ctx.decide(PY_FIELD, python, f"requested; it is the system Python of {os_name} (installer pip)",
                   f"os.{req.distro}.{req.os_version}.python")
        return True
    uv = ctx.data.python.uv
    if not V.in_range(python, uv.min, uv.max):
        ctx.issue((PY_FIELD,), f"uv cannot provide Python {python} (supported {uv.min}-{uv.max})",
                  f"set python.version within {uv.min}-{uv.max}")
        return False
    ctx.decide(PY_FIELD, python, f"requested; installed by uv (Python {uv.min}-{uv.max} available)",
               "python.uv")
    return True


def _check_ranges(ctx: Ctx, python: str, system_python: str | None) -> None:
    picks = ctx.picks
    if not picks:
        return
    ranges = {p.label: python_range(ctx, p) for p in picks}
    low = max((r.min for r in ranges.values()), key=V.parse)
    high = min((r.max for r in ranges.values()), key=V.parse)
    if V.parse(low) > V.parse(high):
        listed = " and ".join(f"{label} ({r})" for label, r in ranges.items())
        ctx.issue((PY_FIELD, *(p.field for p in picks)), f"no Python version satisfies {listed}",
                  "choose framework releases whose Python ranges overlap, or install them in separate environments")
        return
    for pick in picks:
        rng = ranges[pick.label]
        if V.in_range(python, rng.min, rng.max):
            continue
        fits = releases_supporting_python(ctx, pick.name, python)
        alt = f", or use {pick.name} {V.span(fits)} which support{'s' if len(fits) == 1 else ''} Python {python}" if fits else ""
        how = _how_to_get(ctx, low, high, system_python)
        ctx.issue((PY_FIELD, pick.field),
                  f"Python {python} is outside {pick.label}'s supported range {rng}",
                  f"use Python {V.span([low, high]) if low != high else low}{how}{alt}")


def _how_to_get(ctx: Ctx, low: str, high: str, system_python: str | None) -> str:
    if system_python and V.in_range(system_python, low, high):
        return f" (the system Python {system_python} fits)"
    if ctx.req.python_installer == "pip":
        return " with python.installer: uv"
    return ""
