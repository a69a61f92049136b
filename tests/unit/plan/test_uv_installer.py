"""python.installer: uv installs every package of the target's venv with uv, in every format; in a BuildKit
image the bootstrap venv that holds uv lives in a cache mount, never in a layer."""

from __future__ import annotations

import os
import subprocess
import textwrap

import yaml

from toolkit.components.python import BOOTSTRAP, UV
from toolkit.model.steps import PipInstall, RunCommand, Venv
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import ansible, dockerfile, script
from toolkit.render.dockerfile_python import _tool_pip
from toolkit.render.dockerfile_words import Build


def uv_plan(tmp_path, installer: str = "uv"):
    path = tmp_path / "uv.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: uv-stack
        extends: datascience-cpu
        python: {{installer: {installer}}}
        packages: {{pip: [rich==13.9.4]}}
        """))
    return build_plan(load_profile(path))


def test_every_pip_step_of_the_venv_uses_uv_and_only_uv_itself_is_pips(tmp_path):
    plan = uv_plan(tmp_path)
    pips = [s for s in plan.steps if isinstance(s, PipInstall)]
    assert [(s.venv, s.uv) for s in pips if s.venv == BOOTSTRAP] == [(BOOTSTRAP, None)]
    assert all(s.uv == UV for s in pips if s.venv == plan.target.venv) and len(pips) >= 3
    assert [s.build_tool for s in plan.steps if isinstance(s, Venv)] == [True]
    assert not any(s.uv for s in uv_plan(tmp_path, "pip").steps if isinstance(s, PipInstall))


def runs(text: str) -> list[str]:
    """RUN instructions, continuation lines joined."""
    out, current = [], None
    for line in text.splitlines():
        if line.startswith("RUN "):
            current = line
        elif current is not None and line.startswith("    "):
            current += " " + line.strip()
        if current is not None and not line.endswith("\\"):
            out.append(current)
            current = None
    return out


def test_buildkit_keeps_the_bootstrap_in_a_cache_mount(tmp_path):
    text = dockerfile.render(uv_plan(tmp_path)).files["Dockerfile"]
    using = [r for r in runs(text) if BOOTSTRAP in r]
    assert len(using) >= 4          # uv venv, base packages, jupyter, the profile's pip list
    mount = f"--mount=type=cache,id=toolkit-tools-debian-12,target={BOOTSTRAP},sharing=locked"
    assert all(mount in r and "--mount=type=cache,target=/root/.cache/uv" in r for r in using), using
    # made when the cache is empty, with the OS's pip wheel; then uv installs into the venv's interpreter
    assert all(f"test -e {BOOTSTRAP}/.toolkit-ready || {{ python3 -m venv --without-pip -- {BOOTSTRAP} && " in r
               for r in using)
    assert sum(f"{UV} pip install --python /opt/venv/bin/python --compile-bytecode" in r for r in using) == 3
    assert "rich==13.9.4" in using[-1] and "pip install --no-cache-dir" not in using[-1].split("&&")[-1]


def test_legacy_builder_keeps_the_bootstrap_as_a_layer(tmp_path):
    text = dockerfile.render(uv_plan(tmp_path), buildkit=False).files["Dockerfile"]
    assert f"python3 -m venv -- {BOOTSTRAP}" in text and "--mount" not in text
    assert f"{UV} pip install --python /opt/venv/bin/python --compile-bytecode --link-mode copy --no-cache" in text


def test_setup_script_and_playbook_install_with_uv(tmp_path):
    plan = uv_plan(tmp_path)
    text = script.render(plan).files["setup.sh"]
    assert f"{UV} pip install --python /opt/venv/bin/python --compile-bytecode --link-mode copy -- rich==13.9.4" in text
    assert "/opt/venv/bin/python -m pip install" not in text
    (play,) = yaml.safe_load(ansible.render(plan).files["ansible/playbook.yml"].split("\n", 1)[1])
    uv_tasks = [t for t in play["tasks"] if t.get("ansible.builtin.command", {}).get("argv", [""])[0] == UV
                and "pip" in t["ansible.builtin.command"]["argv"]]
    assert len(uv_tasks) == 3 and all(t["when"].startswith("toolkit_probe_") for t in uv_tasks)
    assert not [t for t in play["tasks"] if t.get("ansible.builtin.pip", {}).get("virtualenv") == "/opt/venv"]
    assert any(isinstance(s, RunCommand) and s.argv[:2] == (UV, "venv") for s in plan.steps)


def test_the_tool_install_runs_the_os_pip_wheel_or_falls_back_to_ensurepip(tmp_path):
    """The bootstrap's install as sh runs it, with a stand-in python that logs its arguments: the last pip
    wheel (in name order) in the OS's folder when there is one; otherwise ensurepip, then the venv's own pip."""
    plan = uv_plan(tmp_path)
    step = next(s for s in plan.steps if isinstance(s, PipInstall) and s.venv == BOOTSTRAP)
    venv, wheels, log = tmp_path / "tool", tmp_path / "wheels", tmp_path / "log"
    (venv / "bin").mkdir(parents=True)
    wheels.mkdir()
    (venv / "bin" / "python").write_text('#!/bin/sh\necho "$*" >>"$LOG"\n')
    (venv / "bin" / "python").chmod(0o755)
    fragment = _tool_pip(step, Build(plan=plan, buildkit=True, created=None)).replace(BOOTSTRAP, str(venv))
    fragment = fragment.replace("/usr/share/python-wheels", str(wheels))

    def run() -> list[str]:
        log.write_text("")
        subprocess.run(["sh", "-ec", fragment], check=True, env=dict(os.environ, LOG=str(log)))
        return log.read_text().splitlines()

    assert run() == ["-m ensurepip", "-m pip install --no-cache-dir uv"]
    for name in ("pip-23.0.1-py3-none-any.whl", "pip-24.0-py3-none-any.whl"):
        (wheels / name).write_bytes(b"")
    assert run() == [f"{wheels}/pip-24.0-py3-none-any.whl/pip install --no-cache-dir uv"]
