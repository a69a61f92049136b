"""Controller side of the probe: which facts a set of checks needs, and one round trip to get them.

``request_for(checks)`` says what to gather; ``gather(host, checks)`` sends the probe
(toolkit/verify/probe.py with the shared probe helpers, compressed into one command line) through a testinfra host and
returns its JSON. ``sections(check)`` names the probe sections a check reads, so a result
can report how long its facts took to gather.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from toolkit.model.checks import Check
from toolkit.targets import shipping

PROBE_PATH = Path(__file__).with_name("probe.py")
# Interpreters tried in order on the target; the plan's own venv pythons come last as a fallback.
PYTHONS = ("python3", "/usr/bin/python3", "/usr/local/bin/python3", "python")
FRAMEWORK_MODULES = {"torch": "torch", "tensorflow": "tf"}
TRANSPORT_RC = {255: "ssh", 125: "docker", 126: "docker"}


def request_for(checks) -> dict:
    """The probe request for these checks (deterministic: sorted, de-duplicated)."""
    req: dict = {}

    def python(path: str) -> dict:
        return req.setdefault("pythons", {}).setdefault(path, {"dists": [], "imports": {}})

    def add(key: str, value) -> None:
        items = req.setdefault(key, [])
        if value not in items:
            items.append(value)

    for c in checks:
        p, kind = c.p, c.kind
        if kind in ("os_release", "shm"):
            req[kind] = True
        elif kind == "apt_package":
            add("apt", p["name"])
        elif kind == "venv":
            add("paths", p["path"])
        elif kind == "file":
            add("files", p["path"])
        elif kind == "user":
            add("users", p["name"])
        elif kind == "command":
            add("commands", list(p["argv"]))
        elif kind == "git":
            g = req.setdefault("git", {"lfs": False, "config": []})
            g["lfs"] = g["lfs"] or bool(p["lfs"])
        elif kind == "git_config":
            g = req.setdefault("git", {"lfs": False, "config": []})
            if p["key"] not in g["config"]:
                g["config"].append(p["key"])
        elif kind == "jupyter":
            add("jupyter", {"python": p["python"], "flavor": p["flavor"], "port": p["port"]})
        elif kind == "python_version":
            python(p["python"])
        elif kind == "pip_check":
            python(p["python"])["pip_check"] = True
        elif kind == "pip_package":
            entry = python(p["python"])
            if p["name"] not in entry["dists"]:
                entry["dists"].append(p["name"])
            framework = FRAMEWORK_MODULES.get(p["import_name"] or "")
            if framework:   # imported once, in that framework's own process
                entry.setdefault(framework, {})
            else:
                entry["imports"][p["name"]] = p["import_name"]
        elif kind in ("torch_cuda", "torch_gpu", "torch_matmul"):
            t = python(p["python"]).setdefault("torch", {})
            t["gpu"] = t.get("gpu", False) or kind != "torch_cuda"
            t["matmul"] = t.get("matmul", False) or kind == "torch_matmul"
        elif kind in ("tensorflow_build", "tensorflow_gpu"):
            t = python(p["python"]).setdefault("tf", {})
            t["gpu"] = t.get("gpu", False) or kind == "tensorflow_gpu"
        # gpu_driver / gpu_inventory: the gpu section is always gathered.
    for key in ("apt", "paths", "files", "users", "commands", "jupyter"):
        if key in req:
            req[key] = sorted(req[key], key=lambda v: json.dumps(v, sort_keys=True))
    if "git" in req:
        req["git"]["config"].sort()
    for entry in req.get("pythons", {}).values():
        entry["dists"].sort()
    return req


def sections(check: Check) -> list[str]:
    """The probe's section keys a check's facts come from."""
    p, kind = check.p, check.kind
    simple = {"os_release": "os_release", "shm": "shm", "apt_package": "apt", "venv": "paths",
              "file": "files", "user": "users", "git": "git", "git_config": "git",
              "gpu_driver": "gpu", "gpu_inventory": "gpu"}
    if kind in simple:
        return [simple[kind]]
    if kind == "command":
        return [command_key(p["argv"])]
    if kind == "jupyter":
        return [jupyter_key(p)]
    py = p["python"]
    if kind == "pip_check":
        return ["pip_check:" + py]
    if kind.startswith("torch_"):
        return ["torch:" + py] + (["gpu"] if check.tier == "gpu" else [])
    if kind.startswith("tensorflow_"):
        return ["tf:" + py] + (["gpu"] if check.tier == "gpu" else [])
    if kind == "pip_package" and FRAMEWORK_MODULES.get(p["import_name"] or ""):
        return ["interp:" + py, FRAMEWORK_MODULES[p["import_name"]] + ":" + py]
    return ["interp:" + py]


def command_key(argv) -> str:
    return "command:" + json.dumps(list(argv))


def jupyter_key(p: dict) -> str:
    return "jupyter:" + json.dumps([p["python"], p["flavor"], p["port"]])


@lru_cache(maxsize=1)
def _bootstrap() -> str:
    return shipping.bootstrap(shipping.script(PROBE_PATH))


def command_line(request: dict) -> tuple[str, list[str]]:
    """A testinfra command template and its arguments: the first python found runs the probe."""
    script = _bootstrap()
    loop = ('r=$1; shift; for p in "$@"; do if command -v "$p" >/dev/null 2>&1; then '
            'exec "$p" -c "$0" probe "$r"; fi; done; echo "no python3 on the target (tried: $*)" >&2; exit 127')
    candidates = [*PYTHONS, *sorted(request.get("pythons", {}))]
    args = [loop, script, json.dumps(request, sort_keys=True), *candidates]
    return "sh -c " + " ".join(["%s"] * len(args)), args


def gather(host, checks) -> dict:
    """Run the probe once on a testinfra host; on failure a dict with ``_error`` (never raises)."""
    request = request_for(checks)
    template, args = command_line(request)
    try:
        result = host.run(template, *args)
    except RuntimeError as exc:   # testinfra's ssh backend raises on ssh's exit 255
        return {"_error": _first_line(str(exc)), "_transport": True}
    return parse(result.rc, result.stdout, result.stderr)


def parse(rc: int, stdout: str, stderr: str) -> dict:
    lines = stdout.strip().splitlines()
    if rc == 0 and lines:
        try:
            return json.loads(lines[-1])
        except ValueError:
            pass
    why = (stderr or stdout).strip()[-1000:] or f"exit status {rc}"
    out = {"_error": f"the probe failed on the target (exit {rc}): {why}"}
    if rc in TRANSPORT_RC or "No such container" in why or "is not running" in why:
        out["_transport"] = True
    return out


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "connection failed"
