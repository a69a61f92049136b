"""Fleet scale: what toolkit itself costs per host, apart from the hosts' own work, at 1 to 64 hosts.

    python bench/fleet.py [--sizes 1,8,32,64] [--latency-ms 50] [--latency-hosts 32] [--no-write]

A profile whose host work is tiny (Debian 12: a folder, a venv; the packages it needs are already in the
integration tests' sshd image) is applied once to every host (converge), then RE-applied, with the native
engine (`python -m toolkit apply --no-verify --forks N --json`), to 1, 8, 32 and 64 of those converged sshd
containers (published on 127.0.0.1; `deploy` with sudo that asks for its password). On a converged host a
re-apply is only probes, so the re-apply measures toolkit: SSH connections, host-key checks, sudo, one probe
round per step, results and logs.

Reported per run: wall time, the controller's CPU seconds (ru_utime + ru_stime of the toolkit process, from
os.wait4: interpreter start and imports included) and per host, the marginal CPU per extra host ((CPU at N -
CPU at 1) / (N - 1): what one more host costs, start-up excluded), peak RSS (ru_maxrss), and the hosts' CPU.

Latency: the issue asked for netem in each container's network namespace; this sandbox's kernel has no
sch_netem ("Specified qdisc kind is unknown", and no modprobe), so the first 32 hosts are reached through
bench/delay_proxy.py, a loopback relay that forwards every chunk 50 ms late in each direction (a round trip
100 ms longer); then 1 and 32 hosts are re-applied again. Fan-out should overlap that waiting.

Targets (issue 21): controller CPU <= 0.05 s per host on re-apply; 64 converged hosts re-applied within 3x the
time of one; peak memory < 150 MB at 64; with 50 ms added latency, 32 hosts within 2x one host.
Results go to the "Fleet scale" section of docs/benchmarks.md (other sections are left alone).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from docs_section import publish  # noqa: E402
from fanout import Fleet, native, summary  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.integration import harness  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Fleet scale"
PROFILE = """\
name: fleet-tiny
description: tiny host work for the fleet benchmark
os: {distro: debian, version: "12"}
git: {enabled: false}
user: {create: false}
directories:
  - {path: /srv/fleet, owner: root, group: root, mode: "0755"}
"""


def delayed(fleet: Fleet, targets, delay_ms: int, work: Path):
    """The targets behind bench/delay_proxy.py (every chunk each way DELAY_MS late); their known_hosts lines
    copied for the relay's ports. Returns (relay process, delayed targets)."""
    relay = subprocess.Popen([sys.executable, str(ROOT / "bench" / "delay_proxy.py"), str(delay_ms),
                              *(str(t.port) for t in targets)], stdout=subprocess.PIPE, text=True)
    ports: dict[int, int] = {}
    for line in relay.stdout:
        if line.strip() == "READY":
            break
        listen, target = map(int, line.split())
        ports[target] = listen
    lines = fleet.known_hosts.read_text().splitlines()
    with fleet.known_hosts.open("a") as f:
        for target, listen in ports.items():
            f.writelines(line.replace(f"[127.0.0.1]:{target} ", f"[127.0.0.1]:{listen} ") + "\n"
                         for line in lines if line.startswith(f"[127.0.0.1]:{target} "))
    return relay, [dataclasses.replace(t, port=ports[t.port]) for t in targets]


def rtt_ms(port: int) -> float:
    """Time to sshd's banner over a fresh TCP connection, in milliseconds (what the delay adds)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.recv(64)
    return 1000 * (time.monotonic() - start)


def reapply(fleet: Fleet, profile: Path, hosts, work: Path, name: str, password: str) -> dict:
    before = fleet.cpu_seconds(hosts)
    result = native(fleet, profile, hosts, work / name, password)
    result["host_cpu"] = fleet.cpu_seconds(hosts) - before
    result["hosts"] = len(hosts)
    out = (work / name).with_suffix(".out")
    result["summary"] = summary(out.read_text() if out.exists() else "")
    return result


FLOOR_REPEAT = 30


def host_floor(fleet: Fleet, target, password: str) -> dict[str, float]:
    """Host CPU (ms, its cgroup) of what any SSH apply costs a host, toolkit or not: a connection that only
    authenticates; one running `true`; one running `sudo -S true` with the password (PAM checks its hash).
    FLOOR_REPEAT of each on one converged host, one after another."""
    ops = {"connection": lambda c: None, "connection + a command": lambda c: harness.run_ssh(c, "true"),
           "connection + sudo with a password": lambda c: harness.run_ssh(c, "sudo -S -p '' true", password + "\n")}
    out = {}
    for name, op in ops.items():
        before = fleet.cpu_seconds([target])
        for _ in range(FLOOR_REPEAT):
            client = harness.paramiko_connect(target, known_hosts=fleet.known_hosts)
            op(client)
            client.close()
        time.sleep(0.5)     # sshd's session process ends after the client has gone
        out[name] = 1000 * (fleet.cpu_seconds([target]) - before) / FLOOR_REPEAT
    return out


def measure(args) -> dict:
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    work = Path(tempfile.mkdtemp(prefix="toolkit-bench-fleet-"))
    profile = work / "profile.yaml"
    profile.write_text(PROFILE)
    fleet = Fleet(work)
    password = harness.DEPLOY_PASSWORD
    runs: dict[str, dict] = {}
    try:
        hosts = fleet.start(max(sizes), "fleet")
        runs[f"converge-{len(hosts)}"] = reapply(fleet, profile, hosts, work, f"converge-{len(hosts)}", password)
        for n in sizes:
            runs[f"re-{n}"] = reapply(fleet, profile, hosts[:n], work, f"re-{n}", password)
        floor = host_floor(fleet, hosts[0], password)
        relay, slow = delayed(fleet, hosts[:max(args.latency_hosts, 1)], args.latency_ms, work)
        try:
            rtt = (rtt_ms(hosts[0].port), rtt_ms(slow[0].port))
            for n in (1, len(slow)):
                runs[f"re-{n}-delay"] = reapply(fleet, profile, slow[:n], work, f"re-{n}-delay", password)
        finally:
            relay.kill()
    finally:
        fleet.remove()
    return {"runs": runs, "sizes": sizes, "work": work, "latency": args.latency_ms, "rtt": rtt, "floor": floor}


def marginal(runs: dict, n: int, key: str = "re") -> float:
    one, many = runs[f"{key}-1"]["cpu"], runs[f"{key}-{n}"]["cpu"]
    return (many - one) / (n - 1) if n > 1 else 0.0


def verdicts(r: dict) -> list[tuple[str, bool, str]]:
    runs, top = r["runs"], max(r["sizes"])
    one, big = runs["re-1"], runs[f"re-{top}"]
    per_host = big["cpu"] / top
    slow_n = max(k for k in (int(name.split("-")[1]) for name in runs if name.endswith("-delay")))
    d1, dn = runs["re-1-delay"]["seconds"], runs[f"re-{slow_n}-delay"]["seconds"]
    rss = max(x["rss_mb"] for name, x in runs.items() if name.startswith("re-"))
    return [
        (f"controller CPU <= 0.05 s per host on re-apply ({top} hosts, start-up included)", per_host <= 0.05,
         f"{per_host:.3f} s/host; marginal {marginal(runs, top):.3f} s per extra host"),
        (f"{top} converged hosts re-applied within 3x the time of one", big["seconds"] <= 3 * one["seconds"],
         f"{big['seconds'] / one['seconds']:.2f}x"),
        (f"peak memory < 150 MB at {top} hosts", rss < 150, f"{rss:.0f} MB"),
        (f"with {r['latency']} ms added latency, {slow_n} hosts within 2x one host", dn <= 2 * d1,
         f"{dn / d1:.2f}x"),
    ]


def table(r: dict) -> str:
    rows = ["| run | hosts | wall time | controller CPU | CPU per host | marginal CPU per extra host | peak RSS "
            "| hosts' CPU | exit | hosts' results |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, x in r["runs"].items():
        n = x["hosts"]
        key = "re-" if name.startswith("re-") and not name.endswith("-delay") else None
        extra = f"{marginal(r['runs'], n):.3f} s" if key and n > 1 else "-"
        rows.append(f"| {name} | {n} | {x['seconds']:.2f} s | {x['cpu']:.2f} s | {x['cpu'] / n:.3f} s | {extra} "
                    f"| {x['rss_mb']:.0f} MB | {x['host_cpu']:.1f} s | {x['rc']} | {x['summary']} |")
    return "\n".join(rows)


def report(r: dict) -> str:
    date = datetime.date.today().isoformat()
    checks = "\n".join(f"- {'met' if ok else '**missed**'}: {what} ({value})" for what, ok, value in verdicts(r))
    sizes = ",".join(map(str, r["sizes"]))
    plain, delayed = r["rtt"]
    return f"""{SECTION}

Measured {date} with `python bench/fleet.py --sizes {sizes} --latency-ms {r['latency']}`: a profile whose host
work is tiny (Debian 12, a folder and a venv; its packages are already in the image) applied once to every
sshd container (`converge`), then re-applied with the native engine (`apply --no-verify --forks N`) to the
first N of those converged hosts: a re-apply is only connections, sudo and probes, so it measures toolkit.
`-delay` runs: the hosts are reached through bench/delay_proxy.py, which forwards every chunk {r['latency']} ms
late each way (the kernel here has no netem; sshd's banner over a new connection took {plain:.1f} ms direct,
{delayed:.1f} ms through the relay).
Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; the containers run on the
same machine as the controller. Controller CPU is the toolkit process's own (os.wait4), interpreter start and
imports included; "marginal" is (CPU at N - CPU at 1) / (N - 1).

{table(r)}

{checks}

{cpu_note(r)}
"""


def cpu_note(r: dict) -> str:
    """What the hosts' own CPU work forces on this machine at the largest size."""
    runs, cpus, top = r["runs"], os.cpu_count() or 1, max(r["sizes"])
    big = runs[f"re-{top}"]
    floor = "; ".join(f"{name} {ms:.0f} ms" for name, ms in r["floor"].items())
    per_host = 1000 * big["host_cpu"] / top
    return (f"What any SSH apply costs a host, measured on one of them ({FLOOR_REPEAT} of each): {floor} of its "
            f"CPU. A toolkit re-apply is one connection, an SFTP session and sudo running setup.sh's probes: "
            f"{per_host:.0f} ms per host in re-{top}.\n\n"
            f"The hosts are containers on this machine's {cpus} CPUs: during re-{top} their own work (sshd, sudo, "
            f"the probes) took {big['host_cpu']:.1f} s of CPU, so no controller can re-apply {top} of them here in "
            f"under {big['host_cpu'] / cpus:.1f} s, nor with toolkit's own {big['cpu']:.1f} s of CPU (for all {top}) on "
            f"the same CPUs in under {(big['host_cpu'] + big['cpu']) / cpus:.1f} s; 3x re-1 is "
            f"{3 * runs['re-1']['seconds']:.1f} s.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,8,32,64")
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--latency-hosts", type=int, default=32)
    ap.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    args = ap.parse_args()
    result = measure(args)
    publish(report(result), SECTION, args.no_write, result["work"], DOCS)


if __name__ == "__main__":
    main()
