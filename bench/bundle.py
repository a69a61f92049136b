"""Air-gap bundle: its size and the time to make it; offline install from it vs the online apply of the same
profile, in one run.

    python bench/bundle.py [--base-image local/debian:12] [--no-write]

datascience-cpu on the local Debian 12 base (trusting this machine's CA bundle, as the integration tests do):
  lock       `toolkit lock` (not part of the bundle's time; shown for scale)
  bundle     `toolkit bundle -o DIR` into an empty folder (cold), then again into the same folder (warm:
             wheels already there with a locked hash are kept, the .debs are downloaded again)
  offline    `bash install.sh` of the bundle in a fresh container of the base image started with
             `--network none` (the bundle mounted read-only), then a second run (changes nothing)
  online     the same profile's locked setup.sh (`toolkit render --locked --format script`: the same pins)
             run in a fresh container of the base image with the network, packages from the Debian
             archive and PyPI (through this machine's proxy)
Target: offline install no slower than the online one. Results go to the "Air-gap bundle" section of
docs/benchmarks.md (other sections are left alone).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
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

DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Air-gap bundle"
CA = Path("/etc/ssl/certs/ca-certificates.crt")


def toolkit(*args: str, timeout: int = 1800) -> tuple[float, str]:
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, NO_COLOR="1"), timeout=timeout)
    if proc.returncode != 0:
        sys.exit(f"toolkit {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return time.monotonic() - t0, proc.stdout


def in_container(image: str, network: str, volume: str, script: str, runs: int = 1) -> list[float]:
    """Seconds of each run of `bash -c script` in one fresh container (removed after)."""
    name = f"tk-bundle-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "run", "-d", "--name", name, "--network", network, "-v", volume, "--label",
                    "toolkit-bench=1", image, "sleep", "infinity"], check=True, capture_output=True)
    try:
        times = []
        for _ in range(runs):
            t0 = time.monotonic()
            proc = subprocess.run(["docker", "exec", name, "bash", "-c", script], capture_output=True, text=True,
                                  timeout=1800)
            times.append(time.monotonic() - t0)
            if proc.returncode != 0:
                sys.exit(f"{script} in {name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return times
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-image", default="local/debian:12")
    parser.add_argument("--no-write", action="store_true")
    opts = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tk-bundle-bench-"))
    try:
        doc = {"name": "bench-bundle", "extends": "datascience-cpu", "os": {"base_image": opts.base_image}}
        if CA.is_file():
            shutil.copyfile(CA, tmp / "host-ca.crt")
            doc["network"] = {"ca_certificates": ["host-ca.crt"]}
        profile = tmp / "bench-bundle.yaml"
        profile.write_text(json.dumps(doc))
        lock_s, _ = toolkit("lock", str(profile))
        out = tmp / "bundle"
        cold_s, report = toolkit("bundle", str(profile), "-o", str(out))
        warm_s, _ = toolkit("bundle", str(profile), "-o", str(out))
        manifest = json.loads((out / "manifest.json").read_text())
        files = manifest["files"]
        largest = sorted(files, key=lambda f: -f["bytes"])[:3]
        offline = in_container(opts.base_image, "none", f"{out}:/srv/bundle:ro", "bash /srv/bundle/install.sh", runs=2)
        toolkit("render", str(profile), "--locked", "--format", "script", "-o", str(tmp / "render"))
        online = in_container(opts.base_image, "bridge", f"{tmp / 'render'}:/srv/render:ro", "bash /srv/render/setup.sh")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    total = manifest["total_bytes"]
    parts = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in manifest["parts"].items())
    ratio = offline[0] / online[0]
    lines = [
        SECTION, "",
        f"Measured {datetime.date.today().isoformat()} with `python bench/bundle.py`, one run. Machine: "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; the Debian archive over "
        "http and PyPI through a TLS-intercepting proxy. Profile: datascience-cpu on the local Debian 12 base "
        "(NumPy, pandas, JupyterLab, Git), locked.", "",
        "| what | time | size |", "|---|---|---|",
        f"| `toolkit lock` (for scale) | {lock_s:.1f} s | |",
        f"| `toolkit bundle` into an empty folder | {cold_s:.1f} s | {total / 1e6:.1f} MB, {len(files)} files |",
        f"| `toolkit bundle` again (wheels kept, .debs fetched again) | {warm_s:.1f} s | |",
        f"| offline `install.sh` (`--network none`) | {offline[0]:.1f} s | |",
        f"| offline `install.sh` again (changes nothing) | {offline[1]:.1f} s | |",
        f"| online locked `setup.sh` (archive + PyPI) | {online[0]:.1f} s | |", "",
        f"- bundle parts: {parts}; largest files: "
        + ", ".join(f"{f['path'].split('/')[-1]} {f['bytes'] / 1e6:.1f} MB" for f in largest),
        f"- {'met' if ratio <= 1 else 'NOT met'}: offline install no slower than online "
        f"(offline / online = {ratio:.2f}; the offline time includes checking every file's sha256)",
        "- both installs run the same steps (the same locked plan) in a fresh container of the base image; "
        "the online one downloads what the bundle carries",
    ]
    print(report[-600:])
    publish("\n".join(lines) + "\n", SECTION, opts.no_write, docs=DOCS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
