"""`toolkit verify`: run the profile's generated testinfra suite against a target."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
import pytest

from toolkit.commands import locking, options, targeting
from toolkit.errors import UsageError, VerificationFailed
from toolkit.model.plan import Plan
from toolkit.outputs.atomic import check_file
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.ui import out, style
from toolkit.verify import report, runner
from toolkit.verify.evaluate import UNREACHABLE


@click.command("verify")
@click.argument("profile", metavar="PROFILE")
@options.target_options("Required (or --inventory).")
@options.deprecated_alias("-t", dest="old_targets", use="--target (-t means --tag in toolkit build)")
@click.option("--require-gpu", is_flag=True, help="Fail GPU-tier checks where no GPU is visible (default: skip).")
@click.option("--junit", type=click.Path(dir_okay=False), default=None, help="Write a JUnit XML report (pytest's).")
@options.as_json("Print the results as JSON (a list of one document per target when there are several).")
@click.option("-k", "keyword", default=None, metavar="EXPR", help="Only checks matching this pytest -k expression.")
@options.ssh_options
@click.option("--tests", "extra_tests", multiple=True, type=click.Path(exists=True),
              help="Your own testinfra tests to run beside the generated ones (repeatable).")
@options.compat_data
@locking.lock_options("Also check every package the profile's lock pins is at its locked version (drift named "
                      "per package).", "The lock file to check against (implies --locked).")
@click.option("--force", is_flag=True, help="Overwrite a --junit FILE that toolkit did not write.")
def verify(profile: str, targets: tuple[str, ...], inventory_file: str | None, limit: str | None,
           old_targets: tuple[str, ...], require_gpu: bool, junit: str | None, as_json: bool, keyword: str | None,
           known_hosts: str | None, ssh_config: str | None, identity: str | None, accept_new_host_keys: bool,
           extra_tests: tuple[str, ...], compat_data: str | None, locked: bool, lock_file: str | None,
           force: bool) -> None:
    """Verify targets against PROFILE: one probe gathers the facts, pytest + testinfra assert them.

    Exit status: 0 all checks passed on every target (skips allowed), 3 a check failed, 2 invalid profile
    or target.
    """
    targeting.check_ssh_paths(known_hosts, ssh_config)
    chosen = targeting.choose(targets + old_targets, inventory_file, limit, ssh_config_file=ssh_config,
                              identity=identity)
    if junit and len(chosen) > 1:
        raise UsageError("--junit writes one report: give one target with it", "run verify once per target")
    loaded = load_profile(profile)
    plan, _ = locking.apply_lock(loaded, build_plan(loaded, compat_data), locked, lock_file)
    ssh = {"ssh_config_file": ssh_config, "known_hosts": known_hosts, "identity": identity,
           "accept_new": accept_new_host_keys}
    if len(chosen) == 1:
        run_plan(plan, chosen[0], require_gpu=require_gpu, junit=junit, as_json=as_json, keyword=keyword,
                 extra_tests=extra_tests, force=force, ssh=ssh)
        return
    failed: list[str] = []
    documents: list[str] = []
    for one in chosen:
        try:
            run_plan(plan, one, require_gpu=require_gpu, as_json=as_json, keyword=keyword, extra_tests=extra_tests,
                     ssh=ssh, documents=documents)
        except VerificationFailed:
            failed.append(one.label)
    if as_json:
        out("[" + ",\n".join(documents) + "]")
    if failed:
        raise VerificationFailed(f"verification failed on {len(failed)} of {len(chosen)} targets: {', '.join(failed)}",
                                 hint=None if as_json else "see expected/found/hint above")


def run_plan(plan: Plan, target: str | targeting.Chosen, *, require_gpu: bool = False, junit: str | None = None,
             as_json: bool = False, keyword: str | None = None, ssh_config: str | None = None,
             extra_tests: tuple[str, ...] = (), force: bool = False, ssh: dict | None = None,
             documents: list[str] | None = None) -> runner.Run:
    """Everything `verify` does for one target once the plan is built: print the report (or, with
    `documents`, add its JSON there); raise VerificationFailed (exit 3) when a check failed, UsageError
    (exit 2) for a bad or unreachable target."""
    chosen = target if isinstance(target, targeting.Chosen) else targeting.choose((target,), None, None)[0]
    target = chosen.label
    if junit:
        check_file(junit, force=force, option="--junit")    # refuse a report path that would clobber a file
    if require_gpu and not any(c.tier == "gpu" for c in plan.checks):
        raise UsageError(f"--require-gpu: profile {plan.name} has no GPU-tier checks, so nothing would prove a GPU "
                         "works (gpu.enabled is false, or no framework with a GPU build)",
                         "verify a GPU profile (e.g. pytorch-cuda), or drop --require-gpu")
    ssh = ssh or {"ssh_config_file": ssh_config}
    with tempfile.TemporaryDirectory(prefix="toolkit-verify-ssh-") as tmp, \
            targeting.opened(chosen, Path(tmp), 0, **ssh) as tgt:
        run = runner.run(plan, tgt.hostspec, keyword=keyword, junit=junit, require_gpu=require_gpu,
                         extra_tests=extra_tests, junit_force=force,
                         target_label=runner.target_label(chosen.address))
    if run.exit_code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt    # the container is gone already; the CLI boundary exits 130
    if require_gpu and run.results and not any(r.tier == "gpu" for r in run.results):
        raise VerificationFailed(f"--require-gpu: -k {keyword!r} selected no GPU-tier check, so nothing proved a GPU",
                                 hint="widen -k to include the gpu checks, or drop --require-gpu")
    if run.exit_code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        raise UsageError(f"pytest could not run the suite (exit {run.exit_code})", "see pytest's message above")
    unreachable = [r for r in run.results if r.found.startswith(UNREACHABLE)]
    if run.results and len(unreachable) == len(run.results):
        raise UsageError(f"{unreachable[0].found} ({target})")
    if as_json and documents is not None:
        documents.append(report.as_json(run, plan.name, target))
    elif as_json:
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
