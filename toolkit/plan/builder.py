"""Profile -> resolved versions -> components -> Plan."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from toolkit import compat
from toolkit.components import (
    accounts,
    driver,
    frameworks,
    monitoring,
    network,
    packages,
    python,
    requirement_files,
    run_steps,
    storage,
    system,
    tools,
)
from toolkit.components.base import Context, Contribution
from toolkit.errors import Problem, ProfileError
from toolkit.model.plan import Decision, Plan, Target
from toolkit.plan.validate import validate
from toolkit.profile import requirement_files as rf
from toolkit.profile.loader import LoadedProfile

FILE_ENTRY = re.compile(re.escape(rf.FIELD) + r"\.(\d+)")   # a requirement-file entry in compat issues


def stack_request(loaded: LoadedProfile, facts: dict | None = None,
                  reqs: rf.RequirementSet | None = None) -> compat.StackRequest:
    p = loaded.profile
    fw = p.frameworks
    facts = facts or {}
    return compat.StackRequest(
        distro=p.os.distro,
        os_version=p.os.version,
        python=None if p.python.version == "system" else p.python.version,
        python_installer=p.python.installer,
        gpu=p.gpu.enabled,
        cuda=p.gpu.cuda if p.gpu.enabled else None,
        cudnn=p.gpu.cudnn if p.gpu.enabled else None,
        min_driver=p.gpu.min_driver,
        nvcc=p.gpu.nvcc,
        torch=fw.pytorch.version if fw.pytorch else None,
        tensorflow=fw.tensorflow.version if fw.tensorflow else None,
        tensorflow_and_cuda=fw.tensorflow.and_cuda if fw.tensorflow else True,
        jax=fw.jax.version if fw.jax else None,
        base_image=p.os.base_image,
        compute_capability=facts.get("compute_capability"),
        driver_version=facts.get("driver_version"),
        keras=fw.keras.version if fw.keras else None,
        torch_extras=tuple(fw.pytorch.extras) if fw.pytorch else (),
        pip=tuple((f"packages.{name}.{i}", text) for name in ("pip_base", "pip")
                  for i, text in enumerate(getattr(p.packages, name)))
        + tuple((f"{rf.FIELD}.{k}", e.requirement) for k, e in enumerate(reqs.entries if reqs else ())),
    )


def resolve(loaded: LoadedProfile, data_file: str | Path | None = None, facts: dict | None = None,
            reqs: rf.RequirementSet | None = None):
    """Run the compatibility resolver; its refusals become located profile problems (a requirement-file
    entry's at its file:line, its warnings naming that file:line)."""
    entries = reqs.entries if reqs else ()
    try:
        data = compat.load_data(data_file, user=True)  # bundled, then the XDG user overlay, then --compat-data
        res = compat.resolve(stack_request(loaded, facts, reqs), data)
    except compat.CompatError as exc:
        problems = []
        for issue in exc.issues:
            fields = issue.fields or ("",)
            others = f" (with {', '.join(fields[1:])})" if len(fields) > 1 else ""
            entry = FILE_ENTRY.fullmatch(fields[0])
            if entry:
                e = entries[int(entry.group(1))]
                at = loaded.problem(e.field, "")
                problems.append(Problem(e.file, e.line, None, e.field, issue.message + others,
                                        f"{issue.hint}; {e.field} is at {at.file}:{at.line}"))
            else:
                problems.append(loaded.problem(fields[0], issue.message + others, issue.hint))
        raise ProfileError(problems) from None
    if entries:
        def where(m: re.Match) -> str:
            e = entries[int(m.group(1))]
            return f"{e.file}:{e.line}"
        res = dataclasses.replace(res, warnings=tuple(FILE_ENTRY.sub(where, w) for w in res.warnings))
    return res


def _versions(loaded: LoadedProfile, res) -> dict:
    out = {"python": res.python, "os": f"{loaded.profile.os.distro}-{loaded.profile.os.version}"}
    for key in ("cuda_full", "cudnn", "torch_variant"):
        value = getattr(res, key, None)
        if value:
            out[key.replace("_full", "")] = value
    fw = loaded.profile.frameworks
    for name in ("pytorch", "tensorflow", "keras", "jax"):
        spec = getattr(fw, name)
        if spec:
            out[name] = spec.version
    return out


def _checks(loaded: LoadedProfile, parts: list[Contribution]) -> dict:
    """Every check once, by id. Where two components check one thing (pip_package:jupyterlab from
    jupyter and from the profile's pin), the later one wins, as the later install does. A profile
    check whose id a built-in check has is refused: dropping either would verify something else."""
    builtin: dict = {}
    for part in parts:
        for c in part.checks:
            if c.component != tools.USER_CHECKS:
                builtin[c.id] = c
    problems = []
    user: dict = {}
    for i, c in enumerate(c for part in parts for c in part.checks if c.component == tools.USER_CHECKS):
        if c.id in builtin:
            name = c.id.split(":", 1)[1]
            problems.append(loaded.problem(f"checks.{i}.name", f"check name {name!r} is taken by toolkit's own "
                                           f"check {c.id} ({builtin[c.id].description})",
                                           "choose another name for your check"))
        user.setdefault(c.id, c)
    if problems:
        raise ProfileError(problems)
    return {**builtin, **user}


def build_plan(loaded: LoadedProfile, data_file: str | Path | None = None, facts: dict | None = None) -> Plan:
    p = loaded.profile
    reqs = rf.load(loaded) if p.packages.pip_requirements else None
    res = resolve(loaded, data_file, facts, reqs)
    u = p.user
    target = Target(
        distro=p.os.distro, os_version=p.os.version, base_image=res.base_image,
        python_version=res.python, python_bin=res.python_bin, venv=p.python.venv,
        user=u.name if u.create else None, uid=u.uid if u.create else None, gid=u.gid if u.create else None,
        home=f"/home/{u.name}" if u.create else None, gpu=p.gpu.enabled, image_env=res.image_env,
    )
    ctx = Context(loaded=loaded, resolution=res, target=target)
    versions = _versions(loaded, res)
    parts: list[Contribution] = [
        network.contribute(ctx),
        driver.contribute(ctx),
        system.os_packages(ctx),
        tools.git(ctx),
        system.user(ctx),
        accounts.contribute(ctx),      # `users:` (hosts only), then `mounts:` and `directories:`
        storage.contribute(ctx),
        python.contribute(ctx),
        frameworks.contribute(ctx),
        packages.base(ctx),
        tools.jupyter(ctx),
        monitoring.contribute(ctx),     # exporters (hosts): after the packages they may need
        # Requirement files change less often than the pip list: their own layer before it.
        requirement_files.contribute(ctx, reqs),
        # The profile's own pip list changes most often: last of the packages, so editing it rebuilds one
        # layer and the run: steps after it (bench/build_cache.py measures this).
        packages.contribute(ctx),
        run_steps.contribute(ctx),      # the profile's own steps: after the packages, in order
        system.environment(ctx),
        tools.extra_checks(ctx),
        tools.metadata(ctx, versions),
    ]
    steps = python.with_installer(ctx, tuple(s for part in parts for s in part.steps))
    checks = _checks(loaded, parts)
    decisions = tuple(Decision(d.field, d.value, d.rule, d.source) for d in res.decisions)
    plan = Plan(name=p.name, description=p.description, digest=loaded.digest, target=target, steps=steps,
                checks=tuple(checks.values()), versions=tuple(versions.items()), decisions=decisions,
                warnings=tuple(res.warnings) + tuple(w for part in parts for w in part.warnings))
    return validate(plan, loaded)
