"""The Ansible engine without SSH: recap parsing on output recorded from ansible-core 2.19 against the
sshd test containers, the inventory and ansible.cfg it writes, and the whole run_ansible pipeline with
a stand-in ansible-playbook (how the sudo password travels, what comes back)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from toolkit.executors import ansible_engine as engine
from toolkit.executors.ansible_recap import RecapParser
from toolkit.executors.inventory import Host
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile

# First run of the light profile on two fresh containers (trimmed: some tasks left out).
FIRST_RUN = """\

PLAY [Set up toolkit profile script-idempotent] ********************************

TASK [Gathering Facts] *********************************************************
ok: [web1]
ok: [web2]

TASK [OS packages] *************************************************************
changed: [web2]
changed: [web1]

TASK [Git configuration: check whether it is done] *****************************
ok: [web2]
ok: [web1]

TASK [Git configuration: init.defaultBranch] ***********************************
changed: [web1]
changed: [web2]

TASK [User alice: group alice] *************************************************
changed: [web1]
changed: [web2]

TASK [User alice] **************************************************************
changed: [web1]
ok: [web2]

PLAY [toolkit: ask for a reboot] ***********************************************

TASK [toolkit: look for /var/run/reboot-required] ******************************
ok: [web2]
ok: [web1]

TASK [toolkit: reboot required] ************************************************
skipping: [web1]
ok: [web2] => {
    "msg": "this host asks for a reboot"
}

PLAY RECAP *********************************************************************
web1                       : ok=25   changed=15   unreachable=0    failed=0    skipped=1    rescued=0    ignored=0   
web2                       : ok=25   changed=14   unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   
"""

SECOND_RUN_RECAP = """\
PLAY RECAP *********************************************************************
web1                       : ok=23   changed=0    unreachable=0    failed=0    skipped=3    rescued=0    ignored=0   
"""

# One host refused the connection, the other had a wrong sudo password.
FAILURES = """\

PLAY [Set up toolkit profile script-idempotent] ********************************

TASK [Gathering Facts] *********************************************************
[ERROR]: Task failed: Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused

Task failed.

<<< caused by >>>

Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused

fatal: [gone]: UNREACHABLE! => {"changed": false, "msg": "Task failed: Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused", "unreachable": true}
[ERROR]: Task failed: Incorrect sudo password
fatal: [web1]: FAILED! => {"changed": false, "msg": "Task failed: Incorrect sudo password"}

PLAY RECAP *********************************************************************
gone                       : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0   
web1                       : ok=0    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0   
"""

# A command that failed (stderr lines in the result), one loop item failing, and an ignored failure.
TASK_FAILURES = """\
TASK [Git configuration: init.defaultBranch] ***********************************
fatal: [web1]: FAILED! => {"changed": true, "cmd": ["git", "config"], "msg": "non-zero return code", "rc": 3, "stderr": "error: could not lock config file", "stderr_lines": ["error: could not lock config file"], "stdout_lines": []}
failed: [web2] (item=jq) => {"ansible_loop_var": "item", "changed": false, "item": "jq", "msg": "No package matching 'jq' is available"}
TASK [Probe] *******************************************************************
fatal: [web3]: FAILED! => {"changed": false, "msg": "probe failed"}
...ignoring
PLAY RECAP *********************************************************************
web1                       : ok=3    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0
web2                       : ok=3    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0
web3                       : ok=4    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=1
"""

PROFILE = """\
name: script-idempotent
os: {distro: debian, version: "12"}
python: {version: system, venv: /opt/venv}
packages: {apt: [jq], pip: ["six==1.16.0"]}
user: {name: alice, uid: 1500, gid: 1500}
git: {enabled: true, config: {init.defaultBranch: main}}
"""


@pytest.fixture
def plan(tmp_path):
    (tmp_path / "profile.yaml").write_text(PROFILE)
    return build_plan(load_profile(tmp_path / "profile.yaml"))


def parse(text: str, names=None, **kw) -> RecapParser:
    parser = RecapParser(names, **kw)
    for line in text.splitlines():
        parser.feed(line)
    return parser


def test_first_run_counts_changed_tasks_and_reboot():
    p = parse(FIRST_RUN)
    web1, web2 = p.hosts["web1"], p.hosts["web2"]
    assert (web1.ok, web1.changed, web1.skipped, web1.in_recap) == (25, 15, 1, True)
    assert web1.status(check=False) == "changed" and web1.status(check=True) == "would-change"
    assert web1.changed_tasks == ["OS packages", "Git configuration: init.defaultBranch",
                                  "User alice: group alice", "User alice"]
    assert "User alice" not in web2.changed_tasks
    assert (web1.reboot_required, web2.reboot_required) == (False, True)
    assert p.recap[0].startswith("PLAY RECAP") and len(p.recap) == 3 and p.recap[1].startswith("web1 ")


def test_second_run_is_unchanged():
    p = parse(SECOND_RUN_RECAP)
    assert p.hosts["web1"].status(check=False) == "unchanged"


def test_unreachable_and_sudo_failure():
    p = parse(FAILURES, ["gone", "web1"])
    gone, web1 = p.hosts["gone"], p.hosts["web1"]
    assert gone.status(False) == "unreachable" and gone.failed_task == "Gathering Facts"
    assert gone.tail() == [("Task failed: Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 "
                            "port 1: Connection refused")]
    assert web1.status(False) == "failed" and web1.tail() == ["Task failed: Incorrect sudo password"]


def test_task_failures_loop_items_and_ignored():
    p = parse(TASK_FAILURES)
    web1, web2, web3 = (p.hosts[n] for n in ("web1", "web2", "web3"))
    assert web1.failed_task == "Git configuration: init.defaultBranch"
    assert web1.tail() == ["non-zero return code", "error: could not lock config file"]
    assert web2.status(False) == "failed" and web2.tail() == ["No package matching 'jq' is available"]
    assert web3.failed_task is None and web3.status(False) == "unchanged"


def test_a_run_that_stops_before_the_recap_fails_every_host():
    p = parse("ERROR! the playbook: site.yml could not be found\n", ["web1"])
    assert p.hosts["web1"].status(False) == "failed" and p.lines[-1].startswith("ERROR!")


def test_result_hook_sees_every_result():
    seen = []
    parse(FIRST_RUN, on_result=lambda *a: seen.append(a))
    assert ("web1", "changed", "OS packages") in seen and ("web1", "skipping", "toolkit: reboot required") in seen


# --------------------------------------------------------------------------- inventory and config

def hosts() -> list[Host]:
    bastion = Host(name="bastion", hostname="bastion.example", port=2222, user="admin", identity="/k/jump")
    return [
        Host(name="deploy@127.0.0.1:2201", hostname="127.0.0.1", port=2201, user="deploy", identity="/k/id"),
        Host(name="gpu01", hostname="10.0.0.5", port=22, user="ubuntu", jump=bastion, known_hosts="/kh/site"),
        Host(name="gpu01", hostname="10.0.0.6", port=22, user="ubuntu"),
        Host(name="local", hostname="localhost", user="me", local=True),
    ]


def read_inventory(path: Path) -> dict:
    """The inventory's hosts; a string Ansible may template (not tagged !unsafe) fails the test."""
    class Loader(yaml.SafeLoader):
        pass

    def plain(loader, node):
        assert isinstance(node.value, str) and node.tag != "!unsafe", f"{node.value!r} is not tagged !unsafe"
        return loader.construct_scalar(node)

    Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
    Loader.add_constructor("tag:yaml.org,2002:str", plain)
    return yaml.load(path.read_text(), Loader=Loader)["all"]["hosts"]   # noqa: S506 - a SafeLoader


def test_inventory(tmp_path):
    by_alias = engine.write_inventory(tmp_path / "inv.yml", hosts(), known_hosts="/kh/run")
    assert list(by_alias) == ["deploy_127.0.0.1_2201", "gpu01", "gpu01_2", "local"]
    doc = read_inventory(tmp_path / "inv.yml")
    first = doc["deploy_127.0.0.1_2201"]
    assert (first["ansible_host"], first["ansible_port"], first["ansible_user"]) == ("127.0.0.1", 2201, "deploy")
    assert first["ansible_ssh_private_key_file"] == "/k/id"
    args = shlex.split(first["ansible_ssh_common_args"])
    assert "StrictHostKeyChecking=yes" in args and "UserKnownHostsFile=/kh/run" in args
    jumped = shlex.split(doc["gpu01"]["ansible_ssh_common_args"])
    assert "UserKnownHostsFile=/kh/site" in jumped
    proxy = shlex.split(next(a for a in jumped if a.startswith("ProxyCommand=")).removeprefix("ProxyCommand="))
    assert proxy[0] == "ssh" and proxy[-3:] == ["-W", "%h:%p", "bastion.example"]
    assert ["-i", "/k/jump"] == proxy[proxy.index("-i"):proxy.index("-i") + 2] and "UserKnownHostsFile=/kh/run" in proxy
    assert doc["local"] == {"ansible_connection": "local", "ansible_host": "localhost"}
    assert oct((tmp_path / "inv.yml").stat().st_mode & 0o777) == "0o600"


def test_accept_new_host_keys(tmp_path):
    engine.write_inventory(tmp_path / "inv.yml", hosts()[:1], accept_new=True)
    args = read_inventory(tmp_path / "inv.yml")["deploy_127.0.0.1_2201"]
    assert "StrictHostKeyChecking=accept-new" in shlex.split(args["ansible_ssh_common_args"])
    assert f"UserKnownHostsFile={os.path.expanduser('~/.ssh/known_hosts')}" in args["ansible_ssh_common_args"]


@pytest.mark.process
@pytest.mark.skipif(shutil.which("ansible-inventory") is None, reason="ansible-core is not installed")
def test_ansible_reads_the_inventory_as_written(tmp_path):
    engine.write_inventory(tmp_path / "inv.yml", hosts(), known_hosts="/kh/run")
    (tmp_path / "ansible.cfg").write_text(engine.ansible_cfg(4, tmp_path / "cp"))
    env = dict(os.environ, ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"))
    out = subprocess.run(["ansible-inventory", "-i", str(tmp_path / "inv.yml"), "--list"], capture_output=True,
                         text=True, env=env, check=True).stdout
    hostvars = json.loads(out)["_meta"]["hostvars"]
    assert hostvars["deploy_127.0.0.1_2201"]["ansible_port"] == 2201
    # Ansible marks each string it will never template; every string toolkit wrote is one of them
    first = hostvars["deploy_127.0.0.1_2201"]
    assert all(set(v) == {"__ansible_unsafe"} for k, v in first.items() if k != "ansible_port"), first
    assert "ProxyCommand=" in hostvars["gpu01"]["ansible_ssh_common_args"]["__ansible_unsafe"]


def test_ansible_cfg_and_site_playbook(tmp_path):
    cfg = engine.ansible_cfg(8, tmp_path / "cp")
    assert "forks = 8" in cfg and "host_key_checking = True" in cfg and "retry_files_enabled = False" in cfg
    assert f"control_path_dir = {tmp_path / 'cp'}" in cfg
    site = yaml.safe_load(engine.site_playbook())
    assert site[0] == {"ansible.builtin.import_playbook": "playbook.yml"}
    assert all(t.get("tags") == ["always"] for t in site[1]["tasks"]) and site[1]["gather_facts"] is False


# --------------------------------------------------------------------------- the pipeline, no SSH

FAKE = """\
#!{python}
import json, os, sys
record = {{"argv": sys.argv[1:], "stdin": sys.stdin.read(),
           "env_has_secret": any("s3cret pw" in v for v in os.environ.values()),
           "files_with_secret": [os.path.join(d, f) for d, _, fs in os.walk(os.getcwd()) for f in fs
                                 if "s3cret pw" in open(os.path.join(d, f), errors="replace").read()],
           "cfg": os.environ["ANSIBLE_CONFIG"], "callback": os.environ.get("ANSIBLE_STDOUT_CALLBACK")}}
open({record!r}, "w").write(json.dumps(record))
sys.stdout.write({output!r})
sys.exit({rc})
"""


def fake_playbook(tmp_path, monkeypatch, output: str, rc: int = 0) -> Path:
    record = tmp_path / "record.json"
    script = tmp_path / "ansible-playbook"
    script.write_text(FAKE.format(python=sys.executable, record=str(record), output=output, rc=rc))
    script.chmod(0o755)
    monkeypatch.setattr(engine, "find_ansible_playbook", lambda: str(script))
    monkeypatch.setenv("ANSIBLE_STDOUT_CALLBACK", "yaml")
    return record


def two_hosts() -> list[Host]:
    return [Host(name="web1", hostname="127.0.0.1", port=2201, user="deploy"),
            Host(name="web2", hostname="127.0.0.1", port=2202, user="deploy")]


def test_run_ansible_password_on_stdin_only(tmp_path, monkeypatch, plan):
    record = fake_playbook(tmp_path, monkeypatch, FIRST_RUN)
    shown: list[str] = []
    events = []
    results = engine.run_ansible(plan, two_hosts(), forks=8, log_dir=tmp_path / "logs", become_password="s3cret pw",
                                 display=shown.append, progress=events.append)
    rec = json.loads(record.read_text())
    assert rec["stdin"] == "s3cret pw\n" and not rec["env_has_secret"] and rec["files_with_secret"] == []
    assert "--become-password-file" in rec["argv"] and rec["argv"][rec["argv"].index("--become-password-file") + 1] == "-"
    assert not any("s3cret" in a for a in rec["argv"]) and rec["callback"] is None
    assert not Path(rec["cfg"]).exists(), "the temporary folder is removed after the run"
    web1, web2 = results
    assert (web1.host, web1.status, web1.steps_total, web1.failed_step, web1.tail) == (
        "web1", "changed", len(plan.steps), None, [])
    assert web1.steps_changed == 3   # OS packages, Git configuration, User alice (two tasks, one step)
    assert web2.reboot_required and not web1.reboot_required
    assert any(line.startswith("web1 ") and "changed=15" in line for line in shown)
    apt = next(e for e in events if e.host == "web1" and e.title == "OS packages")
    assert apt.tag == "changed" and apt.total == len(plan.steps) and plan.steps[apt.step - 1].title == "OS packages"
    log = Path(web1.log_path).read_text()
    assert "PLAY RECAP" in log and oct(Path(web1.log_path).stat().st_mode & 0o777) == "0o600"


def test_run_ansible_check_and_failures(tmp_path, monkeypatch, plan):
    record = fake_playbook(tmp_path, monkeypatch, FAILURES.replace("[gone]", "[web2]").replace("gone ", "web2 "), 4)
    results = engine.run_ansible(plan, two_hosts(), check=True, display=lambda line: None)
    rec = json.loads(record.read_text())
    assert "--check" in rec["argv"] and "--become-password-file" not in rec["argv"] and rec["stdin"] == ""
    web1, web2 = results
    assert (web1.status, web1.failed_step, web1.tail) == ("failed", "Gathering Facts",
                                                          ["Task failed: Incorrect sudo password"])
    assert web2.status == "unreachable" and web1.log_path is None


def test_run_ansible_that_breaks_early(tmp_path, monkeypatch, plan):
    fake_playbook(tmp_path, monkeypatch, "ERROR! Unexpected Exception: boom\n", 250)
    results = engine.run_ansible(plan, two_hosts(), display=lambda line: None)
    assert [r.status for r in results] == ["failed", "failed"]
    assert results[0].failed_step == "ansible-playbook" and results[0].tail == ["ERROR! Unexpected Exception: boom"]


def test_missing_ansible_playbook(monkeypatch, tmp_path):
    monkeypatch.setattr(engine.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(engine.ToolkitError) as info:
        engine.find_ansible_playbook()
    assert "pip install ansible-core" in info.value.render()
