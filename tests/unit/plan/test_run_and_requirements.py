"""run: steps and packages.pip_requirements in the plan: order, layers, probes, checks, digests, extends."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest
from packaging.requirements import Requirement

from toolkit.model.steps import PipInstall, RunStep, WriteFile
from toolkit.plan.builder import build_plan
from toolkit.profile import requirement_files as rf
from toolkit.profile.loader import load_profile
from toolkit.profile.reqlines import LineError, logical_lines, parse_line

HEAD = 'name: p\nos: {distro: debian, version: "12"}\nuser: {name: alice, uid: 1500, gid: 1500}\n'


def plan_of(tmp_path, text: str, files: dict | None = None):
    for name, content in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    (tmp_path / "p.yaml").write_text(HEAD + text)
    return build_plan(load_profile(tmp_path / "p.yaml"))


def test_requirement_files_are_a_layer_between_pip_base_and_pip_then_the_run_steps(tmp_path):
    plan = plan_of(tmp_path, "jupyter: {enabled: true}\npackages:\n  pip_base: [numpy]\n  pip: [six]\n"
                   "  pip_requirements: [requirements.txt]\nrun:\n  - name: b\n    command: [\"true\"]\n"
                   "  - name: a\n    script: s.sh\nenv: {X: \"1\"}\n",
                   {"requirements.txt": "idna\n", "s.sh": "#!/bin/sh\ntrue\n"})
    titles = [f"{s.component}:{s.title}" for s in plan.steps]
    order = ["packages:pip base packages", "jupyter:Jupyter lab", "packages:pip requirement files, as one file",
             "packages:pip requirement files", "packages:pip packages", "run:run b", "run:script of run a",
             "run:run a", "env:profile environment", "metadata:provenance"]
    assert [titles.index(t) for t in order] == sorted(titles.index(t) for t in order), titles
    files = next(s for s in plan.steps if isinstance(s, PipInstall) and s.requirement_files)
    assert files.requirement_files == ("/opt/toolkit/requirements/requirements.txt",)
    assert files.requirements == ("idna",)       # for a lock's resolver; installed through the file
    assert files.probe()[-1] == "/opt/toolkit/requirements/requirements.txt"
    script = next(s for s in plan.steps if isinstance(s, WriteFile) and s.path == "/opt/toolkit/run/a")
    assert script.mode == "0755" and script.content == "#!/bin/sh\ntrue\n"


def test_the_written_file_flattens_includes_and_keeps_constraints_apart(tmp_path):
    plan = plan_of(tmp_path, "packages:\n  pip_requirements: [req/main.txt]\n",
                   {"req/main.txt": "--prefer-binary\n-r base/common.txt\n-c pins.txt\nrequests[socks]>=2 ; "
                                    "python_version >= '3.8'  # net\n",
                    "req/base/common.txt": "idna\n-r ../more.txt\n", "req/more.txt": "certifi\n",
                    "req/pins.txt": "urllib3<3\n"})
    written = {s.path: s.content for s in plan.steps if isinstance(s, WriteFile)}
    main = written["/opt/toolkit/requirements/requirements.txt"].splitlines()
    assert main[1:] == ["--prefer-binary", "-c /opt/toolkit/requirements/constraints.txt", "idna", "certifi",
                        'requests[socks]>=2; python_version >= "3.8"']
    assert written["/opt/toolkit/requirements/constraints.txt"].splitlines()[1:] == ["urllib3<3"]
    checks = {c.id: c for c in plan.checks if c.component == "packages"}
    assert {"pip_package:idna", "pip_package:certifi", "pip_package:requests"} <= set(checks)
    assert "pip_package:urllib3" not in checks      # a constraint installs nothing
    assert checks["pip_package:requests"].p["specifier"] == ">=2"
    assert "from req/main.txt" in checks["pip_package:requests"].description


def test_markers_decide_which_requirements_verify_checks(tmp_path):
    plan = plan_of(tmp_path, "packages:\n  pip_requirements: [r.txt]\n",
                   {"r.txt": "tomli; python_version < '3.11'\nidna; python_version >= '3.11'\n"
                             "pywin32; sys_platform == 'win32'\nsix; platform_machine == 'x86_64'\n"
                             "certifi @ https://files.example.com/certifi-1-py3-none-any.whl\n"})
    ids = {c.id for c in plan.checks}
    assert "pip_package:idna" in ids and "pip_package:certifi" in ids       # python 3.11 on Debian 12
    assert not {"pip_package:tomli", "pip_package:pywin32", "pip_package:six"} & ids
    assert any("r.txt:4" in w and "depend on the machine" in w for w in plan.warnings), plan.warnings


def test_a_framework_package_in_a_file_warns_with_its_file_and_line(tmp_path):
    plan = plan_of(tmp_path, "frameworks:\n  pytorch: {version: \"2.7.1\"}\npackages:\n  pip_requirements: [r.txt]\n",
                   {"r.txt": "six\ntorch\n"})
    assert any("r.txt:2 lists torch" in w for w in plan.warnings), plan.warnings


def test_run_steps_probe_run_as_their_user_and_record_a_digest(tmp_path):
    plan = plan_of(tmp_path, "run:\n  - name: once\n    command: [git, lfs, install]\n    user: alice\n"
                   "    env: {B: \"2\", A: \"1\"}\n  - name: guarded\n    command: [\"true\"]\n    unless: [test, -e, /x]\n"
                   "  - name: made\n    command: [\"true\"]\n    creates: /data/.warm\n")
    once, guarded, made = [s for s in plan.steps if isinstance(s, RunStep)]
    path = "PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert once.launch() == ("runuser", "-u", "alice", "--", "env", "-C", "/home/alice", "--", "HOME=/home/alice",
                             "USER=alice", "LOGNAME=alice", "A=1", "B=2", path, "VIRTUAL_ENV=/opt/venv",
                             "git", "lfs", "install")
    assert once.probe() == ("grep", "-qsxF", "--", once.digest, "/var/lib/toolkit/run/once")
    assert guarded.probe() == ("env", "-C", "/root", "--", "HOME=/root", "USER=root", "LOGNAME=root", path,
                               "VIRTUAL_ENV=/opt/venv", "test", "-e", "/x")
    assert made.probe() == ("test", "-e", "/data/.warm")
    checks = {c.id: c for c in plan.checks if c.component == "run"}
    assert checks["command:run.once"].p["argv"] == once.probe()
    assert checks["command:run.guarded"].p["argv"] == ("test", "-e", "/x")    # as the user verify connects as
    assert checks["file:/data/.warm"].p["path"] == "/data/.warm"


@pytest.mark.parametrize("change", ["command: [git, lfs, install, --force]", "user: root", "env: {A: \"9\"}"])
def test_the_digest_changes_with_what_the_step_runs_and_only_then(tmp_path, change):
    base = "run:\n  - name: once\n    command: [git, lfs, install]\n    user: alice\n    env: {A: \"1\"}\n"
    before = [s for s in plan_of(tmp_path, base).steps if isinstance(s, RunStep)][0].digest
    again = [s for s in plan_of(tmp_path, base + "description: other\n").steps if isinstance(s, RunStep)][0].digest
    key = change.split(":")[0]
    text = "\n".join(f"    {change}" if line.strip().startswith(key + ":") else line for line in base.splitlines())
    after = [s for s in plan_of(tmp_path, text + "\n").steps if isinstance(s, RunStep)][0].digest
    assert before == again and before != after


def test_a_script_edit_changes_the_digest(tmp_path):
    text = "run:\n  - name: s\n    script: s.sh\n"
    one = [s for s in plan_of(tmp_path, text, {"s.sh": "#!/bin/sh\necho 1\n"}).steps if isinstance(s, RunStep)][0]
    two = [s for s in plan_of(tmp_path, text, {"s.sh": "#!/bin/sh\necho 2\n"}).steps if isinstance(s, RunStep)][0]
    assert one.argv == two.argv == ("/opt/toolkit/run/s",) and one.digest != two.digest


def test_extends_replaces_a_run_step_by_name_and_keeps_the_others(tmp_path):
    (tmp_path / "base.yaml").write_text(HEAD + "run:\n  - name: a\n    command: [\"true\"]\n"
                                        "  - name: b\n    command: [\"true\"]\n")
    (tmp_path / "p.yaml").write_text("name: p\nextends: base.yaml\nrun:\n  - name: a\n    command: [\"false\"]\n")
    steps = [s for s in build_plan(load_profile(tmp_path / "p.yaml")).steps if isinstance(s, RunStep)]
    assert [(s.name, s.argv[-1]) for s in steps] == [("b", "true"), ("a", "false")]


def test_requirement_files_of_a_parent_are_relative_to_the_parent(tmp_path):
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "requirements.txt").write_text("idna\n")
    (tmp_path / "team" / "base.yaml").write_text(HEAD + "packages:\n  pip_requirements: [requirements.txt]\n")
    (tmp_path / "p.yaml").write_text("name: p\nextends: team/base.yaml\n")
    plan = build_plan(load_profile(tmp_path / "p.yaml"))
    assert "pip_package:idna" in {c.id for c in plan.checks}


# ---------------------------------------------------------------- the line reader, against pip's own

PIP_CORPUS = """\
# a comment
numpy>=1.26,<3  # trailing comment
pandas==2.2.* \\
    ; python_version >= "3.9"
requests[socks,security]>=2.31
six==1.16.0 \\
    --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254 \\
    --hash=sha256:1e61c37477a1626458e36f7b1d82aa5c9b094fa4802892072e49de9c60c4c926
idna @ https://files.pythonhosted.org/packages/idna-3.7-py3-none-any.whl#sha256=82fee1fc78add43492d3a1898bfa6d8a904cc97d8427f683ed8e798d07761aa0
# an indented comment ends nothing \\
attrs
"""


def test_the_line_reader_agrees_with_pips_own_parser(tmp_path):
    (tmp_path / "r.txt").write_text(PIP_CORPUS)
    code = ("import json, sys\nfrom pip._internal.req.req_file import parse_requirements\n"
            "from pip._internal.network.session import PipSession\n"
            "print(json.dumps([[r.requirement, sorted((r.options or {}).get('hashes', {}).get('sha256', []))] "
            "for r in parse_requirements(sys.argv[1], session=PipSession())]))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "r.txt")], capture_output=True, text=True,
                         check=True).stdout
    pips = [(str(Requirement(r)), h) for r, h in json.loads(out)]
    ours = [(p.requirement, sorted(x.split(":", 1)[1] for x in p.hashes))
            for _, line in logical_lines(PIP_CORPUS) if (p := parse_line(line)).kind == "requirement"]
    assert ours == pips


def test_old_git_spelling_becomes_a_named_requirement():
    sha = "0" * 40
    parsed = parse_line(f"git+https://github.com/a/b@{sha}#egg=b-lib&subdirectory=src")
    assert parsed.requirement == f"b-lib @ git+https://github.com/a/b@{sha}#subdirectory=src"
    assert parsed.name == "b-lib" and parsed.url


def test_a_requirements_file_read_twice_through_two_includes_counts_once(tmp_path):
    (tmp_path / "r.txt").write_text("-r a.txt\n-r b.txt\n")
    (tmp_path / "a.txt").write_text("-r common.txt\n")
    (tmp_path / "b.txt").write_text("-r common.txt\n")
    (tmp_path / "common.txt").write_text("idna\n")
    reader = rf.read_one(tmp_path / "r.txt", "x")
    assert [e.name for e in reader.entries] == ["idna"] and not reader.problems


def test_line_errors_carry_the_line_of_a_control_character():
    with pytest.raises(LineError) as exc:
        logical_lines("six\nid\u202ena\n")
    assert exc.value.line == 2


def test_sha256_of_the_written_file_is_its_content(tmp_path):
    plan = plan_of(tmp_path, "packages:\n  pip_requirements: [r.txt]\n", {"r.txt": "idna\n"})
    w = next(s for s in plan.steps if isinstance(s, WriteFile) and s.path.endswith("requirements.txt"))
    assert w.sha256 == hashlib.sha256(w.content.encode()).hexdigest()


def test_a_lock_pins_what_the_requirement_files_ask_for(tmp_path):
    """Locked, the requirement-files layer installs the lock's hashed file, not the unlocked one."""
    from tests.unit.lock.fake_lock import fake_lock
    from toolkit.lock.apply import locked_plan
    from toolkit.render import dockerfile, script

    plan = plan_of(tmp_path, "packages:\n  pip_requirements: [r.txt]\n",
                   {"r.txt": "idna>=3\ncertifi ; python_version >= '3.8'\n"})
    locked = locked_plan(plan, fake_lock(plan))
    step = next(s for s in locked.steps if isinstance(s, PipInstall) and s.requirement_files)
    assert step.requirement_file and set(step.requirements) == {"idna==1.0", "certifi==1.0"}
    assert step.probe()[2] != step.requirement_files[0] and "requirements.txt" not in " ".join(step.probe())
    text = script.render(locked).files["setup.sh"]
    assert f"--require-hashes --no-deps -r {step.requirement_file}" in text
    assert "-r /opt/toolkit/requirements/requirements.txt" not in text
    assert "-r /opt/toolkit/requirements/requirements.txt" not in dockerfile.render(locked).files["Dockerfile"]


def test_a_run_step_as_an_account_of_users_is_host_only(tmp_path):
    from toolkit.verify.runner import for_target

    plan = plan_of(tmp_path, "users:\n  - {name: bob, uid: 2001}\nrun:\n"
                             "  - {name: warm, command: [/bin/true], user: bob}\n")
    (step,) = [s for s in plan.steps if isinstance(s, RunStep)]
    assert step.user == "bob" and step.home == "/home/bob" and step.hosts_only
    assert any("bob" in w and "images skip" in w for w in plan.warnings)
    run_check = "command:run.warm"
    assert run_check in {c.id for c in for_target(plan, "ssh://h").checks}
    assert run_check not in {c.id for c in for_target(plan, "docker://c").checks}
