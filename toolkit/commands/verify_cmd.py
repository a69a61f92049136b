"""`toolkit verify`: run the profile's generated testinfra suite against a target."""

from __future__ import annotations

import sys

import click
import pytest

from toolkit.errors import UsageError, VerificationFailed
from toolkit.model.plan import Plan
from toolkit.outputs.atomic import check_file
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.ui import out, style
from toolkit.targets import reach as targets
from toolkit.verify import report, runner
from toolkit.verify.evaluate import UNREACHABLE


@click.command("verify")
@click.argument("profile", metavar="PROFILE")
@click.option("--target", "-t", "target", required=True, metavar="TARGET",
              help="docker-image://IMAGE (or IMAGE), docker://CONTAINER, ssh://user@host:port or local.")
@click.option("--require-gpu", is_flag=True, help="Fail GPU-tier checks where no GPU is visible (default: skip).")
@click.option("--junit", type=click.Path(dir_okay=False), default=None, help="Write a JUnit XML report (pytest's).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("-k", "keyword", default=None, metavar="EXPR", help="Only checks matching this pytest -k expression.")
@click.option("--ssh-config", type=click.Path(dir_okay=False), default=None,
              help="OpenSSH config for ssh:// targets (default ~/.ssh/config); host keys are always checked.")
@click.option("--tests", "extra_tests", multiple=True, type=click.Path(exists=True),
              help="Your own testinfra tests to run beside the generated ones (repeatable).")
@click.option("--compat-data", type=click.Path(dir_okay=False), default=None,
              help="Extra compatibility data (YAML) overlaid on toolkit's own.")
@click.option("--force", is_flag=True, help="Overwrite a --junit FILE that toolkit did not write.")
def verify(profile: str, target: str, require_gpu: bool, junit: str | None, as_json: bool, keyword: str | None,
           ssh_config: str | None, extra_tests: tuple[str, ...], compat_data: str | None, force: bool) -> None:
    """Verify a target against PROFILE: one probe gathers the facts, pytest + testinfra assert them.

    Exit status: 0 all checks passed (skips allowed), 3 a check failed, 2 invalid profile or target.
    """
    plan = build_plan(load_profile(profile), compat_data)
    run_plan(plan, target, require_gpu=require_gpu, junit=junit, as_json=as_json, keyword=keyword,
             ssh_config=ssh_config, extra_tests=extra_tests, force=force)


def run_plan(plan: Plan, target: str, *, require_gpu: bool = False, junit: str | None = None,
             as_json: bool = False, keyword: str | None = None, ssh_config: str | None = None,
             extra_tests: tuple[str, ...] = (), force: bool = False) -> runner.Run:
    """Everything `verify` does once the plan is built: print the report; raise VerificationFailed
    (exit 3) when a check failed, UsageError (exit 2) for a bad or unreachable target."""
    targets.parse(target)     # refuse a bad address before anything starts
    if junit:
        check_file(junit, force=force, option="--junit")    # and a report path that would clobber a file
    with targets.open_target(target, ssh_config=ssh_config) as tgt:
        run = runner.run(plan, tgt.hostspec, keyword=keyword, junit=junit, require_gpu=require_gpu,
                         extra_tests=extra_tests, junit_force=force)
    if run.exit_code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        raise UsageError(f"pytest could not run the suite (exit {run.exit_code})", "see pytest's message above")
    unreachable = [r for r in run.results if r.found.startswith(UNREACHABLE)]
    if run.results and len(unreachable) == len(run.results):
        raise UsageError(f"{unreachable[0].found} ({target})")
    if as_json:
        out(report.as_json(run, plan.name, target))
    else:
        for line in report.human(run, tgt.description, style=lambda t, **kw: style(t, sys.stdout, **kw)):
            out(line)
    if not run.results and not run.errors:
        raise UsageError(f"no checks selected{f' by -k {keyword!r}' if keyword else ''}")
    if run.failed or run.errors:
        raise VerificationFailed(f"{len(run.failed)} of {len(run.results)} checks failed on {target}",
                                 hint=None if as_json else "see expected/found/hint above")
    return run


COMMANDS = [verify]
