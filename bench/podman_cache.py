"""Podman build cache benchmark: `toolkit build --engine podman`'s executor on the datascience-cpu stack.

    python bench/podman_cache.py [--base-image local/debian:12] [--ca /etc/ssl/certs/ca-certificates.crt]

  cold     `--no-cache` build (Buildah's layer cache not used; its RUN cache mounts stay as they are)
  rebuild  the same stack with one more pip package (six, with a fresh never-matching `!=0.0.N` clause),
           on top of the cold build's layers
Target: the rebuild <= 15% of the cold build, as for Docker (## Build cache). Results go to the
"Podman build cache" section of docs/benchmarks.md. Needs podman (scripts/ensure-podman.sh; run with
CONTAINERS_CONF=.tools/podman/containers.conf where that script wrote one).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from build_cache import toolkit_context  # noqa: E402
from docs_section import write_section  # noqa: E402

sys.path.insert(0, str(ROOT))

from toolkit.executors import docker_build as db  # noqa: E402
from toolkit.executors import podman_build as pb  # noqa: E402
from toolkit.executors.build_progress import brief  # noqa: E402

SECTION = "## Podman build cache"
EXTRA = "six"
TARGET = 0.15


def context(work: Path, base: str, ca: Path, extra: str | None) -> Path:
    """build_cache.py's datascience-cpu context, with the caches podman builds take (shared_caches)."""
    return toolkit_context(work, base, ca, extra, shared_caches=True)


def measure(base: str, ca: Path) -> dict:
    results = {}
    extra = f"{EXTRA}!=0.0.{random.randrange(10**9)}"
    with tempfile.TemporaryDirectory(prefix="bench-podman-") as tmp:
        for run, added, no_cache in (("cold", None, True), ("rebuild", extra, False)):
            work = Path(tmp) / run
            work.mkdir()
            ctx = context(work, base, ca, added)
            print(f"podman: {run} build ...", flush=True)
            result = pb.build(db.BuildRequest(context=ctx, tag=f"toolkit-bench/podman:{run}", no_cache=no_cache,
                                              labels={"toolkit-bench": "1"}))
            results[run] = result
            print(f"podman: {run} {result.seconds:.1f}s, cached {result.log.cached}/{result.log.total} steps",
                  flush=True)
    for run in results:
        pb.run("rmi", f"toolkit-bench/podman:{run}")
    return results


def report(results: dict, base: str, version: str) -> str:
    cold, rebuild = results["cold"], results["rebuild"]
    ratio = rebuild.seconds / cold.seconds
    rerun = "\n".join(f"  - {s.label} `{brief(s.instruction, 90)}`: {s.elapsed:.1f} s"
                      for s in sorted(rebuild.log.counted, key=lambda s: s.number) if not s.cached)
    return f"""{SECTION}

Measured {datetime.date.today().isoformat()} with `python bench/podman_cache.py`: Podman {version} (Debian 12's,
as root, overlay storage), {platform.machine()}, {os.cpu_count()} CPUs; base image `{base}` (copied from the
Docker engine with scripts/ensure-podman.sh) plus the host CA bundle. Same stack and change as
"Build cache": datascience-cpu, then one more pip package (`{EXTRA}`, a fresh `!=0.0.N` clause per run).

| | Podman |
|---|---|
| cold build (--no-cache) | {cold.seconds:.1f} s |
| rebuild after adding one pip package | {rebuild.seconds:.1f} s |
| rebuild / cold | {100 * ratio:.0f}% |
| steps reused in the rebuild | {rebuild.log.cached}/{rebuild.log.total} |
| image size | {rebuild.size / 1e6:.0f} MB |

Target: rebuild <= {100 * TARGET:.0f}% of the cold build: {'met' if ratio <= TARGET else '**missed**'} ({100 * ratio:.0f}%).
`--no-cache` skips Buildah's layer cache but not its RUN cache mounts (apt and pip downloads stay warm),
so the cold build here is faster than a first build on a fresh machine.

Steps the rebuild ran again (the rest came from the cache):
{rerun}
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-image", default=os.environ.get("TOOLKIT_BASE_IMAGE", "local/debian:12"))
    ap.add_argument("--ca", type=Path, default=Path("/etc/ssl/certs/ca-certificates.crt"))
    ap.add_argument("--no-docs", action="store_true", help="print, do not write docs/benchmarks.md")
    args = ap.parse_args()
    conf = ROOT / ".tools" / "podman" / "containers.conf"
    if conf.is_file():
        os.environ.setdefault("CONTAINERS_CONF", str(conf))
    version = pb.check_engine()
    text = report(measure(args.base_image, args.ca), args.base_image, version)
    print(text)
    if not args.no_docs:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
