"""run: steps and packages.pip_requirements for real: `toolkit apply` (native engine, and --engine ansible)
to sshd containers on 127.0.0.1, twice, and `toolkit build` of an image; then `toolkit verify`.

The profile's requirement files use what pip users write: an -r include, a -c constraints file, an extra
(requests[socks]), markers (one that holds on Debian 12's Python 3.11, one that does not), a pinned direct URL
with its sha256 (six from files.pythonhosted.org) and a local wheel from network.wheelhouse required by name.
Its run steps: a script (root, `creates:`), a command as the profile's user with its own env (runs once:
recorded), and a command guarded by `unless:`. Each step appends a line to a counter file: after two applies
each counter holds exactly one line, the second apply changes nothing, and verify passes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from . import images
from .credservers import make_wheel
from .harness import REPO_ROOT, TEST_LABEL

pytestmark = [pytest.mark.docker]

SIX_URL = ("https://files.pythonhosted.org/packages/d9/5a/e7c31adbe875f2abbb91bd84cf2dc52d792b5a01506781dbcf25c91daf11/"
           "six-1.16.0-py2.py3-none-any.whl#sha256=8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254")
REQUIREMENTS = f"""\
# the team's requirements, as pip users write them
-r requirements/base.txt
-c requirements/constraints.txt
requests[socks]==2.32.3 ; python_version >= "3.8"   # an extra and a marker that holds
tomli==2.0.1 ; python_version < "3.11"              # a marker that does not (Debian 12: Python 3.11)
six @ {SIX_URL}
"""
BASE = "toolkitrunprobe==1.0   # a local wheel, from network.wheelhouse\n"
CONSTRAINTS = "urllib3<3\n"
SCRIPT = """\
#!/bin/sh
# a script next to the profile, run as root
set -eu
mkdir -p /var/lib/runcount
echo script >>/var/lib/runcount/script
touch /var/lib/runcount/warm
"""
COUNT = "import os; open(os.path.expanduser('~/count'), 'a').write(os.environ['GREETING'] + ' ' + os.getcwd() + chr(10))"
GUARDED = "import os; os.makedirs('/var/lib/runcount', exist_ok=True); open('/var/lib/runcount/guarded', 'a').write('x' + chr(10))"
RUN = f"""\
run:
  - name: warm
    script: scripts/warm.sh
    creates: /var/lib/runcount/warm
  - name: count
    command: [/opt/venv/bin/python, -c, "{COUNT}"]
    user: alice
    env: {{GREETING: "hi there"}}
  - name: guarded
    command: [/opt/venv/bin/python, -c, "{GUARDED}"]
    unless: [test, -s, /var/lib/runcount/guarded]
"""
COUNTERS = ("cat /var/lib/runcount/script /var/lib/runcount/guarded /home/alice/count; "
            "stat -c %U /home/alice/count; /opt/venv/bin/python -c "
            "'import requests, socks, six, toolkitrunprobe, urllib3; print(toolkitrunprobe.VALUE, six.__version__)'; "
            "/opt/venv/bin/python -c 'import tomli' 2>/dev/null && echo tomli-installed || echo no-tomli")


def write_project(folder: Path, ca_bundle: Path | None, base_image: str | None = None, name: str = "runsteps") -> Path:
    (folder / "requirements").mkdir(parents=True, exist_ok=True)
    (folder / "scripts").mkdir(exist_ok=True)
    (folder / "wheels").mkdir(exist_ok=True)
    make_wheel(folder / "wheels", "toolkitrunprobe", "1.0")
    (folder / "requirements.txt").write_text(REQUIREMENTS)
    (folder / "requirements" / "base.txt").write_text(BASE)
    (folder / "requirements" / "constraints.txt").write_text(CONSTRAINTS)
    (folder / "scripts" / "warm.sh").write_text(SCRIPT)
    network = ["  wheelhouse: wheels\n"]
    if ca_bundle is not None:       # HTTPS from the containers goes through a TLS-intercepting proxy
        shutil.copy(ca_bundle, folder / "host-ca.crt")
        network.append("  ca_certificates: [host-ca.crt]\n")
    text = (f"name: {name}\nos: {{distro: debian, version: \"12\"" + (f", base_image: {base_image}" if base_image
                                                                       else "") + "}\n"
            "user: {name: alice, uid: 1500, gid: 1500}\n"
            "packages:\n  pip_requirements: [requirements.txt]\n" + RUN + "network:\n" + "".join(network))
    path = folder / "profile.yaml"
    path.write_text(text)
    return path


def toolkit(*args: str, password: str | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO_ROOT))
    if password:
        env["TOOLKIT_SUDO_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, env=env,
                          cwd=REPO_ROOT, timeout=timeout, check=False)


def check_counters(container) -> str:
    rc, out = container.exec_run(["sh", "-c", COUNTERS], user="root")
    text = out.decode(errors="replace")
    assert rc == 0, text
    lines = text.splitlines()
    assert lines[:3] == ["script", "x", "hi there /home/alice"], text       # each step ran exactly once
    assert lines[3] == "alice" and lines[4] == "42 1.16.0" and lines[5] == "no-tomli", text
    return text


@pytest.mark.ssh
@pytest.mark.parametrize("engine", ["native", pytest.param("ansible", marks=pytest.mark.slow)])   # ansible: ~80 s;
# CI runs the Ansible engine in test_ansible_apply, test_accounts_apply, test_jupyter_service and the inventory test
def test_apply_twice_runs_each_step_once_and_verifies(engine, sshd_container, tmp_path, host_ca_bundle):
    if engine == "ansible" and not shutil.which("ansible-playbook", path=os.path.dirname(sys.executable) + os.pathsep
                                                + os.environ.get("PATH", "")):
        pytest.skip("ansible-playbook not installed (pip install ansible-core)")
    profile = write_project(tmp_path / "project", host_ca_bundle)
    target = sshd_container(f"run-{engine}")
    argv = ["apply", str(profile), "--host", f"ssh://deploy@127.0.0.1:{target.port}", "--known-hosts",
            str(target.known_hosts_path), "--identity", str(target.key_path), "--log-dir", str(tmp_path / "logs"),
            "--json", "--engine", engine]
    first = toolkit(*argv, password=target.password)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-6000:]
    [one] = json.loads(first.stdout)
    assert one["status"] == "changed" and one["verify_ok"], one
    check_counters(target.container)

    second = toolkit(*argv, password=target.password)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-6000:]
    [two] = json.loads(second.stdout)
    assert (two["status"], two["steps_changed"], two["verify_ok"]) == ("unchanged", 0, True), \
        (two, second.stderr[-6000:])
    assert "[changed]" not in second.stderr
    check_counters(target.container)           # still one line each: nothing ran again

    # What the probes and verify read: the recorded digest, the written requirement file.
    rc, out = target.container.exec_run(["sh", "-c", "cat /var/lib/toolkit/run/count; "
                                         "ls /var/lib/toolkit/run; head -3 /opt/toolkit/requirements/requirements.txt"])
    text = out.decode()
    assert rc == 0 and text.split()[1:2] == ["count"] and "-c /opt/toolkit/requirements/constraints.txt" in text, text

    # An edit to the command runs that step again, once; the others stay done.
    profile.write_text(profile.read_text().replace("GREETING: \"hi there\"", "GREETING: \"hello\""))
    third = toolkit(*argv, password=target.password)
    assert third.returncode == 0, third.stderr[-6000:]
    if engine == "native":
        changed = [line.split(": ", 2)[-1] for line in third.stderr.splitlines() if "[changed]" in line]
        # (the profile.d file and profile.json name the profile's digest: they change with any edit)
        assert [c for c in changed if c.startswith(("run:", "packages:"))] == ["run: run count"], third.stderr[-6000:]
    rc, out = target.container.exec_run(["cat", "/home/alice/count", "/var/lib/runcount/script",
                                         "/var/lib/runcount/guarded"])
    assert out.decode().splitlines() == ["hi there /home/alice", "hello /home/alice", "script", "x"], out.decode()


def test_image_build_runs_the_steps_and_verifies(docker_engine, base_image, host_ca_bundle, tmp_path):
    profile = write_project(tmp_path / "project", host_ca_bundle, base_image, name="runsteps-image")
    built = images.build_profile_image(docker_engine, profile, tmp_path / "build", base_image, reuse=False)
    try:
        output = docker_engine.containers.run(built.tag, ["sh", "-c", COUNTERS], remove=True, user="root",
                                              labels={TEST_LABEL: "1"}).decode()
        assert output.splitlines()[:6] == ["script", "x", "hi there /home/alice", "alice", "42 1.16.0", "no-tomli"], \
            output
        dockerfile = (built.context / "Dockerfile").read_text()
        assert 'RUN ["sh", "-ec"' in dockerfile and "-r /opt/toolkit/requirements/requirements.txt" in dockerfile
        result = toolkit("verify", str(profile), "--target", f"docker-image://{built.tag}", "--json")
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
        doc = json.loads(result.stdout)
        ids = {c["id"]: c["status"] for c in doc["checks"]}
        for wanted in ("command:run.count", "command:run.guarded", "file:/var/lib/runcount/warm",
                       "pip_package:requests", "pip_package:six", "pip_package:toolkitrunprobe"):
            assert ids.get(wanted) == "passed", (wanted, ids)
        assert "pip_package:tomli" not in ids
    finally:
        if built.result is not None:
            from docker.errors import ImageNotFound
            try:
                docker_engine.images.remove(built.tag, force=True)
            except ImageNotFound:
                pass
