"""Maintainer side of the data refresh (scripts/refresh-compat.sh): what the index says about every
derivable field of the bundled rows, printed as a diff against the bundled values. Nothing is rewritten:
hand-kept rows (drivers, images, wheel-index variants, notes) stay as they are; the maintainer edits
the bundled file from the diff and reviews it like any change."""

from __future__ import annotations

import argparse
import difflib
import sys

import yaml
from packaging.specifiers import SpecifierSet

from . import versions as V
from .data_model import load_data
from .index_client import IndexClient
from .refresh import Refresher, pip_index_url, render

# derivable fields of each section (everything else in the bundled file is hand-kept)
FIELDS = {"pytorch": ("patches", "python", "pypi_default_cuda", "cudnn_default", "companions"),
          "tensorflow": ("patches", "python", "keras", "and_cuda_requires"),
          "jax": ("python", "extras")}


def _bundled(data) -> dict:
    out: dict = {"pytorch": {}, "tensorflow": {}, "jax": {}}
    for key, r in data.pytorch.releases.items():
        default = r.pypi_default_cuda and r.cudnn_for(V.cuda_variant(r.pypi_default_cuda))
        out["pytorch"][key] = {"patches": r.patches, "python": {"min": r.python.min, "max": r.python.max},
                               "pypi_default_cuda": r.pypi_default_cuda, "cudnn_default": default,
                               "companions": dict(r.companions)}
    for key, r in data.tensorflow.releases.items():
        out["tensorflow"][key] = {"patches": r.patches, "python": {"min": r.python.min, "max": r.python.max},
                                  "keras": r.keras and str(SpecifierSet(r.keras)),
                                  "and_cuda_requires": {k: str(SpecifierSet(v)) for k, v in r.and_cuda_requires.items()}}
    for key, r in data.jax.releases.items():
        out["jax"][key] = {"python": {"min": r.python.min, "max": r.python.max}, "extras": list(r.extras)}
    return out


def _from_index(job: Refresher, known: dict) -> dict:
    out: dict = {"pytorch": {}, "tensorflow": {}, "jax": {}}
    torch_minors, tf_minors = job._by_minor("torch"), job._by_minor("tensorflow")
    for key, row in known["pytorch"].items():
        new = job.describe_torch(torch_minors[key]) if key in torch_minors else None
        if new:
            cudnn = next(iter(new.get("cudnn", {}).values()), None)
            out["pytorch"][key] = {"patches": new["patches"], "python": new["python"],
                                   "pypi_default_cuda": new.get("pypi_default_cuda"), "cudnn_default": cudnn,
                                   "companions": dict(row["companions"])}
    for key in known["tensorflow"]:
        new = job.describe_tf(tf_minors[key]) if key in tf_minors else None
        if new:
            out["tensorflow"][key] = {f: new.get(f) for f in FIELDS["tensorflow"]}
    for key in known["jax"]:
        new = job.describe_jax(key)
        if new:
            out["jax"][key] = {f: new.get(f) for f in FIELDS["jax"]}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="refresh-compat.sh", description=__doc__)
    parser.add_argument("--index-url", default=None)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    index = args.index_url or pip_index_url()[0]
    data = load_data()
    job = Refresher(IndexClient(index, timeout=args.timeout), data)
    known = _bundled(data)
    derived = _from_index(job, known)
    compared = {s: {k: known[s][k] for k in derived[s]} for s in known}
    before = yaml.safe_dump(compared, sort_keys=True, default_flow_style=None, width=110).splitlines()
    after = yaml.safe_dump(derived, sort_keys=True, default_flow_style=None, width=110).splitlines()
    diff = list(difflib.unified_diff(before, after, "bundled compat.yaml (derivable fields)", f"index {index}",
                                     lineterm=""))
    print("\n".join(diff) if diff else "the derivable fields of the bundled rows agree with the index")
    new = Refresher(job.client, data)
    new._files = job._files
    rows = new.run()
    print("\n# releases the bundled data does not know (add them by hand, with their hand-kept fields):")
    print(render(rows, new.notes, index, data))
    for note in job.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
