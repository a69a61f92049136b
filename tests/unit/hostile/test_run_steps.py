"""Hostile corpus, run: (the profile's own steps): every field refused with exit 2, the profile's file:line,
the field and what to do, never a traceback or a raw control character; and what a step may legitimately hold
(any printable argument: quotes, $, backticks, Jinja, non-ASCII) reaches every output as one inert argument."""

from __future__ import annotations

import json
import re
import shlex

import pytest
import yaml

from toolkit.cli import main
from toolkit.model.steps import RunStep
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import ansible, dockerfile, script

SECRET = "S3cr3t-Run9"
HEAD = "name: p\nos: {distro: debian, version: \"12\"}\nuser: {name: alice, uid: 1500, gid: 1500}\n"
SCRIPT = "#!/bin/sh\necho warm\n"

# id: (profile text after HEAD, extra files, line, field, message fragment)
CASES = {
    "neither-script-nor-command": ("run:\n  - name: a\n", {}, 5, "run.0", "exactly one of script"),
    "both-script-and-command": ("run:\n  - name: a\n    script: s.sh\n    command: [\"true\"]\n", {"s.sh": SCRIPT},
                                5, "run.0", "exactly one of script"),
    "creates-and-unless": ("run:\n  - name: a\n    command: [\"true\"]\n    creates: /x\n    unless: [\"true\"]\n",
                           {}, 5, "run.0", "not both"),
    "command-empty": ("run:\n  - name: a\n    command: []\n", {}, 6, "run.0.command", "at least 1"),
    "command-a-string": ("run:\n  - name: a\n    command: \"rm -rf /\"\n", {}, 6, "run.0.command", "valid list"),
    "command-a-number": ("run:\n  - name: a\n    command: [git, 1]\n", {}, 6, "run.0.command.1",
                         "expected a string"),
    "argv-newline": ("run:\n  - name: a\n    command: [sh, \"-c\", \"true\\nrm -rf /\"]\n", {}, 6, "run.0.command.2",
                     "U+000A"),
    "argv-nul": ("run:\n  - name: a\n    command: [echo, \"a\\0b\"]\n", {}, 6, "run.0.command.1", "U+0000"),
    "argv-bidi": ("run:\n  - name: a\n    command: [echo, \"safe\\u202Etxt.sh\"]\n", {}, 6, "run.0.command.1",
                  "U+202E"),
    "argv-escape": ("run:\n  - name: a\n    command: [echo, \"\\e[2J\"]\n", {}, 6, "run.0.command.1", "U+001B"),
    "argv-zero-width": ("run:\n  - name: a\n    command: [\"g\\u200Bit\", pull]\n", {}, 6, "run.0.command.0",
                        "U+200B"),
    "argv-empty-word": ("run:\n  - name: a\n    command: [echo, \"\"]\n", {}, 6, "run.0.command.1", "empty argument"),
    "argv-too-long": ("run:\n  - name: a\n    command: [echo, \"" + "x" * 5000 + "\"]\n", {}, 6, "run.0.command.1",
                      "longer than 4096"),
    "argv-credentials": ("run:\n  - name: a\n    command: [git, clone, \"https://me:" + SECRET + "@git.example.com/r\"]\n",
                         {}, 6, "run.0.command.2", "holds credentials"),
    "unless-credentials": ("run:\n  - name: a\n    command: [\"true\"]\n    unless: [curl, \"https://" + SECRET
                           + "@h.example.com/\"]\n", {}, 7, "run.0.unless.1", "holds credentials"),
    "program-an-option": ("run:\n  - name: a\n    command: [\"-rf\", /]\n", {}, 5, "run.0", "the program to run"),
    "program-an-assignment": ("run:\n  - name: a\n    command: [\"LD_PRELOAD=/tmp/x.so\", id]\n", {}, 5, "run.0",
                              "without '='"),
    "unless-newline": ("run:\n  - name: a\n    command: [\"true\"]\n    unless: [test, \"-e\", \"/x\\n\"]\n", {}, 7,
                       "run.0.unless.2", "U+000A"),
    "unless-program-option": ("run:\n  - name: a\n    command: [\"true\"]\n    unless: [\"--help\"]\n", {}, 5,
                              "run.0", "the program to run"),
    "creates-relative": ("run:\n  - name: a\n    command: [\"true\"]\n    creates: data/.warm\n", {}, 7,
                         "run.0.creates", "an absolute path"),
    "creates-dotdot": ("run:\n  - name: a\n    command: [\"true\"]\n    creates: /data/../etc/x\n", {}, 7,
                       "run.0.creates", "'..' is not allowed"),
    "creates-shell": ("run:\n  - name: a\n    command: [\"true\"]\n    creates: \"/x$(id)\"\n", {}, 7, "run.0.creates",
                      "an absolute path"),
    "user-unknown": ("run:\n  - name: a\n    command: [\"true\"]\n    user: nobody\n", {}, 7, "run.0.user",
                     "not an account this profile has"),
    "user-pattern": ("run:\n  - name: a\n    command: [\"true\"]\n    user: \"root; id\"\n", {}, 7, "run.0.user",
                     "a Unix user name"),
    "user-not-created": ("user: {create: false, name: alice}\nrun:\n  - name: a\n    command: [\"true\"]\n"
                         "    user: alice\n", {}, 7, "run.0.user", "user.create: true"),
    "name-spaces": ("run:\n  - name: Warm Cache\n    command: [\"true\"]\n", {}, 5, "run.0.name", "lower-case"),
    "name-path": ("run:\n  - name: ../../etc/cron.d/x\n    command: [\"true\"]\n", {}, 5, "run.0.name", "lower-case"),
    "name-missing": ("run:\n  - command: [\"true\"]\n", {}, 5, "run.0.name", "required field is missing"),
    "name-duplicate": ("run:\n  - name: a\n    command: [\"true\"]\n  - name: a\n    command: [\"false\"]\n", {}, 7,
                       "run.1.name", "duplicate run step name 'a'"),
    "unknown-key": ("run:\n  - name: a\n    command: [\"true\"]\n    shell: true\n", {}, 7, "run.0.shell",
                    "unknown key"),
    "env-secret": ("run:\n  - name: a\n    command: [\"true\"]\n    env:\n      HF_TOKEN: " + SECRET + "\n", {}, 8,
                   "run.0.env.HF_TOKEN", "looks like a secret"),
    "env-value-shell": ("run:\n  - name: a\n    command: [\"true\"]\n    env:\n      X: \"$(id)\"\n", {}, 8,
                        "run.0.env.X", "is not allowed"),
    "env-toolkit": ("run:\n  - name: a\n    command: [\"true\"]\n    env:\n      TOOLKIT_DRY_RUN: \"1\"\n", {}, 8,
                    "run.0.env.TOOLKIT_DRY_RUN", "toolkit's own"),
    "env-ld-preload": ("run:\n  - name: a\n    command: [\"true\"]\n    env:\n      LD_PRELOAD: /tmp/x.so\n", {}, 8,
                       "run.0.env.LD_PRELOAD", "loads"),
    "env-bad-name": ("run:\n  - name: a\n    command: [\"true\"]\n    env:\n      \"A-B\": x\n", {}, 8, "run.0.env.A-B",
                     "environment variable name"),
    "script-missing": ("run:\n  - name: a\n    script: nope.sh\n", {}, 6, "run.0.script", "not found"),
    "script-a-folder": ("run:\n  - name: a\n    script: scripts\n", {"scripts/x": "x"}, 6, "run.0.script",
                        "a directory"),
    "script-a-device": ("run:\n  - name: a\n    script: /dev/zero\n", {}, 6, "run.0.script", "character device"),
    "script-no-shebang": ("run:\n  - name: a\n    script: s.sh\n", {"s.sh": "echo hi\n"}, 6, "run.0.script",
                          "#! line"),
    "script-crlf": ("run:\n  - name: a\n    script: s.sh\n", {"s.sh": "#!/bin/sh\r\necho hi\r\n"}, 6, "run.0.script",
                    "dos2unix"),
    "script-binary": ("run:\n  - name: a\n    script: s.sh\n", {"s.sh": b"#!/bin/sh\n\xff\xfe"}, 6, "run.0.script",
                      "not UTF-8"),
    "script-nul": ("run:\n  - name: a\n    script: s.sh\n", {"s.sh": "#!/bin/sh\n\x00\n"}, 6, "run.0.script", "NUL"),
    "script-too-big": ("run:\n  - name: a\n    script: s.sh\n", {"s.sh": "#!/bin/sh\n" + "#" * (1024 * 1024 + 1)}, 6,
                       "run.0.script", "more than the"),
    "script-shell-path": ("run:\n  - name: a\n    script: \"s$(id).sh\"\n", {}, 6, "run.0.script",
                          "expected a file path"),
    "run-not-a-list": ("run:\n  name: a\n", {}, 4, "run", "valid list"),
}


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    captured = capsys.readouterr()
    return exc.value.code, captured.out + captured.err


def write(tmp_path, text: str, files: dict) -> None:
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_refused_with_location(case, tmp_path, capsys, monkeypatch):
    text, files, line, field, fragment = CASES[case]
    write(tmp_path, (HEAD if not text.startswith("user:") else HEAD.rsplit("user:", 1)[0]) + text, files)
    monkeypatch.chdir(tmp_path)
    code, output = run(["validate", "p.yaml"], capsys)
    assert code == 2, output
    assert "Traceback" not in output and SECRET not in output
    assert re.search(rf"^  p\.yaml:{line}:\d+: {re.escape(field)}: ", output, re.M), output
    assert fragment in output, output
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202e]", output), repr(output)


# Printable text a step may hold: it is an argument, so none of it means anything to a shell, Docker or Ansible.
HOSTILE_ARGS = ["'; touch /tmp/pwned #", "$(touch /tmp/pwned)", "`id`", "a \"b\" \\c", "{{ lookup('pipe', 'id') }}",
                "${HOME}", "naïve café ✓", "--help", "*", "x\\", "100%", "%s%n", "a\tb".replace("\t", " ")]


def test_printable_arguments_reach_every_output_as_one_inert_argument(tmp_path):
    doc = {"name": "p", "os": {"distro": "debian", "version": "12"}, "user": {"name": "alice", "uid": 1500, "gid": 1500},
           "run": [{"name": "once", "command": ["printf", "%s\\n", *HOSTILE_ARGS], "user": "alice",
                    "env": {"GREETING": "hi there, a=b"}},
                   {"name": "guarded", "command": ["echo", *HOSTILE_ARGS], "unless": ["test", "-e", HOSTILE_ARGS[0]]}]}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    plan = build_plan(load_profile(tmp_path / "p.yaml"))
    once, guarded = [s for s in plan.steps if isinstance(s, RunStep)]
    assert once.launch()[-len(HOSTILE_ARGS):] == tuple(HOSTILE_ARGS)
    # setup.sh: the apply line splits (as bash would) into exactly the launch argv
    text = script.render(plan).files["setup.sh"]
    for step in (once, guarded):
        line = next(ln for ln in text.splitlines() if ln.startswith(step.launch()[0] + " ") and "echo" in ln
                    or ln.startswith(step.launch()[0] + " ") and "printf" in ln)
        assert shlex.split(line) == list(step.launch())
    # Dockerfile: exec-form JSON whose argv ends with the launch argv
    runs = [json.loads(line[4:]) for line in dockerfile.render(plan).files["Dockerfile"].splitlines()
            if line.startswith('RUN ["')]
    assert runs[-2][-len(once.launch()):] == list(once.launch())
    assert runs[-1][-len(guarded.launch()):] == list(guarded.launch())
    # Ansible: argv lists, Jinja left untemplated (!unsafe)
    playbook = ansible.render(plan).files["ansible/playbook.yml"]
    assert "!unsafe '{{ lookup(''pipe'', ''id'') }}'" in playbook
    tasks = yaml.load(playbook.split("\n", 1)[1].replace("!unsafe ", ""), Loader=yaml.SafeLoader)[0]["tasks"]
    argvs = [t["ansible.builtin.command"]["argv"] for t in tasks if t["name"] in ("Run once", "Run guarded")]
    assert argvs == [list(once.launch()), list(guarded.launch())]
