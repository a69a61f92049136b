"""Lock speed: toolkit's pip resolution (uv, for the target) against pip-tools' `pip-compile --generate-hashes`.

    python bench/lock.py [--repeat 1] [--no-write]

Side by side in one run, on the pip requirements of the bundled profiles pytorch-cuda, tensorflow-cuda
and datascience-cpu (their PipInstall steps, taken from the plan):
  toolkit      toolkit.lock.pip_resolve.resolve(): every step of the venv in one resolution for the
               profile's target (Python version, manylinux level of its OS release), hashes included
  pip-compile  `pip-compile --generate-hashes --allow-unsafe` on the same requirements in one file,
               resolving for this machine's Python and platform (pip-compile has no target option)
Each tool runs "cold" (empty caches of its own) then "warm" (the same caches again); tools alternate.
download.pytorch.org cannot be reached here: the PyTorch step resolves torch from PyPI (whose
Linux x86_64 torch 2.7.1 wheel is the CUDA 12.6 build the profile's cu126 index serves) for both tools.
Target: toolkit's time at most a third of pip-compile's. Results go to the "Lock (pip)" section of
docs/benchmarks.md (other sections are left alone).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from docs_section import write_section  # noqa: E402

sys.path.insert(0, str(ROOT))

from toolkit.lock.model import PipRequest, PipTarget  # noqa: E402
from toolkit.lock.pip_resolve import resolve, uv_binary  # noqa: E402
from toolkit.lock.platforms import pip_platform  # noqa: E402
from toolkit.model.steps import PipInstall  # noqa: E402
from toolkit.plan.builder import build_plan  # noqa: E402
from toolkit.profile.loader import load_profile  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Lock (pip)"
PROFILES = ("pytorch-cuda", "tensorflow-cuda", "datascience-cpu")
UNREACHABLE = ("download.pytorch.org",)
TARGET_RATIO = 1 / 3


def requests_of(name: str) -> tuple[list[PipRequest], PipTarget, list[str]]:
    plan = build_plan(load_profile(ROOT / "profiles" / f"{name}.yaml"))
    t = plan.target
    notes, out = [], []
    for step in plan.steps:
        if not isinstance(step, PipInstall) or step.venv != t.venv:
            continue
        index = step.index_url
        if index and any(host in index for host in UNREACHABLE):
            notes.append(f"{step.component}: {index} cannot be reached here; both tools resolve this step from PyPI "
                         "(whose Linux x86_64 torch wheels are CUDA builds; 2.7.1's is the cu126 one)")
            index = None
        out.append(PipRequest(f"{step.component}: {step.title}", step.requirements, index_url=index,
                              extra_index_urls=step.extra_index_urls, venv=step.venv))
    return out, PipTarget(t.python_version, pip_platform(t.distro, t.os_version, platform.machine())), notes


def run_toolkit(reqs: list[PipRequest], target: PipTarget, cache: Path) -> dict:
    env = dict(os.environ, UV_CACHE_DIR=str(cache))
    start = time.perf_counter()
    locked = resolve(reqs, target, env=env)
    return {"seconds": time.perf_counter() - start, "packages": len(locked),
            "hashes": sum(len(p.hashes) for p in locked)}


def run_pip_compile(reqs: list[PipRequest], work: Path, cache: Path) -> dict:
    (work / "requirements.in").write_text("".join(f"{r}\n" for req in reqs for r in req.requirements))
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_CACHE_DIR=str(cache / "pip"))
    for key in [k for k in env if k.startswith("PIP_") and k not in ("PIP_CONFIG_FILE", "PIP_CACHE_DIR", "PIP_CERT")]:
        del env[key]          # this machine's pip settings (local indexes, constraints) stay out
    cmd = [str(Path(sys.executable).with_name("pip-compile")), "--quiet", "--no-config", "--generate-hashes",
           "--allow-unsafe", "--no-header", "--cache-dir", str(cache / "pip-tools"),
           "-o", "requirements.txt", "requirements.in"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"pip-compile failed:\n{proc.stderr[-3000:]}")
    text = (work / "requirements.txt").read_text()
    return {"seconds": seconds, "packages": len(re.findall(r"^\S+==", text, re.M)),
            "hashes": text.count("--hash=sha256:")}


def measure(name: str, repeat: int) -> dict:
    reqs, target, notes = requests_of(name)
    runs: dict[str, dict[str, list[dict]]] = {"toolkit": {"cold": [], "warm": []},
                                              "pip-compile": {"cold": [], "warm": []}}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-lock-") as tmp:
            caches = {tool: Path(tmp) / tool for tool in runs}
            for kind in ("cold", "warm"):
                print(f"{name}: toolkit {kind} ...", flush=True)
                runs["toolkit"][kind].append(run_toolkit(reqs, target, caches["toolkit"]))
                print(f"{name}: pip-compile {kind} ...", flush=True)
                work = Path(tmp) / f"pc-{kind}"
                work.mkdir()
                runs["pip-compile"][kind].append(run_pip_compile(reqs, work, caches["pip-compile"]))
                print(f"{name}: {kind} toolkit {runs['toolkit'][kind][-1]['seconds']:.1f} s, pip-compile "
                      f"{runs['pip-compile'][kind][-1]['seconds']:.1f} s", flush=True)
    return {"requests": reqs, "target": target, "notes": notes, "runs": runs}


def fastest(rows: list[dict]) -> dict:
    return min(rows, key=lambda r: r["seconds"])


def table(results: dict[str, dict]) -> tuple[str, list[tuple[str, bool, str]]]:
    rows = [("profile (target)", "run", "toolkit", "pip-compile", "toolkit / pip-compile",
             "packages (toolkit / pip-compile)", "hashes (toolkit / pip-compile)")]
    verdicts = []
    for name, res in results.items():
        t = res["target"]
        for kind in ("cold", "warm"):
            tk, pc = fastest(res["runs"]["toolkit"][kind]), fastest(res["runs"]["pip-compile"][kind])
            ratio = tk["seconds"] / pc["seconds"]
            verdicts.append((f"{name} {kind}", ratio <= TARGET_RATIO, f"{ratio:.2f}"))
            rows.append((f"{name} (Python {t.python_version}, {t.platform})", kind, f"{tk['seconds']:.1f} s",
                         f"{pc['seconds']:.1f} s", f"{ratio:.2f}", f"{tk['packages']} / {pc['packages']}",
                         f"{tk['hashes']} / {pc['hashes']}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines), verdicts


def _version(cmd: list[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]


def report(results: dict[str, dict], repeat: int) -> str:
    text, verdicts = table(results)
    checks = "\n".join(f"- {'met' if ok else '**missed**'}: toolkit <= 1/3 of pip-compile, {name} ({value})"
                       for name, ok, value in verdicts)
    steps = "\n".join(f"- {name}: " + "; ".join(f"`{r.step}` {', '.join(r.requirements)}"
                                                for r in res["requests"]) for name, res in results.items())
    notes = "\n".join(f"- {name}: {n}" for name, res in results.items() for n in res["notes"])
    uv = _version([uv_binary(), "--version"])
    pc = _version([str(Path(sys.executable).with_name("pip-compile")), "--version"])
    return f"""{SECTION}

Measured {datetime.date.today().isoformat()} with `python bench/lock.py`: {repeat} run(s) of each, tools alternating;
the table shows the fastest. Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},
PyPI through a TLS-intercepting proxy; {uv}, {pc}. Network and PyPI vary: read the ratios.

What is locked: the pip requirements of each bundled profile's PipInstall steps (from its plan):
{steps}

"toolkit" is `toolkit.lock.pip_resolve.resolve()`: the steps resolved together by `uv pip compile` for the
profile's target (Python version and the manylinux level of its OS release's glibc), then a second
`--no-deps` uv run on the exact pins that keeps only the artifacts the target can install (their
hashes). "pip-compile" is `pip-compile --generate-hashes --allow-unsafe` on the same requirements in one
file; it resolves for this machine (Python {platform.python_version()}, its platform) and cannot resolve for
another, so for the Ubuntu 22.04 / Python 3.10 profiles it answers a different question than toolkit, and
its hashes are those of every file of each version. "cold" starts from empty caches (uv's, pip's and
pip-tools' own, in a temporary folder); "warm" runs again with them.

{text}

{checks}

Notes:
{notes or "- none"}
- pip-compile runs with `PIP_CONFIG_FILE={os.devnull}` and no other `PIP_*` setting than `PIP_CERT`:
  this machine's pip configuration points at local folders and caps torch with a constraints file.
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="Cold+warm rounds of each; the table shows the fastest.")
    ap.add_argument("--profile", action="append", choices=PROFILES, help="Only these profiles (default: all three).")
    ap.add_argument("--no-write", action="store_true", help="Print only; leave docs/benchmarks.md alone.")
    opts = ap.parse_args()
    if not shutil.which("pip-compile", path=str(Path(sys.executable).parent)):
        print("pip-compile not found next to this Python: pip install pip-tools", file=sys.stderr)
        return 1
    results = {name: measure(name, opts.repeat) for name in (opts.profile or PROFILES)}
    text = report(results, opts.repeat)
    print("\n" + text)
    if not opts.no_write:
        write_section(SECTION, text, DOCS)
        print(f"written to {DOCS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
