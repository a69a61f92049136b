"""Commands about profiles: list, validate, schema, plan."""

from __future__ import annotations

import json

import click

from toolkit.commands import options
from toolkit.errors import ProfileError
from toolkit.plan.builder import build_plan
from toolkit.profile.bundled import list_bundled
from toolkit.profile.loader import load_profile
from toolkit.profile.schema import json_schema
from toolkit.ui import out, style, warn

PROFILE = click.argument("profile", metavar="PROFILE")
DATA = options.compat_data


@click.command("profiles")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def profiles(as_json: bool) -> None:
    """List the bundled profiles."""
    rows = list_bundled()
    if as_json:
        out(json.dumps([{"name": n, "description": d, "path": str(p)} for n, d, p in rows], indent=2))
        return
    width = max((len(n) for n, _, _ in rows), default=0)
    for name, desc, _ in rows:
        out(f"{style(name.ljust(width), bold=True)}  {desc}")


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, metavar="PROFILE...")
@DATA
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def validate(paths: tuple[str, ...], compat_data: str | None, as_json: bool) -> None:
    """Check profile files: schema, inheritance and the compatibility matrix."""
    problems: list = []
    results: list[dict] = []
    for path in paths:
        try:
            plan = build_plan(load_profile(path), compat_data)
            results.append({"file": path, "ok": True, "warnings": list(plan.warnings)})
            if not as_json:
                out(f"{style('ok', fg='green')}  {path}")
                for w in plan.warnings:
                    warn(f"{path}: {w}")
        except ProfileError as exc:
            problems += exc.problems
            results.append({"file": path, "ok": False, "problems": [p.to_dict() for p in exc.problems]})
    if as_json:
        out(json.dumps(results, indent=2))
    if problems:
        raise ProfileError(problems)


@click.command("schema")
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of the profile format."""
    out(json.dumps(json_schema(), indent=2, sort_keys=True))


@click.command("plan")
@PROFILE
@DATA
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--explain", is_flag=True, help="Show every resolved version and the rule that chose it.")
def plan(profile: str, compat_data: str | None, as_json: bool, explain: bool) -> None:
    """Show the resolved plan: ordered steps and the checks that verify them."""
    p = build_plan(load_profile(profile), compat_data)
    if as_json:
        out(p.to_json())
        return
    out(style(f"{p.name}", bold=True) + f"  {p.description}")
    out(f"  target: {p.target.distro} {p.target.os_version}, image {p.target.base_image}, "
        f"python {p.target.python_version} in {p.target.venv}, gpu {'yes' if p.target.gpu else 'no'}")
    out("  versions: " + ", ".join(f"{k} {v}" for k, v in p.versions))
    out(style("steps", bold=True))
    for i, s in enumerate(p.steps, 1):
        out(f"  {i:2d}. [{s.component}] {s.kind}: {s.title}")
    out(style("checks", bold=True))
    for c in p.checks:
        out(f"  - [{c.tier}] {c.id}: {c.description}")
    if explain:
        out(style("why", bold=True))
        for d in p.decisions:
            out(f"  {d.field} = {d.value}\n      rule: {d.rule}\n      data: {d.source}")
    for w in p.warnings:
        warn(w)


COMMANDS = [profiles, validate, schema, plan]
