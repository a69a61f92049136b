"""Evaluators for the framework, Jupyter and GPU-tier checks (GPU gating happens in evaluate())."""

from __future__ import annotations

from toolkit.verify.outcome import JUPYTER_PACKAGES, Outcome, tail, venv_of
from toolkit.verify.probe import jupyter_key


def _framework(p, facts, name):
    key = f"{name}:{p['python']}"
    f = facts.get(key) or {}
    if "_error" in f:
        return f, Outcome(False, f"{name} importable in {p['python']}", f["_error"], "")
    imp = f.get("import") or {}
    if not imp.get("ok"):
        pkg = "torch" if name == "torch" else "tensorflow"
        return f, Outcome(False, f"{pkg} importable", tail(imp.get("error", "not probed")),
                          f"pip install {pkg} in {venv_of(p['python'])}")
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
    f = facts.get(jupyter_key(p)) or {}
    expected = (f"jupyter {p['flavor']} starts, /api answers 200, /api/contents refuses a request without "
                "a token (401/403) and accepts one with it")
    if "_error" in f or f.get("error"):
        return Outcome(False, expected, f.get("_error") or f.get("error") or "",
                       f"install it: {p['python']} -m pip install {JUPYTER_PACKAGES.get(p['flavor'], 'jupyter')}")
    found = (f"/api={f.get('api')} after {f.get('startup_seconds')}s, /api/contents without token="
             f"{f.get('contents_no_token')}, with token={f.get('contents_token')}")
    ok = f.get("api") == 200 and f.get("contents_no_token") in (401, 403) and f.get("contents_token") == 200
    hint = "" if ok else "authentication must stay on: never start Jupyter with an empty token or password"
    existing = f.get("existing")
    if existing and p.get("hub"):
        found += f"; port {p['port']} is JupyterHub's proxy (the jupyterhub check judges it)"
    elif existing:
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
