"""jupyter.service on a real systemd host (tests/integration/systemd_host.py), over SSH on 127.0.0.1.

Applied as `deploy` (sudo with a password), with the native engine and with ansible-playbook: the unit runs
as the profile's user with the profile's env, the token is made on the host in a root-only file and is
nowhere else (rendered files, logs, state file, `ps`, the unit's journal), a second apply keeps it and
changes nothing, `toolkit jupyter-token` shows it, verify (as root) proves an unauthenticated request is
refused and the token accepted, and fails when the service is broken. Environment= values that validation
would refuse are written by the renderer anyway and read back from a real systemd exactly.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.model.steps import Environment, Service
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render.host_files import unit_text

from . import harness, systemd_host
from .harness import DEPLOY_PASSWORD

pytestmark = [pytest.mark.docker, pytest.mark.ssh]

REPO = Path(__file__).resolve().parents[2]
UNIT = "toolkit-jupyter.service"
ENV_FILE = "/etc/toolkit/jupyter.env"
PROFILE = """\
name: jupyter-host
description: the Jupyter service of a shared box
os: {distro: debian, version: "12"}
git: {enabled: false}
jupyter: {enabled: true, service: true}
env:
  MY_SETTING: "50%h x=1, done"
  PYTHONUNBUFFERED: "1"
"""
# The API as the probe asks it: status code without and with the token (stdlib only, run inside the host),
# waiting up to a minute for a server apply has just restarted.
API = ("import sys, time, urllib.request, urllib.error\n"
       "r = urllib.request.Request('http://127.0.0.1:8888/api/status')\n"
       "if len(sys.argv) > 1: r.add_header('Authorization', 'token ' + sys.argv[1])\n"
       "for _ in range(120):\n"
       "    try: print(urllib.request.urlopen(r, timeout=5).status); break\n"
       "    except urllib.error.HTTPError as e: print(e.code); break\n"
       "    except urllib.error.URLError: time.sleep(0.5)\n")


class Toolkit:
    """`python -m toolkit ...` with this test's ssh files and the sudo password in the environment."""

    def __init__(self, tmp: Path, target: harness.SshTarget):
        self.tmp, self.target = tmp, target
        self.profile = tmp / "profile.yaml"
        self.profile.write_text(PROFILE)
        self.ssh_config = tmp / "ssh_config"
        self.ssh_config.touch()
        self.logs = tmp / "logs"

    def ssh(self, user: str = "deploy") -> list[str]:
        return ["--target", f"ssh://{user}@127.0.0.1:{self.target.port}", "--known-hosts",
                str(self.target.known_hosts_path), "--ssh-config", str(self.ssh_config), "--identity",
                str(self.target.key_path)]

    def __call__(self, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO), TOOLKIT_SUDO_PASSWORD=DEPLOY_PASSWORD)
        return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, env=env,
                              timeout=600, check=False)

    def apply(self, *extra: str) -> subprocess.CompletedProcess:
        res = self("apply", str(self.profile), *self.ssh(), "--log-dir", str(self.logs), *extra)
        assert res.returncode == 0, res.stdout + res.stderr
        return res

    def verify_as_root(self) -> tuple[int, dict]:
        res = self("verify", str(self.profile), *self.ssh("root"), "--json", "-k", "jupyter_service")
        return res.returncode, json.loads(res.stdout)["checks"][0]


def root(target: harness.SshTarget, script: str, *args: str) -> str:
    rc, out = systemd_host.run_as_root(target.container, script, *args)
    assert rc == 0, out
    return out


def token_of(target: harness.SshTarget) -> str:
    return root(target, "sed -n 's/^JUPYTER_TOKEN=//p' " + ENV_FILE).strip()


def api(target: harness.SshTarget, *token: str) -> int:
    return int(root(target, 'c=$1; shift; exec python3 -c "$c" "$@"', API, *token).strip().splitlines()[-1])


def main_pid(target: harness.SshTarget) -> str:
    return root(target, f"systemctl show --property MainPID --value {UNIT}").strip()


def test_service_applied_token_private_kept_shown_and_verified(systemd_target, tmp_path):
    target = systemd_target()
    tk = Toolkit(tmp_path, target)
    first = tk.apply()                  # verify runs at the end, as deploy (who cannot read the token)
    assert re.search(r"changed\s+\d+/\d+\s+\S+\s+passed", first.stdout), first.stdout

    # the unit: enabled, active, as the profile's user, with the profile's env and the venv first on PATH
    assert root(target, f"systemctl is-enabled {UNIT}; systemctl is-active {UNIT}").split() == ["enabled", "active"]
    pid = main_pid(target)
    assert root(target, f"stat -c %U /proc/{pid}").strip() == "dev"
    environ = root(target, f"tr '\\0' '\\n' </proc/{pid}/environ").splitlines()
    assert "MY_SETTING=50%h x=1, done" in environ and "PYTHONUNBUFFERED=1" in environ
    assert "VIRTUAL_ENV=/opt/venv" in environ and any(e.startswith("PATH=/opt/venv/bin:") for e in environ)
    listening = [line.split()[1] for line in root(target, "cat /proc/net/tcp").splitlines()[1:]
                 if line.split()[3] == "0A" and line.split()[1].endswith(":22B8")]     # 8888 in hex
    assert listening == ["0100007F:22B8"]                                              # 127.0.0.1 only

    # the token: a root-only file made on the host, 48 hex digits
    assert root(target, f"stat -c %U:%G:%a {ENV_FILE}").strip() == "root:root:600"
    token = token_of(target)
    assert re.fullmatch(r"[0-9a-f]{48}", token), "the token file holds no generated token"
    assert f"JUPYTER_TOKEN={token}" in environ           # the server runs with that token...
    assert api(target) == 403 and api(target, token) == 200      # ...and refuses requests without it

    # nowhere else: journal (where Jupyter prints its URL, masked), ps, state file, logs, rendered files
    journal = root(target, f"journalctl --unit {UNIT} --no-pager --output cat")
    assert "/lab?token=..." in journal and token not in journal
    assert token not in root(target, "ps -eo args") and token not in root(target, "cat /var/lib/toolkit/state.json")
    assert all(token not in p.read_text() for p in tk.logs.iterdir())
    assert token not in first.stdout + first.stderr
    rendered = tmp_path / "rendered"
    assert tk("render", str(tk.profile), "-o", str(rendered), "--format", "all").returncode == 0
    assert all(token not in p.read_text(errors="replace") for p in rendered.rglob("*") if p.is_file())
    assert token not in root(target, "grep -rls -F -e \"$1\" /etc /home /tmp /var/lib/toolkit || true", token
                             ).replace(ENV_FILE, "")

    # a second apply changes nothing and keeps the token (and the server's process)
    second = tk.apply()
    assert re.search(r"unchanged\s+0/\d+\s+\S+\s+passed", second.stdout), second.stdout
    assert token_of(target) == token and main_pid(target) == pid

    # toolkit jupyter-token shows it (over SSH, sudo with the password) with the tunnel to use
    shown = tk("jupyter-token", *tk.ssh())
    assert shown.returncode == 0, shown.stderr
    assert f"token:    {token}" in shown.stdout
    assert f"ssh -N -L 8888:127.0.0.1:8888 -p {target.port} deploy@127.0.0.1" in shown.stdout
    assert f"http://127.0.0.1:8888/lab?token={token}" in shown.stdout and f"{UNIT} is active" in shown.stdout
    only = tk("jupyter-token", *tk.ssh(), "--token-only")
    assert only.stdout == token + "\n", only.stderr

    # verify as root reads the token: refused without, accepted with, not in the journal
    rc, result = tk.verify_as_root()
    assert rc == 0 and result["status"] == "passed", result
    assert "without the token: 403" in result["found"] and "with the token (read as root): 200" in result["found"]
    assert "the token is not in the journal" in result["found"] and token not in json.dumps(result)


def test_verify_fails_on_a_broken_service_and_apply_repairs_it(systemd_target, tmp_path):
    target = systemd_target()
    tk = Toolkit(tmp_path, target)
    tk.apply("--no-verify")
    token = token_of(target)

    root(target, f"systemctl stop {UNIT}")
    rc, result = tk.verify_as_root()
    assert rc == 3 and "is-active says inactive" in result["found"], result
    tk.apply("--no-verify")                                   # the probe sees it inactive: restarted
    assert tk.verify_as_root()[0] == 0 and token_of(target) == token

    # the file changed by hand, the server not restarted: the token on file is refused
    root(target, f"sed -i 's/^JUPYTER_TOKEN=.*/JUPYTER_TOKEN=handmade0123456789/' {ENV_FILE}")
    rc, result = tk.verify_as_root()
    assert rc == 3 and "is refused" in result["found"] and "systemctl restart" in result["hint"], result
    assert "handmade0123456789" not in json.dumps(result)

    # a new token: remove the file and apply again (as the README says)
    root(target, f"rm {ENV_FILE}")
    tk.apply("--no-verify")
    fresh = token_of(target)
    assert fresh not in (token, "handmade0123456789") and api(target, fresh) == 200 and api(target, token) == 403
    assert tk.verify_as_root()[0] == 0

    # a file others could read is made root-only again
    root(target, f"chmod 0644 {ENV_FILE}")
    res = tk.apply("--no-verify")
    assert "1/7" in res.stdout, res.stdout                              # the service step alone
    assert "readable by root only" in "".join(p.read_text() for p in tk.logs.iterdir())
    assert root(target, f"stat -c %a {ENV_FILE}").strip() == "600"
    assert token_of(target) == fresh


def test_ansible_engine_sets_up_the_same_service(systemd_target, tmp_path):
    target = systemd_target()
    tk = Toolkit(tmp_path, target)
    tk.apply("--engine", "ansible")
    token = token_of(target)
    assert re.fullmatch(r"[0-9a-f]{48}", token)
    assert root(target, f"systemctl is-active {UNIT}").strip() == "active" and api(target, token) == 200
    assert token not in root(target, f"journalctl --unit {UNIT} --no-pager --output cat")
    assert all(token not in p.read_text() for p in tk.logs.iterdir())
    second = tk.apply("--engine", "ansible")
    assert token_of(target) == token
    assert re.search(r"changed=0\b", second.stdout + second.stderr) or "unchanged" in second.stdout, second.stdout
    assert tk.verify_as_root()[0] == 0


# Log in with a password the way a browser does (the _xsrf cookie, then the form), then ask the API with
# the session cookie; prints the API's status (200: logged in). No token involved.
LOGIN = ("import sys, http.cookiejar, urllib.parse, urllib.request, urllib.error\n"
         "jar = http.cookiejar.CookieJar()\n"
         "web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))\n"
         "web.open('http://127.0.0.1:8888/login', timeout=10).read()\n"
         "xsrf = next(c.value for c in jar if c.name == '_xsrf')\n"
         "form = urllib.parse.urlencode({'password': sys.argv[1], '_xsrf': xsrf}).encode()\n"
         "try: web.open('http://127.0.0.1:8888/login?next=%2Flab', form, timeout=10).read()\n"
         "except urllib.error.HTTPError: pass\n"
         "r = urllib.request.Request('http://127.0.0.1:8888/api/status', headers={'X-XSRFToken': xsrf})\n"
         "try: print(web.open(r, timeout=10).status)\n"
         "except urllib.error.HTTPError as e: print(e.code)\n")


def test_password_mode_takes_the_hash_from_the_same_file(systemd_target, tmp_path):
    """auth: password as the README says: the admin appends JUPYTER_PASSWORD_HASH (argon2, with $ in it) to
    the root-only file and restarts; the password logs in, a wrong one does not, the token still works."""
    target = systemd_target()
    tk = Toolkit(tmp_path, target)
    tk.profile.write_text(PROFILE.replace("service: true}", "service: true, auth: password}"))
    tk.apply("--no-verify")
    token = token_of(target)
    root(target, "/opt/venv/bin/python -c 'from jupyter_server.auth import passwd; "
                 "print(\"JUPYTER_PASSWORD_HASH=\" + repr(passwd(\"correct horse\")))' >>" + ENV_FILE
                 + f" && systemctl restart {UNIT}")
    assert "$argon2" in root(target, f"cat {ENV_FILE}")
    login = 'c=$1; shift; exec python3 -c "$c" "$@"'
    assert api(target, token) == 200
    assert root(target, login, LOGIN, "correct horse").strip().splitlines()[-1] == "200"
    assert root(target, login, LOGIN, "wrong horse").strip().splitlines()[-1] == "403"
    shown = tk("jupyter-token", *tk.ssh())
    assert "password: set" in shown.stdout and "argon2" not in shown.stdout, shown.stdout + shown.stderr
    assert tk.apply("--no-verify") and "JUPYTER_PASSWORD_HASH" in root(target, f"cat {ENV_FILE}")   # kept


HOSTILE_VALUES = {
    "PERCENT": "%h %u %% 100%", "DOLLAR": "$HOME ${PATH} $$", "QUOTES": "say \"hi\" it's",
    "BACKSLASH": "C:\\dir\\n stays", "NEWLINE": "one\nExecStartPre=/bin/touch /tmp/PWNED\ntwo", "TAB": "a\tb",
    "UNICODE": "café ☃",
}


def test_environment_values_validation_would_refuse_reach_a_real_service_exactly(systemd_target, tmp_path):
    """The renderer's quoting on its own (validation bypassed): systemd hands the process each value as is."""
    target = systemd_target()
    (tmp_path / "p.yaml").write_text(PROFILE)
    plan = build_plan(load_profile(tmp_path / "p.yaml"))
    service = next(s for s in plan.steps if isinstance(s, Service))
    service = dataclasses.replace(service, host_command=("/bin/sleep", "1000"), secret_file="", secret_variable="",
                                  name="hostile", user="deploy")
    env = Environment("env", "hostile values", variables=tuple(HOSTILE_VALUES.items()))
    text = unit_text(dataclasses.replace(plan, steps=(service, env)), service)
    root(target, 'printf "%s" "$1" >/etc/systemd/system/toolkit-hostile.service && systemctl daemon-reload '
                 "&& systemctl start toolkit-hostile.service", text)
    pid = root(target, "systemctl show --property MainPID --value toolkit-hostile.service").strip()
    assert pid != "0", root(target, "systemctl status toolkit-hostile.service || true")
    raw = target.container.exec_run(["cat", f"/proc/{pid}/environ"], user="root").output
    environ = dict(item.split("=", 1) for item in raw.decode().split("\0") if item)
    for name, value in HOSTILE_VALUES.items():
        assert environ.get(name) == value, (name, environ.get(name))
    assert root(target, "systemctl show --property ExecStartPre --value toolkit-hostile.service").strip() == ""
