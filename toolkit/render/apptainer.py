"""Plan -> apptainer/<profile>.def: an Apptainer (Singularity) definition that bootstraps from the image
`toolkit build` made (Bootstrap: docker-daemon, or docker-archive for a `docker save` tarball).

Sections: %labels (the image's provenance labels), %environment (the venv first on PATH and the profile's
run-time variables), %runscript (Jupyter on 127.0.0.1 where the image serves it - Apptainer shares the
host's network - else the arguments, or a shell), %test (the plan's CPU-tier checks that a plain shell can
run: commands, imports, the venv, pip check, git) and %help.

Shell sections quote every value with shlex.quote; %labels and %help are line-based, so control
characters there become spaces. Not yet run on a real Apptainer (none is packaged for Debian 12).
"""

from __future__ import annotations

import re
import shlex

from toolkit.model.checks import Check
from toolkit.model.plan import Plan
from toolkit.model.steps import Environment, Metadata, Service
from toolkit.render.common import Rendered, header
from toolkit.render.run_command import default_image, object_name

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LABEL_KEY = re.compile(r"[^A-Za-z0-9._-]+")
INDENT = "    "
# The %test helpers: `check DESC ARGV...` runs ARGV (no shell) and reports; `expect TEXT ARGV...` also
# wants TEXT in its output. POSIX sh: Apptainer runs %test with /bin/sh.
CHECK_HELPER = [
    "failed=0",
    'check() { d=$1; shift; if "$@" >/dev/null 2>&1; then echo "ok    $d"; else echo "FAIL  $d"; failed=1; fi; }',
]
EXPECT_HELPER = 'expect() { w=$1; shift; o=$("$@" 2>&1) && printf \'%s\\n\' "$o" | grep -qF -- "$w"; }'
IMPORTS = "import importlib, sys; importlib.import_module(sys.argv[1])"
PY_VERSION = "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == sys.argv[1] else 1)"


NL = "_toolkit_nl"
# POSIX sh has no $'\n': a newline variable made without writing one (a literal newline in a value
# would end the line, and a following "%post" would start a section of its own).
NL_LINE = f"{NL}=$(printf '\\n_'); {NL}=${{{NL}%_}}"


def shq(value: object) -> str:
    """shlex.quote on one line: newlines become "$_toolkit_nl", other control characters printf escapes."""
    parts, run = [], ""
    for ch in str(value):
        if ch.isprintable():
            run += ch
            continue
        if run:
            parts.append(shlex.quote(run))
            run = ""
        octal = "".join(f"\\{b:03o}" for b in ch.encode("utf-8", "surrogateescape"))
        parts.append(f'"${NL}"' if ch == "\n" else f'"$(printf \'{octal}\')"')
    if run or not parts:
        parts.append(shlex.quote(run))
    return "".join(parts)


def shline(*args: object) -> str:
    return " ".join(shq(a) for a in args)


def with_nl(lines: list[str]) -> list[str]:
    """lines, after the newline variable where one of them needs it."""
    return [NL_LINE, *lines] if any(f'"${NL}"' in ln for ln in lines) else lines


def line(text: object) -> str:
    """A value for a line-based section: printable, on one line."""
    return "".join(ch if ch.isprintable() else " " for ch in str(text))


def _bootstrap(plan: Plan, image: str | None) -> list[str]:
    ref = image or default_image(plan)
    if ref.startswith("docker-archive:"):
        return ["Bootstrap: docker-archive", f"From: {line(ref.removeprefix('docker-archive:'))}"]
    return ["Bootstrap: docker-daemon", f"From: {line(ref)}"]


def _labels(plan: Plan) -> list[str]:
    pairs = [kv for s in plan.steps if isinstance(s, Metadata) for kv in s.labels]
    if "dev.toolkit.profile.digest" not in dict(pairs):
        pairs.append(("dev.toolkit.profile.digest", plan.digest))
    return [f"{LABEL_KEY.sub('_', k)} {line(v)}" for k, v in pairs]


def _environment(plan: Plan) -> list[str]:
    t = plan.target
    pairs = [(k, v) for s in plan.steps if isinstance(s, Environment) and not s.build_only for k, v in s.variables]
    bad = [k for k, _ in pairs if not ENV_NAME.match(k)]
    if bad:
        raise ValueError(f"not variable names: {bad}")
    lines = [f"export VIRTUAL_ENV={shq(t.venv)}", f'export PATH={shq(t.venv + "/bin")}:"$PATH"']
    return with_nl(lines + [f"export {k}={shq(v)}" for k, v in dict(pairs).items()])


def _runscript(plan: Plan) -> list[str]:
    service = next((s for s in plan.steps if isinstance(s, Service) and s.in_image and s.command), None)
    if service is not None:
        # Apptainer shares the host's network: the host's command (loopback unless the profile says) and
        # the token from the caller's JUPYTER_TOKEN (Jupyter makes a random one when it is unset).
        argv = service.host_command or tuple("--ip=127.0.0.1" if a == "--ip=0.0.0.0" else a for a in service.command)
        return with_nl([f'exec {shline(*argv)} "$@"'])
    return ['if [ "$#" -eq 0 ]; then exec /bin/bash; fi', 'exec "$@"']


def _test_argv(c: Check) -> list[str] | None:
    """What `check DESC ...` runs for a check, or None where a plain shell cannot tell (verify can)."""
    p = c.p
    if c.kind == "command":
        argv = [str(a) for a in p["argv"]]
        return ["expect", p["expect"], *argv] if p["expect"] else argv
    if c.kind == "pip_package":
        return [p["python"], "-c", IMPORTS, p["import_name"]]
    if c.kind == "python_version":
        return [p["python"], "-c", PY_VERSION, p["version"]]
    if c.kind == "venv":
        return ["test", "-x", f"{p['path']}/bin/python"]
    if c.kind == "pip_check":
        return [p["python"], "-m", "pip", "check"]
    if c.kind == "git":
        return ["git", *(["lfs", "version"] if p["lfs"] else ["--version"])]
    if c.kind == "file":
        return ["test", "-e", p["path"]]
    return None


def _test(plan: Plan) -> list[str]:
    runs = [(c, _test_argv(c) if c.tier == "cpu" else None) for c in plan.checks]
    lines = list(CHECK_HELPER)
    if any(argv and argv[0] == "expect" for _, argv in runs):
        lines += ["# shellcheck disable=SC2329  # called by check", EXPECT_HELPER]
    lines += with_nl([shline("check", line(c.description), *argv) for c, argv in runs if argv])
    left = sorted({c.kind for c, argv in runs if not argv})
    if left:
        lines.append(f"# left to `toolkit verify`: {line(', '.join(left))}")
    return [*lines, 'exit "$failed"']


def definition(plan: Plan, image: str | None = None) -> str:
    sections = [
        ("%labels", _labels(plan)),
        ("%environment", _environment(plan)),
        ("%runscript", _runscript(plan)),
        ("%test", _test(plan)),
        ("%help", [line(f"{plan.name}: {plan.description}"),
                   "Built from the image toolkit made; `apptainer test` runs the profile's checks.",
                   *(["GPU: run with --nv (apptainer run --nv ...)."] if plan.target.gpu else [])]),
    ]
    text = header(plan) + "\n".join(_bootstrap(plan, image)) + "\n"
    for name, body in sections:
        text += f"\n{name}\n" + "".join(f"{INDENT}{b}\n" for b in body)
    return text


def render(plan: Plan, image: str | None = None) -> Rendered:
    return Rendered(files={f"apptainer/{object_name(plan)}.def": definition(plan, image)})
