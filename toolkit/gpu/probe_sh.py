"""The GPU probe for a target without Python (a minimal container image): the same raw facts as
toolkit.gpu.probe.gather, gathered one POSIX shell command at a time through a command runner.

`gather(run, python)` takes `run(argv) -> (rc, stdout, stderr)`, which runs argv on the target (a
testinfra host's run, in practice) and returns its result; the commands and files come from the probe's
own tables (probe.jobs, probe.FILES, probe.ENV), so the two cannot drift apart. Slower (one round trip
per command) but needs nothing on the target beyond sh and coreutils. Nothing is changed there.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from toolkit.gpu import probe

Runner = Callable[[list[str]], tuple[int, str, str]]
MISSING = 127
# $0: the command; exit 127 with this marker when it is not installed (a real 127 has no marker).
RUN_IF_PRESENT = ('PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"; '
                  'command -v "$0" >/dev/null 2>&1 || { echo toolkit-not-installed >&2; exit 127; }; '
                  'LC_ALL=C LANG=C exec "$0" "$@"')
PCI = ('for d in /sys/bus/pci/devices/*; do [ -e "$d" ] || continue; '
       'printf "%s\\t%s\\t%s\\t%s\\t%s\\n" "${d##*/}" "$(cat "$d/vendor" 2>/dev/null)" "$(cat "$d/device" 2>/dev/null)" '
       '"$(cat "$d/class" 2>/dev/null)" "$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)"; done')


def _command(run: Runner, argv: list[str]) -> dict | None:
    rc, out, err = run(["sh", "-c", RUN_IF_PRESENT, *argv])
    if rc == MISSING and "toolkit-not-installed" in err:
        return None
    return {"rc": rc, "out": out, "err": err}


def _file(run: Runner, path: str) -> str | None:
    rc, out, _ = run(["sh", "-c", 'test -r "$0" && base64 "$0"', path])
    return base64.b64decode(out).decode("utf-8", "replace") if rc == 0 else None


def _pci(run: Runner) -> list[dict] | None:
    rc, out, _ = run(["sh", "-c", 'test -d /sys/bus/pci/devices || exit 3; ' + PCI])
    if rc == 3:
        return None
    devices = []
    for line in sorted(out.splitlines()):
        slot, vendor, device, klass, driver = (line.split("\t") + [""] * 5)[:5]
        devices.append({"slot": slot, "vendor": vendor, "device": device, "class": klass, "driver": driver or None})
    return devices


def _number(run: Runner, script: str, *args: str) -> int | None:
    rc, out, _ = run(["sh", "-c", script, *args])
    text = out.strip()
    return int(text) if rc == 0 and text.isdigit() else None


def gather(run: Runner, python: str | None = None) -> dict:
    """What probe.gather returns, gathered through `run`."""
    kernel = run(["uname", "-r"])[1].strip()
    results = {name: _command(run, argv) for name, (argv, _timeout) in probe.jobs(kernel, python).items()}
    smi_fields = probe.SMI_FIELDS
    smi = results["nvidia_smi"]
    if smi and smi["rc"] != 0 and "compute_cap" in smi["out"] + smi["err"]:
        smi_fields = probe.SMI_FIELDS_OLD
        results["nvidia_smi"] = _command(run, ["nvidia-smi", "--query-gpu=" + smi_fields, "--format=csv,noheader"])
    dev = run(["sh", "-c", "cd /dev && for f in nvidia*; do [ -e \"$f\" ] && echo \"$f\"; done"])[1].split()
    env = {}
    for name in probe.ENV:
        rc, out, _ = run(["printenv", name])
        env[name] = out[:-1] if rc == 0 and out.endswith("\n") else (out if rc == 0 else None)
    return {
        "schema": probe.SCHEMA,
        "kernel": kernel,
        "container": run(["sh", "-c", "test -e /.dockerenv || test -e /run/.containerenv"])[0] == 0,
        "commands": results,
        "smi_fields": smi_fields,
        "files": {path: _file(run, path) for path in probe.FILES},
        "pci_sysfs": _pci(run),
        "dev_nvidia": sorted(dev),
        "env": env,
        "shm_bytes": _number(run, "stat -f -c '%S %b' /dev/shm | { read s b; echo $((s * b)); }"),
        "secure_boot_efivar": _number(run, 'od -An -tu1 -j4 -N1 "$0" 2>/dev/null | tr -d " "', probe.SECURE_BOOT_VAR),
        "python": python,
    }
