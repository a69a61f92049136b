"""Fan-out: toolkit's native apply to 1 and 8 hosts, a re-apply, and ansible-playbook on 8, in one run.

    python bench/fanout.py [--hosts 8] [--no-write]

Every apply is of the same light profile (Debian 12: apt jq, a venv with six, user alice, git config,
this machine's CA bundle for the TLS-intercepting proxy) to FRESH sshd containers of the integration
tests' image (published on 127.0.0.1 only, removed afterwards). Runs, in this order:
  native-1       python -m toolkit apply --no-verify to 1 fresh host
  native-8       the same to 8 fresh hosts (--forks 8)
  native-re-8    the same again on those 8 (nothing left to do)
  ansible-8      ansible-playbook with toolkit's rendered playbook (forks 8) on 8 fresh hosts
  ansible-re-8   ansible-playbook again on those 8
Wall time is the command's; peak memory is ru_maxrss of that process (os.wait4). Targets: 8 hosts
<= 2.5x the time of 1; re-apply on 8 <= 5% of the first apply on 8; toolkit on 8 <= half of
Ansible's time on 8; toolkit's peak memory < 150 MB. Results go to the "Fan-out" section of
docs/benchmarks.md (other sections are left alone).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from docs_section import publish  # noqa: E402

sys.path.insert(0, str(ROOT))

from tests.integration import harness  # noqa: E402
from toolkit.executors import ansible_engine  # noqa: E402
from toolkit.plan.builder import build_plan  # noqa: E402
from toolkit.profile.loader import load_profile  # noqa: E402
from toolkit.render import ansible as ansible_render  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Fan-out"
PROFILE = """\
name: fanout-light
description: light profile for the fan-out benchmark
os: {distro: debian, version: "12"}
python: {version: system, venv: /opt/venv}
packages: {apt: [jq], pip: ["six==1.16.0"]}
user: {name: alice, uid: 1500, gid: 1500}
git: {enabled: true, config: {init.defaultBranch: main}}
network: {ca_certificates: [host-ca.crt]}
"""


class Fleet:
    """sshd containers of one benchmark run, with one known_hosts file for all of them."""

    def __init__(self, work: Path):
        self.client, why = harness.connect_engine()
        if self.client is None:
            sys.exit(f"no Docker engine: {why} (scripts/ensure-docker.sh)")
        self.image = harness.ensure_sshd_image(self.client, harness.base_image_name())
        self.key, self.public = harness.generate_keypair(work / "keys")
        self.work, self.session = work, uuid.uuid4().hex
        self.known_hosts = work / "known_hosts"
        self.known_hosts.write_text("")

    def start(self, n: int, tag: str) -> list[harness.SshTarget]:
        targets = [harness.start_sshd_container(self.client, self.image, self.public, self.key, self.work,
                                                self.session, name_suffix=f"fan-{tag}{i}") for i in range(n)]
        with self.known_hosts.open("a") as f:
            for t in targets:
                f.write(t.known_hosts_path.read_text())
        return targets

    def cpu_seconds(self, targets) -> float:
        """CPU time the containers have used so far (their cgroups, through the engine)."""
        total = 0
        for t in targets:
            stats = t.container.stats(stream=False, one_shot=True)
            total += stats["cpu_stats"]["cpu_usage"]["total_usage"]
        return total / 1e9

    def remove(self) -> None:
        harness.remove_leftover_containers(self.client, self.session)


def timed(argv: list[str], env: dict[str, str], stdin: str | None = None, log: Path | None = None) -> dict:
    """Run argv; wall seconds, exit status and the process's peak RSS in MB (os.wait4's rusage)."""
    with open(log or os.devnull, "w") as out:
        start = time.monotonic()
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=out,
                                stderr=subprocess.STDOUT, text=True)
        proc.stdin.write(stdin or "")
        proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": seconds, "rc": proc.returncode, "rss_mb": usage.ru_maxrss / 1024,
            "cpu": usage.ru_utime + usage.ru_stime}


def on_hosts(fleet: Fleet, targets, run) -> dict:
    """run() plus the CPU time the hosts spent meanwhile."""
    before = fleet.cpu_seconds(targets)
    result = run()
    result["host_cpu"] = fleet.cpu_seconds(targets) - before
    return result


def native(fleet: Fleet, profile: Path, targets, logs: Path, password: str) -> dict:
    argv = [sys.executable, "-m", "toolkit", "apply", str(profile), "--no-verify", "--forks", str(len(targets)),
            "--known-hosts", str(fleet.known_hosts), "--identity", str(fleet.key), "--log-dir", str(logs), "--json"]
    for t in targets:
        argv += ["--host", f"ssh://{t.user}@127.0.0.1:{t.port}"]
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(ROOT), TOOLKIT_SUDO_PASSWORD=password)
    return timed(argv, env, log=logs.with_suffix(".out"))


def ansible_dir(plan, fleet: Fleet, targets, folder: Path, forks: int) -> list[str]:
    """The rendered playbook, an inventory and ansible.cfg (the engine's own) in folder; the argv to run."""
    from toolkit.executors.inventory import Host

    ansible_render.render(plan).write(folder)
    hosts = [Host(name=f"h{i}", hostname="127.0.0.1", port=t.port, user=t.user, identity=str(fleet.key))
             for i, t in enumerate(targets)]
    ansible_engine.write_inventory(folder / "inventory.yml", hosts, str(fleet.known_hosts))
    (folder / "ansible.cfg").write_text(ansible_engine.ansible_cfg(forks, folder / "cp"))
    return [ansible_engine.find_ansible_playbook(), "-i", str(folder / "inventory.yml"),
            str(folder / "ansible" / "playbook.yml"), "--become-password-file", "-"]


def measure(args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="toolkit-bench-fanout-"))
    ca = harness.host_ca_bundle()
    shutil.copy(ca, work / "host-ca.crt") if ca else None
    text = PROFILE if ca else PROFILE.replace("network: {ca_certificates: [host-ca.crt]}\n", "")
    (work / "profile.yaml").write_text(text)
    plan = build_plan(load_profile(work / "profile.yaml"))
    fleet = Fleet(work)
    password = harness.DEPLOY_PASSWORD
    runs: dict[str, dict] = {}
    try:
        profile = work / "profile.yaml"
        one = fleet.start(1, "one")
        runs["native-1"] = on_hosts(fleet, one, lambda: native(fleet, profile, one, work / "native-1", password))
        many = fleet.start(args.hosts, "native")
        for name in ("native-8", "native-re-8"):
            runs[name] = on_hosts(fleet, many, lambda n=name: native(fleet, profile, many, work / n, password))
        ans = fleet.start(args.hosts, "ansible")
        argv = ansible_dir(plan, fleet, ans, work / "ansible-run", args.hosts)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        env |= {"ANSIBLE_CONFIG": str(work / "ansible-run" / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
        for name in ("ansible-8", "ansible-re-8"):
            runs[name] = on_hosts(fleet, ans, lambda n=name: timed(argv, env, password + "\n", work / f"{n}.out"))
    finally:
        fleet.remove()
    for name, r in runs.items():
        out = work / f"{name}.out"
        r["summary"] = summary(out.read_text() if out.exists() else "")
    return {"runs": runs, "hosts": args.hosts, "work": work, "steps": len(plan.steps)}


def summary(output: str) -> str:
    """What a run did, from its output: toolkit's result counts or Ansible's recap."""
    recap = re.findall(r"^\S+\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output, re.M)
    if recap:
        changed = sum(int(c) > 0 for c, _, _ in recap)
        bad = sum(int(u) + int(f) > 0 for _, u, f in recap)
        return f"{changed} changed, {len(recap) - changed - bad} unchanged, {bad} failed"
    start = output.rfind("\n[\n")
    try:
        statuses = [h["status"] for h in json.loads(output[start + 1:])] if start >= 0 else []
    except ValueError:
        statuses = []
    return ", ".join(f"{statuses.count(s)} {s}" for s in ("changed", "unchanged", "failed", "unreachable")
                     if statuses.count(s)) or "see log"


def verdicts(r: dict) -> list[tuple[str, bool, str]]:
    run = r["runs"]
    n1, n8, re8, a8 = (run[k]["seconds"] for k in ("native-1", "native-8", "native-re-8", "ansible-8"))
    rss = max(run[k]["rss_mb"] for k in ("native-1", "native-8", "native-re-8"))
    h = r["hosts"]
    return [
        (f"{h} hosts <= 2.5x the wall time of 1", n8 <= 2.5 * n1, f"{n8 / n1:.2f}x"),
        (f"re-apply on {h} <= 5% of the first apply", re8 <= 0.05 * n8, f"{100 * re8 / n8:.1f}%"),
        (f"toolkit apply on {h} <= half of Ansible's wall time", n8 <= 0.5 * a8, f"{100 * n8 / a8:.0f}%"),
        ("toolkit peak memory < 150 MB", rss < 150, f"{rss:.0f} MB"),
    ]


def table(r: dict) -> str:
    rows = ["| run | hosts | wall time | controller CPU | hosts' CPU | peak RSS | exit | hosts' results |",
            "|---|---|---|---|---|---|---|---|"]
    for name, x in r["runs"].items():
        hosts = 1 if name == "native-1" else r["hosts"]
        rows.append(f"| {name} | {hosts} | {x['seconds']:.1f} s | {x['cpu']:.1f} s | {x['host_cpu']:.1f} s "
                    f"| {x['rss_mb']:.0f} MB | {x['rc']} | {x['summary']} |")
    return "\n".join(rows)


def report(r: dict) -> str:
    date = datetime.date.today().isoformat()
    checks = "\n".join(f"- {'met' if ok else '**missed**'}: {what} ({value})" for what, ok, value in verdicts(r))
    return f"""{SECTION}

Measured {date} with `python bench/fanout.py --hosts {r['hosts']}`: the light profile ({r['steps']} plan steps:
Debian 12, apt `jq`, a venv `/opt/venv` with `six`, user `alice`, git config, this machine's CA bundle)
applied over SSH to FRESH sshd containers of the integration tests' image (published on 127.0.0.1;
user `deploy` with sudo that asks for its password). One run each, in the order of the table.
Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, containers on the same machine, apt
over http from deb.debian.org and pip through the TLS-intercepting proxy, so network time is in every number.

- native: `python -m toolkit apply PROFILE --no-verify --forks N --host ssh://deploy@127.0.0.1:PORT ...`
  (a fresh interpreter; verification left out so that both sides only apply).
- ansible: `ansible-playbook` with toolkit's rendered `ansible/playbook.yml`, the `--engine ansible`
  inventory and ansible.cfg (forks {r['hosts']}, pipelining on, strict host keys), sudo password on stdin.
- peak RSS: ru_maxrss of the measured process from os.wait4 (for ansible-playbook: its largest process,
  not the sum of its forks).

{table(r)}

{checks}

{cpu_note(r)}
"""


def cpu_note(r: dict) -> str:
    """How much of the 8-host wall time the hosts' own CPU work forces on this machine."""
    run, cpus, h = r["runs"], os.cpu_count() or 1, r["hosts"]
    floor = run["native-8"]["host_cpu"] / cpus
    return (f"The {h} containers share this machine's {cpus} CPUs with the controller: during native-{h} they used "
            f"{run['native-8']['host_cpu']:.0f} s of CPU (apt, dpkg, pip, venv), so no controller can finish in "
            f"under {floor:.0f} s here (2.5x native-1 is {2.5 * run['native-1']['seconds']:.0f} s); toolkit "
            f"itself used {run['native-8']['cpu']:.1f} s of CPU. On real hosts each has its own CPUs.")



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, default=8)
    ap.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    args = ap.parse_args()
    result = measure(args)
    publish(report(result), SECTION, args.no_write, result["work"], DOCS)


if __name__ == "__main__":
    main()
