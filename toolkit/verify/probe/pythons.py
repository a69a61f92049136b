"""Probe part: facts asked of a venv's own interpreter (versions, distributions, imports, torch, TF)."""

import json
import os
import sys
import time

from .base import COMMAND_TIMEOUT, SOURCE, run


def in_interpreter(python, mode, request, timeout=COMMAND_TIMEOUT):
    """Run this probe's own source with another interpreter (a venv's) and parse its JSON."""
    if not os.path.exists(python):
        return {"_error": "%s does not exist" % python, "missing": True}
    env = dict(venv_env(), TF_CPP_MIN_LOG_LEVEL="2", PYTHONDONTWRITEBYTECODE="1")
    res = run([python, "-c", SOURCE, mode, json.dumps(request)], timeout=timeout, env=env)
    try:
        return json.loads(res["out"].strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"_error": "exit %s: %s" % (res["rc"], (res["err"] or res["out"]).strip()[-800:])}


def venv_env():
    """The probe's environment without what would add the caller's packages to a venv's own (PYTHONPATH, ...):
    a venv is judged by what it holds itself."""
    return dict((k, v) for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE"))


def pip_check(python):
    res = run([python, "-m", "pip", "check", "--disable-pip-version-check"],
              env=dict(venv_env(), PIP_NO_INPUT="1"))
    return {"rc": res["rc"], "out": (res["out"] + res["err"]).strip()[-2000:]}


def interp_facts(req):
    """Inside the venv's interpreter: version, distributions, import names, imports."""
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8
        metadata = None  # type: ignore[assignment]  # the stdlib module or nothing
    out: dict = {"version": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,
           "prefix": sys.prefix, "base_prefix": getattr(sys, "base_prefix", sys.prefix), "dists": {}}
    imports = {}
    for name in req.get("dists", []):
        info = None
        if metadata is not None:
            try:
                dist = metadata.distribution(name)
                info = {"version": dist.version, "top_level": top_level(dist, name)}
            except Exception:  # PackageNotFoundError, broken metadata
                info = None
        out["dists"][name] = info
    for name, module in req.get("imports", {}).items():
        if module is None:
            info = out["dists"].get(name)
            module = info["top_level"] if info and info["top_level"] else None
        if module:
            imports[name] = try_import(module)
    out["imports"] = imports
    return out


def top_level(dist, name):
    """The importable top-level module a distribution provides (top_level.txt, else RECORD)."""
    names = []
    text = dist.read_text("top_level.txt")
    if text:
        names = [n.strip() for n in text.split() if n.strip() and not n.startswith("_")]
    if not names:
        for f in dist.files or []:
            first = str(f).split("/", 1)[0]
            if first.endswith((".dist-info", ".egg-info", ".data")) or first in ("..", "__pycache__", "bin"):
                continue
            if first.endswith(".py"):
                first = first[:-3]
            elif "/" not in str(f) or "." in first:
                continue
            if first and not first.startswith("_") and first not in names:
                names.append(first)
    want = name.lower().replace("-", "_").replace(".", "_")
    for n in names:
        if n.lower() == want:
            return n
    return sorted(names)[0] if names else None


def try_import(module):
    import importlib
    started = time.time()
    try:
        importlib.import_module(module)
        return {"module": module, "ok": True, "seconds": round(time.time() - started, 3)}
    except BaseException as exc:  # noqa - SystemExit from broken packages too
        return {"module": module, "ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}


def torch_facts(req):
    out = {"import": try_import("torch")}
    if not out["import"]["ok"]:
        return out
    import torch
    out.update(version=torch.__version__, cuda=torch.version.cuda, available=False, device_count=0)
    if not req.get("gpu"):
        return out
    try:
        out["available"] = bool(torch.cuda.is_available())
        out["device_count"] = torch.cuda.device_count() if out["available"] else 0
        out["arch_list"] = torch.cuda.get_arch_list() if out["available"] else []
    except Exception as exc:
        out["error"] = "%s: %s" % (type(exc).__name__, exc)
        return out
    if req.get("matmul") and out["available"]:
        out["matmul"] = [matmul_on(torch, i) for i in range(out["device_count"])]
    return out


def matmul_on(torch, index):
    try:
        gen = torch.Generator().manual_seed(1234 + index)
        a = torch.randn(512, 512, generator=gen)
        b = torch.randn(512, 512, generator=gen)
        expected = a @ b
        device = torch.device("cuda", index)
        found = (a.to(device) @ b.to(device)).cpu()
        diff = float((found - expected).abs().max())
        return {"index": index, "name": torch.cuda.get_device_name(index), "device": str(found.device),
                "ran_on": str(device), "ok": bool(torch.allclose(found, expected, rtol=1e-3, atol=1e-2)),
                "max_abs_diff": diff}
    except Exception as exc:
        return {"index": index, "ok": False, "error": "%s: %s" % (type(exc).__name__, exc)}


def tf_facts(req):
    out = {"import": try_import("tensorflow")}
    if not out["import"]["ok"]:
        return out
    import tensorflow as tf
    out["version"] = tf.__version__
    try:
        info = dict(tf.sysconfig.get_build_info())
        out["build"] = {k: str(info.get(k)) if info.get(k) is not None else None
                        for k in ("cuda_version", "cudnn_version", "is_cuda_build")}
    except Exception as exc:
        out["build_error"] = "%s: %s" % (type(exc).__name__, exc)
    if req.get("gpu"):
        try:
            out["gpus"] = [d.name for d in tf.config.list_physical_devices("GPU")]
        except Exception as exc:
            out["gpus_error"] = "%s: %s" % (type(exc).__name__, exc)
    return out
