"""run: the profile's own steps, in order, after the packages (and before the environment and metadata).

Steps run with the venv first on PATH (and VIRTUAL_ENV set), so `python` and `pip` are the venv's.
A `script:` is a file next to the profile (UTF-8, starting with `#!`, Unix line endings), written to
/opt/toolkit/run/NAME (0755) and run there; a `command:` is an argv. Both run as `user` through
RunStep.launch (runuser and env, never a shell). Which users a step may name is `run_users`: the one place
that knows them.

Verify: `creates` -> the path exists; `unless` -> the unless command exits 0 (run as the user verify connects
as); neither -> the host (or image) recorded this very step (its digest) in /var/lib/toolkit/run/NAME.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit import inputs
from toolkit.components import accounts
from toolkit.components.base import Context, Contribution, write_file
from toolkit.errors import Problem, ProfileError
from toolkit.model.checks import check
from toolkit.model.steps import RunStep, WriteFile
from toolkit.profile.model import Run

SCRIPT_DIR = "/opt/toolkit/run"
COMPONENT = "run"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class RunUser:
    home: str
    hosts_only: bool = False       # an account only hosts have (users:): images skip the step


def run_users(ctx: Context) -> dict[str, RunUser]:
    """Who a run: step may run as: root, and the profile's user when toolkit creates it. (Accounts that only
    hosts get are added here with hosts_only=True.)"""
    users = {"root": RunUser("/root")}
    for account in ctx.profile.users:
        users[account.name] = RunUser(accounts.home(account.name), hosts_only=True)
    t = ctx.target
    if t.user and t.home:
        users[t.user] = RunUser(t.home)
    return users


def contribute(ctx: Context) -> Contribution:
    out = Contribution()
    users = run_users(ctx)
    problems: list[Problem] = []
    for i, spec in enumerate(ctx.profile.run):
        who = users.get(spec.user)
        if who is None:
            problems.append(ctx.loaded.problem(
                f"run.{i}.user", f"user {spec.user!r} is not an account this profile has",
                f"use one of {', '.join(sorted(users))} (user.name is created only with user.create: true)"))
            continue
        script = _script(ctx, i, spec, problems) if spec.script else None
        if spec.script and script is None:
            continue
        step = _step(spec, who, script, ctx.target.venv)
        if script is not None:
            out.steps.append(script)
        out.steps.append(step)
        out.checks.append(_check(step))
        if who.hosts_only:
            out.warnings.append(f"run.{i} ({spec.name}) runs as {spec.user}, an account only hosts have: images "
                                "skip this step")
    if problems:
        raise ProfileError(problems)
    return out


def _step(spec: Run, who: RunUser, script: WriteFile | None, venv: str) -> RunStep:
    """The step; `python` and `pip` in it are the venv's (PATH and VIRTUAL_ENV, unless its env sets them)."""
    argv = (script.path,) if script is not None else tuple(spec.command or ())
    env = tuple(sorted({"PATH": f"{venv}/bin:{SYSTEM_PATH}", "VIRTUAL_ENV": venv, **spec.env}.items()))
    what = {"argv": argv, "script": script.sha256 if script else None, "user": spec.user, "home": who.home,
            "env": env}
    digest = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()
    return RunStep(COMPONENT, f"run {spec.name}", name=spec.name, argv=argv, user=spec.user, home=who.home, env=env,
                   creates=spec.creates, unless=tuple(spec.unless or ()), digest=digest, hosts_only=who.hosts_only)


def _check(step: RunStep):
    # hosts_only: verify leaves the check out on images, which skip the step (toolkit.verify.runner.for_target).
    marks: dict[str, Any] = {"hosts_only": True} if step.hosts_only else {}
    if step.creates:
        return check("file", COMPONENT, f"run step {step.name}: {step.creates} exists", ident=f"file:{step.creates}",
                     path=step.creates, **marks)
    # Verify runs as the user it connects as (often not root): the unless argv itself, not wrapped in runuser.
    what = ": its unless command exits 0" if step.unless else f" ran (recorded in {step.state_path})"
    return check("command", COMPONENT, f"run step {step.name}{what}", ident=f"command:run.{step.name}",
                 argv=step.unless or step.probe(), expect=None, **marks)


def _script(ctx: Context, i: int, spec: Run, problems: list[Problem]) -> WriteFile | None:
    field = f"run.{i}.script"
    ref = spec.script or ""
    path = Path(ref) if Path(ref).is_absolute() else ctx.source_file(field).parent / ref
    hint = "paths are relative to the profile that names them"
    try:
        text = inputs.read_text(path, what="run script")
    except inputs.InputError as exc:
        problems.append(ctx.loaded.problem(field, f"cannot read script '{exc.file}': {exc.reason}", exc.hint or hint))
        return None
    first = text.split("\n", 1)[0]
    why = None
    if not first.startswith("#!/"):
        why = ("does not start with a #! line naming its interpreter", "add one as its first line, e.g. #!/bin/sh "
               "or #!/usr/bin/env bash")
    elif "\r" in text:
        why = ("has Windows line endings (\\r\\n): the kernel would look for an interpreter named with a \\r",
               "save it with Unix line endings (dos2unix)")
    elif "\x00" in text:
        why = ("holds a NUL byte (a binary file?)", "give a text script; run a program with command: instead")
    if why:
        problems.append(ctx.loaded.problem(field, f"script '{inputs.shown(path, 200)}' {why[0]}", why[1]))
        return None
    return write_file(COMPONENT, f"script of run {spec.name}", f"{SCRIPT_DIR}/{spec.name}", text, mode="0755")
