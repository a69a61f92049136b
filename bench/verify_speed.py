"""Verify speed: toolkit's one-probe suite against the same assertions written the plain testinfra way.

    python bench/verify_speed.py [--image TAG] [--repeats 5] [--no-write]

Side by side in one run, against ONE running container of the datascience-cpu image (built with
the integration tests' helper on local/debian:12, or --image):
  toolkit   the generated suite (pytest + testinfra, facts from one probe round trip), in process
  cli       `python -m toolkit verify PROFILE --target docker://CID`, a fresh interpreter each time
  plain     the same checks as a testinfra module with one remote command (or more: testinfra's
            modules) per assertion, run by pytest in process
Both suites run every CPU-tier check of the plan, Jupyter included (start, /api, token refused and
accepted, stop). Runs alternate; medians are reported. Targets: toolkit <= 3 s, plain/toolkit >= 3.
Results go to the "Verify speed" section of docs/benchmarks.md (other sections are left alone).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from docs_section import write_section  # noqa: E402

sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

from toolkit.plan.builder import build_plan  # noqa: E402
from toolkit.profile.loader import load_profile  # noqa: E402
from toolkit.verify import runner  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Verify speed"
TARGET_SECONDS, TARGET_RATIO = 3.0, 3.0

# The plain testinfra way: what a person writes by hand with testinfra's modules.
PLAIN_SUITE = r'''
import time
import pytest
from packaging.specifiers import SpecifierSet

CHECKS = {checks!r}


def _venv_bin(python):
    return python.rsplit("/", 1)[0]


def _jupyter(host, p):
    port, token, py = 18888, "plain-token", p["python"]
    url = "http://127.0.0.1:%d" % port
    ask = py + " -c 'import sys,urllib.request as u,urllib.error as e\n" \
        "r=u.Request(sys.argv[1]); r.add_header(\"Authorization\", \"token \"+sys.argv[2]) if sys.argv[2] else 0\n" \
        "try: print(u.urlopen(r, timeout=2).status)\n" \
        "except e.HTTPError as x: print(x.code)\n" \
        "except Exception: print(0)' %s %s"
    flag = " --allow-root" if host.user().name == "root" else ""
    pid = host.check_output("cd /tmp && JUPYTER_TOKEN=%s nohup %s/jupyter %s --no-browser --ip=127.0.0.1 "
                            "--port=%s" + flag + " >/tmp/plain-jupyter.log 2>&1 & echo $!",
                            token, _venv_bin(py), p["flavor"], str(port))
    try:
        for _ in range(200):
            if host.check_output(ask, url + "/api", "") == "200":
                break
            time.sleep(0.1)
        else:
            pytest.fail("jupyter did not answer")
        assert host.check_output(ask, url + "/api/contents", "") in ("401", "403")
        assert host.check_output(ask, url + "/api/contents", token) == "200"
    finally:
        host.run("kill %s", pid)
        host.run("for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 %s 2>/dev/null || exit 0; sleep 0.2; done", pid)


@pytest.mark.parametrize("c", CHECKS, ids=[c["id"] for c in CHECKS])
def test_plain(host, c):
    k, p = c["kind"], c["params"]
    if k == "os_release":
        assert host.system_info.distribution == p["distro"]
        assert host.system_info.release == p["version"]
    elif k == "os_package":
        assert host.package(p["name"]).is_installed
    elif k == "file":
        assert host.file(p["path"]).exists
    elif k == "git":
        assert host.exists("git")
        if p["lfs"]:
            assert host.run("git lfs version").rc == 0
    elif k == "git_config":
        assert host.check_output("git config --get %s", p["key"]) == p["value"]
    elif k == "user":
        u = host.user(p["name"])
        assert u.exists
        assert (u.uid, u.gid, u.home, u.shell) == (p["uid"], p["gid"], p["home"], p["shell"])
        assert ("sudo" in u.groups) == p["sudo"]
    elif k == "python_version":
        out = host.check_output("%s -c 'import sys; print(sys.version.split()[0])'", p["python"])
        assert out == p["version"] or out.startswith(p["version"] + ".")
    elif k == "venv":
        assert host.file(p["path"] + "/pyvenv.cfg").exists
    elif k == "pip_check":
        assert host.pip.check(pip_path=_venv_bin(p["python"]) + "/pip").rc == 0
    elif k == "pip_package":
        pkgs = host.pip.get_packages(pip_path=_venv_bin(p["python"]) + "/pip")
        name = next(n for n in pkgs if n.lower() == p["name"].lower())
        assert not p["specifier"] or pkgs[name]["version"] in SpecifierSet(p["specifier"])
        assert host.run("%s -c 'import %s'", p["python"], p["import_name"]).rc == 0
    elif k == "jupyter":
        _jupyter(host, p)
    elif k == "shm":
        assert int(host.check_output("df -m --output=size /dev/shm | tail -1")) >= p["min_mb"]
    elif k == "command":
        out = host.run(" ".join("'%s'" % a for a in p["argv"]))
        assert out.rc == 0 and (not p["expect"] or p["expect"] in out.stdout)
    else:
        pytest.fail("no plain equivalent for " + k)
'''


class Counter:
    """pytest plugin: passed/failed counts of one in-process run."""

    def __init__(self):
        self.outcomes = []

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.outcome != "passed":
            self.outcomes.append(report.outcome)


def run_plain(plan, cid: str, work: Path) -> tuple[float, dict]:
    checks = [c.to_dict() for c in plan.checks if c.tier == "cpu"]
    work.mkdir(parents=True, exist_ok=True)
    suite = work / "test_plain_suite.py"
    suite.write_text(PLAIN_SUITE.replace("{checks!r}", repr(checks)))
    (work / "pytest.ini").write_text("[pytest]\naddopts =\n")
    counter = Counter()
    started = time.perf_counter()
    pytest.main([str(suite), f"--hosts=docker://{cid}", "-c", str(work / "pytest.ini"), "--rootdir", str(work),
                 "-p", "no:cacheprovider", "-p", "no:terminal", "--import-mode=importlib"], plugins=[counter])
    seconds = time.perf_counter() - started
    for name in [n for n, m in sys.modules.items() if str(getattr(m, "__file__", "") or "").startswith(str(work))]:
        del sys.modules[name]
    return seconds, {o: counter.outcomes.count(o) for o in set(counter.outcomes)}


def run_toolkit(plan, cid: str) -> tuple[float, dict]:
    started = time.perf_counter()
    result = runner.run(plan, f"docker://{cid}")
    return time.perf_counter() - started, result.counts()


def run_cli(profile: Path, cid: str) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "toolkit", "verify", str(profile), "--target", f"docker://{cid}"],
                          capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, NO_COLOR="1"), check=False)
    return time.perf_counter() - started, proc.returncode


def datascience_image(work: Path, base: str, ca: Path | None) -> tuple[str, Path]:
    from tests.integration import harness, images

    client, why = harness.connect_engine()
    if client is None:
        sys.exit(f"no Docker engine: {why}")
    profile = images.datascience_profile(work, base, ca)
    return images.build_profile_image(client, profile, work, base).tag, profile


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout.strip()


def measure(args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="verify-speed-"))
    ca = Path(args.ca) if args.ca and Path(args.ca).is_file() else None
    image, profile = datascience_image(work / "image", args.base_image, ca)
    if args.image:
        image = args.image
    plan = build_plan(load_profile(profile))
    cid = docker("run", "-d", "--shm-size", "1g", "--entrypoint", "sleep", image, "infinity")
    times: dict[str, list[float]] = {"toolkit": [], "cli": [], "plain": []}
    counts: dict[str, object] = {}
    try:
        run_toolkit(plan, cid)          # warm-up: page cache, docker exec path
        for i in range(args.repeats):
            seconds, counts["toolkit"] = run_toolkit(plan, cid)
            times["toolkit"].append(seconds)
            seconds, counts["plain"] = run_plain(plan, cid, work / f"plain-{i}")
            times["plain"].append(seconds)
            seconds, counts["cli"] = run_cli(profile, cid)
            times["cli"].append(seconds)
    finally:
        docker("rm", "-f", cid)
    medians = {k: statistics.median(v) for k, v in times.items()}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return {"image": image, "checks": sum(c.tier == "cpu" for c in plan.checks), "times": times,
            "medians": medians, "counts": counts, "ratio": medians["plain"] / medians["toolkit"],
            "ratio_cli": medians["plain"] / medians["cli"], "repeats": args.repeats, "load": load}


def report(r: dict) -> str:
    m = r["medians"]
    engine = docker("version", "--format", "{{.Server.Version}}")
    rows = [("toolkit verify, in process (pytest + one probe)", m["toolkit"], r["counts"]["toolkit"]),
            ("toolkit verify CLI, fresh interpreter", m["cli"], f"exit {r['counts']['cli']}"),
            ("plain testinfra, one command per assertion", m["plain"], r["counts"]["plain"])]
    table = "\n".join(f"| {name} | {sec:.2f} s | {counts} |" for name, sec, counts in rows)
    runs = "\n".join(f"- {k}: " + ", ".join(f"{s:.2f}" for s in v) for k, v in r["times"].items())
    verdict = [(f"toolkit <= {TARGET_SECONDS:.0f} s (in process)", m["toolkit"] <= TARGET_SECONDS, f"{m['toolkit']:.2f} s"),
               (f"toolkit <= {TARGET_SECONDS:.0f} s (CLI, interpreter start included)", m["cli"] <= TARGET_SECONDS,
                f"{m['cli']:.2f} s"),
               (f"plain / toolkit >= {TARGET_RATIO:.0f}x (in process)", r["ratio"] >= TARGET_RATIO, f"{r['ratio']:.2f}x"),
               (f"plain / toolkit >= {TARGET_RATIO:.0f}x (CLI vs in-process plain)", r["ratio_cli"] >= TARGET_RATIO,
                f"{r['ratio_cli']:.2f}x")]
    verdicts = "\n".join(f"- {'met' if ok else '**missed**'}: {name} ({value})" for name, ok, value in verdict)
    return f"""{SECTION}

Measured {datetime.date.today().isoformat()} with `python bench/verify_speed.py --repeats {r['repeats']}`:
one running container of `{r['image']}` (the datascience-cpu profile built on local/debian:12,
started with `--shm-size 1g`), {r['checks']} CPU-tier checks, Jupyter start/auth/stop included.
Machine: {platform.machine()}, {os.cpu_count()} CPUs, Docker engine {engine}. Runs alternate; medians.

| run | median wall time | results |
|---|---|---|
{table}

Ratio plain / toolkit: **{r['ratio']:.2f}x** in process, {r['ratio_cli']:.2f}x against the CLI.

{verdicts}

All runs (seconds):
{runs}

Where the time goes: the probe runs its gatherers in parallel on the target, so the suite takes
about as long as its slowest check rather than the sum of all of them. The slowest are starting
the Jupyter server (which also proves `jupyterlab` imports, so it is not imported twice),
importing NumPy and Pandas in the venv's interpreter, and `pip check`. These are CPU-bound: on
{os.cpu_count()} CPUs with a load average of {r['load']} (other work on the machine) they compete
with each other, which is why single runs vary. The CLI adds a fresh interpreter importing toolkit
(and pytest) to the in-process time. The plain suite pays about 30 ms per `docker exec` plus one
Python start per import, pip list, pip check and HTTP poll, in series.
"""


def write_docs(text: str) -> None:
    write_section(SECTION, text, DOCS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-image", default="local/debian:12")
    ap.add_argument("--ca", default="/etc/ssl/certs/ca-certificates.crt", help="CA bundle the image must trust.")
    ap.add_argument("--image", help="Use this datascience-cpu image instead of building one.")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    args = ap.parse_args()
    text = report(measure(args))
    print(text)
    if not args.no_write:
        write_docs(text)


if __name__ == "__main__":
    main()
