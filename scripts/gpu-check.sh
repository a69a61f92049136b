#!/usr/bin/env bash
# GPU-tier check of THIS machine, for wherever a real NVIDIA GPU is available (see docs/gpu.md).
#
#   scripts/gpu-check.sh [PROFILE] [PYTHON]
#
# PROFILE (default pytorch-cuda): a bundled profile name or a profile file; its GPU-tier checks run
# (on Rocky Linux / AlmaLinux: pytorch-cuda-rocky9 or pytorch-cuda-alma9; doctor reads rpm and dnf there).
# PYTHON: the interpreter whose torch/TensorFlow `toolkit doctor` compares with the GPU (optional).
# Runs, against `local`:
#   1. scripts/record-gpu-host.sh                             -> $OUT/recording/ (raw outputs, for fixtures)
#   2. toolkit doctor --json                                  -> $OUT/doctor.json
#   3. toolkit verify PROFILE --target local --require-gpu -k gpu --json  -> $OUT/verify.json
# then prints a summary. OUT is $TOOLKIT_GPU_CHECK_OUT or ./gpu-check-<UTC time>.
# Exit status: 0 both passed; 1 doctor found an error; 3 a GPU check failed (or was skipped for
# want of a visible GPU: --require-gpu turns that into a failure); 2 usage or invalid profile.
set -uo pipefail

profile="${1:-pytorch-cuda}"
python="${2:-}"
out="${TOOLKIT_GPU_CHECK_OUT:-gpu-check-$(date -u +%Y%m%dT%H%M%SZ)}"
toolkit="${TOOLKIT:-toolkit}"
mkdir -p -- "$out"
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

record_args=("$out/recording")
if [ -n "$python" ]; then record_args+=("$python"); fi
"$here/record-gpu-host.sh" "${record_args[@]}" >"$out/recording.log" 2>&1

doctor_args=(doctor --json)
if [ -n "$python" ]; then doctor_args+=(--python "$python"); fi
"$toolkit" "${doctor_args[@]}" >"$out/doctor.json" 2>"$out/doctor.err"
doctor_rc=$?
"$toolkit" verify "$profile" --target local --require-gpu -k gpu --json >"$out/verify.json" 2>"$out/verify.err"
verify_rc=$?

python3 - "$out" "$doctor_rc" "$verify_rc" <<'TOOLKIT_SUMMARY'
import json
import sys
from pathlib import Path

out, doctor_rc, verify_rc = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])


def load(name):
    try:
        return json.loads((out / name).read_text())
    except (OSError, ValueError) as exc:
        err = (out / name.replace(".json", ".err")).read_text(errors="replace").strip()
        print(f"{name}: no JSON ({exc}); {err[-500:]}")
        return None


findings = load("doctor.json") or []
print(f"toolkit doctor (exit {doctor_rc}):")
for f in findings:
    print(f"  {f.get('severity', '?'):7} {f.get('code', '')}: {f.get('title', '')}")
report = load("verify.json")
print(f"toolkit verify --require-gpu -k gpu (exit {verify_rc}):")
if report:
    for c in report.get("checks", []):
        line = f"  {c.get('status', '?'):7} {c.get('id', '')}"
        if c.get("status") != "passed":
            line += f": expected {c.get('expected', '')}; found {c.get('found', '')}"
        print(line)
    print(f"  counts: {report.get('counts')}")
print(f"reports in {out}/; raw outputs for tests/unit/gpu/fixtures/recorded in {out}/recording/")
TOOLKIT_SUMMARY

if [ "$doctor_rc" -ge 2 ] || [ "$verify_rc" = 2 ]; then exit 2; fi
if [ "$verify_rc" != 0 ]; then exit 3; fi
if [ "$doctor_rc" != 0 ]; then exit 1; fi
exit 0
