"""Pure evaluation: a Check plus the probe's facts -> a Result. No I/O, no target access.

Every check kind in CHECK_KINDS has one function here (refused at import time otherwise).
GPU-tier checks are skipped with a reason where the target shows no GPU, or failed under
``require_gpu``; they never pass on the CPU.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import asdict, dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from toolkit.model.checks import CHECK_KINDS, Check
from toolkit.verify import facts as factmod

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
UNREACHABLE = "cannot reach the target"
JUPYTER_PACKAGES = {"lab": "jupyterlab", "notebook": "notebook"}
NO_GPU_HINT = ("run on a GPU host, or start the container with --gpus all (NVIDIA Container Toolkit); "
               "without --require-gpu these checks are skipped on CPU-only machines")


@dataclass(frozen=True)
class Result:
    id: str
    kind: str
    tier: str
    status: str
    expected: str = ""
    found: str = ""
    hint: str = ""
    duration: float = 0.0
    description: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """What one evaluator decides; evaluate() adds identity and timing."""

    ok: bool
    expected: str
    found: str
    hint: str = ""


def evaluate(check: Check, facts: dict, require_gpu: bool = False) -> Result:
    def result(status: str, expected: str = "", found: str = "", hint: str = "") -> Result:
        return Result(id=check.id, kind=check.kind, tier=check.tier, status=status, expected=expected,
                      found=found, hint=hint if status != PASSED else "", duration=duration(check, facts),
                      description=check.description)

    if "_error" in facts:
        found = f"{UNREACHABLE}: {facts['_error']}" if facts.get("_transport") else facts["_error"]
        return result(FAILED, "the probe runs on the target", found,
                      "check the target address and that it has python3 (the probe is stdlib-only)")
    if check.tier == "gpu" and not gpu_visible(facts):
        found = "no GPU visible (no /dev/nvidia0; nvidia-smi " + (
            "lists no GPU)" if facts.get("gpu", {}).get("smi") else "not found)")
        if require_gpu:
            return result(FAILED, "a visible NVIDIA GPU (--require-gpu)", found, NO_GPU_HINT)
        return result(SKIPPED, "a visible NVIDIA GPU", found, "GPU-tier check; " + NO_GPU_HINT)
    out = EVALUATORS[check.kind](check.p, facts)
    return result(PASSED if out.ok else FAILED, out.expected, out.found, out.hint)


def gpu_visible(facts: dict) -> bool:
    return bool(facts.get("gpu", {}).get("visible"))


def duration(check: Check, facts: dict) -> float:
    """Time the target spent gathering this check's facts (sections run in parallel: the max)."""
    timings = facts.get("_timings", {})
    return round(max([timings.get(s, 0.0) for s in factmod.sections(check)] or [0.0]), 3)


def _missing(section: str, facts: dict) -> Outcome | None:
    value = facts.get(section)
    if value is None:
        return Outcome(False, f"facts for {section}", "the probe gathered none", "this is a toolkit bug; report it")
    if isinstance(value, dict) and "_error" in value and not value.get("missing"):
        return Outcome(False, f"facts for {section}", value["_error"], "")
    return None


# --------------------------------------------------------------------------- system
def os_release(p, facts):
    f = facts.get("os_release") or {}
    expected = f"{p['distro']} {p['version']}"
    found = f"{f.get('id')} {f.get('version_id')}"
    return Outcome(f.get("id") == p["distro"] and f.get("version_id") == str(p["version"]), expected, found,
                   f"the profile targets {expected}; verify a {expected} target or change os: in the profile")


def apt_package(p, facts):
    name, f = p["name"], facts.get("apt") or {}
    if "_error" in f:
        return Outcome(False, f"{name} installed (dpkg)", f["_error"], "apt_package checks need a Debian/Ubuntu target")
    entry = f.get(name)
    if entry and entry["status"].startswith("ii"):
        return Outcome(True, f"{name} installed", f"{name} {entry['version']}")
    found = f"{name} not installed" if not entry else f"{name} in dpkg state {entry['status'].strip()!r}"
    return Outcome(False, f"{name} installed", found, f"apt-get install -y {name}")


def venv(p, facts):
    path = p["path"]
    f = (facts.get("paths") or {}).get(path) or {}
    ok = bool(f.get("is_dir") and f.get("pyvenv_cfg") and f.get("python"))
    if not f.get("exists"):
        found = f"{path} does not exist"
    elif not f.get("pyvenv_cfg"):
        found = f"{path} exists but has no pyvenv.cfg (not a virtual environment)"
    else:
        found = f"{path} is a virtual environment" + ("" if f.get("python") else " without an executable bin/python")
    return Outcome(ok, f"a virtual environment at {path}", found, f"python3 -m venv {path}")


def file(p, facts):
    path = p["path"]
    ok = bool((facts.get("files") or {}).get(path))
    return Outcome(ok, f"{path} exists", f"{path} {'exists' if ok else 'is missing'}",
                   "re-apply the profile (toolkit apply) so the file is installed")


def shm(p, facts):
    mb = (facts.get("shm") or {}).get("mb")
    expected = f"/dev/shm >= {p['min_mb']} MB"
    if mb is None:
        return Outcome(False, expected, "no /dev/shm", "mount a tmpfs on /dev/shm (containers: --shm-size=1g)")
    return Outcome(mb >= p["min_mb"], expected, f"/dev/shm is {mb} MB",
                   "run the container with --shm-size=1g (or --ipc=host); DataLoader workers die with "
                   "'Bus error' otherwise")


def command(p, facts):
    argv = list(p["argv"])
    f = facts.get(factmod.command_key(argv)) or {}
    expect = p.get("expect")
    expected = "exit 0" + (f" and output containing {expect!r}" if expect else "")
    output = (f.get("out", "") + f.get("err", "")).strip()
    ok = f.get("rc") == 0 and (not expect or expect in output)
    found = f"exit {f.get('rc')}: {_tail(output)}"
    return Outcome(ok, expected, found, f"run it on the target to see why: {shlex.join(argv)}")


def git(p, facts):
    f = facts.get("git") or {}
    want = "git and git-lfs" if p["lfs"] else "git"
    if not f.get("path"):
        return Outcome(False, f"{want} installed", "git not found on PATH", f"apt-get install -y {want.replace(' and ', ' ')}")
    if p["lfs"] and not f.get("lfs"):
        return Outcome(False, f"{want} installed", f"{f.get('version')}; git lfs not available",
                       "apt-get install -y git-lfs && git lfs install --system")
    return Outcome(True, f"{want} installed", "; ".join(v for v in (f.get("version"), f.get("lfs")) if v))


def git_config(p, facts):
    key, value = p["key"], p["value"]
    found = ((facts.get("git") or {}).get("config") or {}).get(key)
    return Outcome(found == value, f"{key} = {value}", f"{key} = {found}" if found is not None else f"{key} unset",
                   f"git config --system {shlex.quote(key)} {shlex.quote(str(value))}")


def user(p, facts):
    name = p["name"]
    f = (facts.get("users") or {}).get(name)
    want = {"uid": p["uid"], "gid": p["gid"], "home": p["home"], "shell": p["shell"], "sudo": p["sudo"]}
    expected = ", ".join(f"{k}={v}" for k, v in want.items())
    if not f:
        return Outcome(False, f"user {name} ({expected})", f"no user {name}",
                       f"useradd --uid {p['uid']} --create-home --shell {p['shell']} {name}")
    have = {"uid": f["uid"], "gid": f["gid"], "home": f["home"], "shell": f["shell"], "sudo": has_sudo(f)}
    wrong = [k for k in want if want[k] is not None and want[k] != have[k]]
    found = ", ".join(f"{k}={have[k]}" for k in want)
    hint = ""
    if "sudo" in wrong:
        hint = (f"grant sudo: usermod -aG sudo {name}" if p["sudo"]
                else f"remove sudo rights: gpasswd -d {name} sudo and drop its /etc/sudoers.d entry")
    elif wrong:
        hint = f"usermod to fix {', '.join(wrong)} of {name} (or re-apply the profile)"
    return Outcome(not wrong, f"user {name} ({expected})", found, hint)


SUDO_GROUPS = {"sudo", "wheel", "admin"}


def has_sudo(f: dict) -> bool:
    """Sudo rights from `sudo -n -l` output, sudoers entries, or membership of a sudo group."""
    if not f.get("sudo_bin"):
        return False
    listed = f.get("sudo_list") or {}
    text = listed.get("out", "") + listed.get("err", "")
    if "may run the following" in text:
        return True
    return bool(f.get("sudoers")) or bool(SUDO_GROUPS & set(f.get("groups", [])))


# --------------------------------------------------------------------------- python
def _interp(p, facts):
    key = "interp:" + p["python"]
    return facts.get(key) or {}, _missing(key, facts)


def python_version(p, facts):
    f, problem = _interp(p, facts)
    expected = f"Python {p['version']} at {p['python']}"
    if problem or f.get("missing"):
        return Outcome(False, expected, f.get("_error") or (problem and problem.found),
                       "create the virtual environment: python3 -m venv " + _venv_of(p["python"]))
    found = f.get("version", "")
    ok = found == p["version"] or found.startswith(str(p["version"]) + ".")
    return Outcome(ok, expected, f"Python {found}", f"recreate {_venv_of(p['python'])} with Python {p['version']}")


def pip_package(p, facts):
    name, spec, py = p["name"], p["specifier"] or "", p["python"]
    f, problem = _interp(p, facts)
    expected = f"{name}{spec} installed and importable"
    install = f"{py} -m pip install {shlex.quote(name + spec)}"
    if problem or f.get("missing"):
        return Outcome(False, expected, f.get("_error") or problem.found, f"create the venv, then {install}")
    dist = (f.get("dists") or {}).get(name)
    if not dist:
        return Outcome(False, expected, f"{name} is not installed in {_venv_of(py)}",
                       f"pip install {name} in {_venv_of(py)}: {install}")
    version = dist["version"]
    try:
        matches = not spec or SpecifierSet(spec).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion) as exc:
        return Outcome(False, expected, f"{name} {version} ({exc})", install)
    if not matches:
        return Outcome(False, expected, f"{name} {version} does not match {spec}", install)
    imported = _import_fact(p, facts, f)
    if imported is None and not p["import_name"] and not dist.get("top_level"):
        return Outcome(True, expected, f"{name} {version} (declares no importable top-level module)")
    if imported is None:
        imported = {"module": p["import_name"] or dist.get("top_level"), "ok": False, "error": "not probed"}
    if not imported.get("ok"):
        return Outcome(False, expected, f"{name} {version}; import {imported.get('module')} failed: "
                       f"{_tail(imported.get('error', ''))}", f"{py} -m pip install --force-reinstall {shlex.quote(name)}")
    via = f" ({imported['via']})" if imported.get("via") else ""
    return Outcome(True, expected, f"{name} {version}, import {imported['module']} ok{via}")


def _import_fact(p, facts, interp) -> dict | None:
    framework = factmod.FRAMEWORK_MODULES.get(p["import_name"] or "")
    if framework:
        return (facts.get(f"{framework}:{p['python']}") or {}).get("import") or {
            "module": p["import_name"], "ok": False, "error": "not probed"}
    return (interp.get("imports") or {}).get(p["name"])


def pip_check(p, facts):
    key = "pip_check:" + p["python"]
    f = facts.get(key) or {}
    return Outcome(f.get("rc") == 0, "pip check: no broken requirements", _tail(f.get("out", "")) or "no output",
                   f"install the missing or compatible versions it names: {p['python']} -m pip check")


def _framework(p, facts, name):
    key = f"{name}:{p['python']}"
    f = facts.get(key) or {}
    if "_error" in f:
        return f, Outcome(False, f"{name} importable in {p['python']}", f["_error"], "")
    imp = f.get("import") or {}
    if not imp.get("ok"):
        pkg = "torch" if name == "torch" else "tensorflow"
        return f, Outcome(False, f"{pkg} importable", _tail(imp.get("error", "not probed")),
                          f"pip install {pkg} in {_venv_of(p['python'])}")
    return f, None


def _major_minor(v) -> str | None:
    return ".".join(str(v).split(".")[:2]) if v not in (None, "", "None") else None


def torch_cuda(p, facts):
    f, problem = _framework(p, facts, "torch")
    want = _major_minor(p["cuda"])
    expected = f"torch built for CUDA {want}" if want else "a CPU build of torch (torch.version.cuda is None)"
    if problem:
        return problem
    have = _major_minor(f.get("cuda"))
    found = f"torch {f.get('version')}, torch.version.cuda={f.get('cuda')}"
    hint = (f"install the torch wheel built for CUDA {want} (index .../whl/cu{want.replace('.', '')})" if want
            else "install the CPU wheel of torch (index .../whl/cpu)")
    return Outcome(have == want, expected, found, hint)


def tensorflow_build(p, facts):
    f, problem = _framework(p, facts, "tf")
    if problem:
        return problem
    build = f.get("build") or {}
    want_cuda, want_cudnn = _major_minor(p["cuda"]), p["cudnn"]
    found = (f"tensorflow {f.get('version')}: cuda_build={build.get('is_cuda_build')}, "
             f"cuda={build.get('cuda_version')}, cudnn={build.get('cudnn_version')}")
    if "build_error" in f:
        return Outcome(False, "tf.sysconfig.get_build_info() answers", f["build_error"], "")
    if want_cuda is None:
        ok = build.get("is_cuda_build") in (None, "False") and not build.get("cuda_version")
        return Outcome(ok, "a CPU build of TensorFlow", found, "install tensorflow-cpu")
    cudnn = str(build.get("cudnn_version") or "")
    ok = (_major_minor(build.get("cuda_version")) == want_cuda
          and (not want_cudnn or cudnn == str(want_cudnn) or cudnn.startswith(f"{want_cudnn}.")))
    return Outcome(ok, f"TensorFlow built for CUDA {want_cuda}, cuDNN {want_cudnn}", found,
                   "install the TensorFlow release built for this CUDA (tensorflow[and-cuda] pins it)")


def jupyter(p, facts):
    f = facts.get(factmod.jupyter_key(p)) or {}
    expected = (f"jupyter {p['flavor']} starts, /api answers 200, /api/contents refuses a request without "
                "a token (401/403) and accepts one with it")
    if "_error" in f or f.get("error"):
        return Outcome(False, expected, f.get("_error") or f.get("error"),
                       f"install it: {p['python']} -m pip install {JUPYTER_PACKAGES.get(p['flavor'], 'jupyter')}")
    found = (f"/api={f.get('api')} after {f.get('startup_seconds')}s, /api/contents without token="
             f"{f.get('contents_no_token')}, with token={f.get('contents_token')}")
    ok = f.get("api") == 200 and f.get("contents_no_token") in (401, 403) and f.get("contents_token") == 200
    hint = "" if ok else "authentication must stay on: never start Jupyter with an empty token or password"
    existing = f.get("existing")
    if existing:
        found += (f"; the server already on port {p['port']}: /api={existing.get('api')}, "
                  f"/api/contents without token={existing.get('contents_no_token')}")
        if existing.get("contents_no_token") not in (401, 403):
            ok, hint = False, f"the server on port {p['port']} serves the API without a token: set JUPYTER_TOKEN"
    return Outcome(ok, expected, found, hint)


# --------------------------------------------------------------------------- GPU tier
def gpu_driver(p, facts):
    g = facts.get("gpu") or {}
    drivers = sorted({x["driver"] for x in g.get("gpus", [])})
    proc = (g.get("proc_version") or "").strip().splitlines()
    found = f"driver {', '.join(drivers) or 'unknown'}" + (f"; {proc[0]}" if proc else "")
    if g.get("nouveau"):
        return Outcome(False, "NVIDIA driver loaded, nouveau not loaded", found + "; nouveau is loaded",
                       "blacklist nouveau (echo 'blacklist nouveau' > /etc/modprobe.d/blacklist-nouveau.conf; "
                       "update-initramfs -u; reboot)")
    ok = bool(drivers or proc) and not g.get("smi_error")
    return Outcome(ok, "NVIDIA driver loaded", found + (f"; nvidia-smi: {g['smi_error']}" if g.get("smi_error") else ""),
                   "install the NVIDIA driver on the host (containers: the NVIDIA Container Toolkit and --gpus all)")


def gpu_inventory(p, facts):
    g = facts.get("gpu") or {}
    gpus = g.get("gpus", [])
    found = "; ".join(f"{x['index']}: {x['name']} {x['memory_mb']} MiB" for x in gpus) or (
        g.get("smi_error") or ("nvidia-smi not found" if not g.get("smi") else "nvidia-smi lists no GPU"))
    return Outcome(bool(gpus), "nvidia-smi lists at least one GPU", found,
                   "nvidia-smi must run on the target: install the driver utilities (containers: --gpus all)")


def torch_gpu(p, facts):
    f, problem = _framework(p, facts, "torch")
    if problem:
        return problem
    smi = len((facts.get("gpu") or {}).get("gpus", []))
    expected = "torch.cuda.is_available() and device_count() == " + (str(smi) if smi else "the visible GPUs (>= 1)")
    found = f"is_available={f.get('available')}, device_count={f.get('device_count')}" + (
        f"; {f['error']}" if f.get("error") else "")
    ok = bool(f.get("available")) and (f.get("device_count") == smi if smi else f.get("device_count", 0) >= 1)
    hint = ("a CPU build of torch cannot see GPUs: install the CUDA wheel" if not f.get("cuda")
            else "check the driver supports torch's CUDA and that CUDA_VISIBLE_DEVICES does not hide GPUs")
    return Outcome(ok, expected, found, hint)


def torch_matmul(p, facts):
    f, problem = _framework(p, facts, "torch")
    if problem:
        return problem
    runs = f.get("matmul") or []
    expected = "a matmul on every GPU is allclose to the CPU result"
    if not f.get("available") or not runs:
        return Outcome(False, expected, f"no GPU run (torch.cuda.is_available()={f.get('available')})",
                       "fix torch_gpu first; a GPU check never falls back to the CPU")
    bad = [r for r in runs if not r.get("ok")]
    found = "; ".join(f"cuda:{r['index']} " + (f"max |diff| {r['max_abs_diff']:.2e}" if "max_abs_diff" in r
                                              else r.get("error", "failed")) for r in runs)
    return Outcome(not bad and len(runs) == f.get("device_count"), expected, found,
                   "'no kernel image is available' means the wheel's arch list lacks this GPU's compute "
                   "capability; wrong numbers point at the GPU or driver (run dcgmi diag -r 2)")


def tensorflow_gpu(p, facts):
    f, problem = _framework(p, facts, "tf")
    if problem:
        return problem
    gpus = f.get("gpus") or []
    return Outcome(bool(gpus), "tf.config.list_physical_devices('GPU') is not empty",
                   ", ".join(gpus) or f.get("gpus_error") or "no GPU devices",
                   "install tensorflow[and-cuda] and check the driver supports its CUDA")


def _venv_of(python: str) -> str:
    return python.rsplit("/bin/", 1)[0] if "/bin/" in python else python


def _tail(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else "..." + text[-limit:]


EVALUATORS: dict[str, Callable[[dict, dict], Outcome]] = {
    "os_release": os_release, "apt_package": apt_package, "python_version": python_version, "venv": venv,
    "pip_package": pip_package, "pip_check": pip_check, "torch_cuda": torch_cuda,
    "tensorflow_build": tensorflow_build, "jupyter": jupyter, "git": git, "git_config": git_config,
    "user": user, "shm": shm, "command": command, "file": file, "gpu_driver": gpu_driver,
    "gpu_inventory": gpu_inventory, "torch_gpu": torch_gpu, "torch_matmul": torch_matmul,
    "tensorflow_gpu": tensorflow_gpu,
}
_missing_kinds = set(CHECK_KINDS) ^ set(EVALUATORS)
if _missing_kinds:
    raise TypeError(f"evaluate: kinds without an evaluator (or unknown): {sorted(_missing_kinds)}")
