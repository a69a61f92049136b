"""Probe part: the gatherers by key, one thread each, and the script's entry point.

A fact's key is its gatherer's key, or that key, ":" and what it was asked about ("interp:/opt/venv/bin/python").
The controller's check-kind table (toolkit/verify/kinds.py) names the gatherers by these keys.
"""

import json
import os
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from .accounts import dir_stats, mount_facts, ssh_keys, ssh_keys_here
from .folders import writable, write_test
from .hub import jupyterhub, jupyterhub_key
from .pythons import in_interpreter, interp_facts, pip_check, tf_facts, torch_facts
from .servers import deferred_imports, jupyter, jupyter_key, settle_deferred
from .services import (
    jupyter_proxy,
    jupyter_proxy_key,
    jupyter_service,
    jupyter_service_key,
    metrics_endpoint,
    metrics_endpoint_key,
)
from .system import command, dpkg, files, git, gpu, os_release, paths, rpm, shm, users


def gather_interp(python, preq):
    return in_interpreter(python, "interp", preq)


def gather_torch(python, treq):
    return in_interpreter(python, "torch", treq)


def gather_tf(python, treq):
    return in_interpreter(python, "tf", treq)


GATHERERS = {
    "os_release": os_release, "shm": shm, "gpu": gpu, "dpkg": dpkg, "rpm": rpm, "paths": paths, "users": users,
    "files": files, "git": git, "command": command, "writable": writable, "jupyter": jupyter,
    "jupyter_service": jupyter_service, "metrics_endpoint": metrics_endpoint,
    "jupyter_proxy": jupyter_proxy, "jupyterhub": jupyterhub,
    "interp": gather_interp, "pip_check": pip_check, "torch": gather_torch, "tf": gather_tf,
    "ssh_keys": ssh_keys, "dir_stats": dir_stats, "mount_facts": mount_facts,
}


def timed(fn, args):
    started = time.time()
    try:
        value = fn(*args)
    except Exception as exc:  # a gatherer's own bug must not lose the other facts
        value = {"_error": "%s: %s" % (type(exc).__name__, exc)}
    return value, round(time.time() - started, 3)


def command_key(argv):
    return "command:" + json.dumps(list(argv))


def writable_key(wreq):
    return "writable:" + json.dumps([wreq["user"], wreq["dirs"], wreq["trees"]])


def jobs_for(req):
    """fact key -> (gatherer key, its arguments) for one request (the GPU section is not among them)."""
    jobs: dict = {}
    for key in ("os_release", "shm"):
        if req.get(key):
            jobs[key] = (key, ())
    for key in ("dpkg", "rpm", "paths", "users", "files", "git", "ssh_keys", "dir_stats", "mount_facts"):
        if req.get(key):
            jobs[key] = (key, (req[key],))
    for wreq in req.get("writable", []):
        jobs[writable_key(wreq)] = ("writable", (wreq,))
    for argv in req.get("commands", []):
        jobs[command_key(argv)] = ("command", (argv,))
    for python, preq in sorted(req.get("pythons", {}).items()):
        jobs["interp:" + python] = ("interp", (python, preq))
        if preq.get("pip_check"):
            jobs["pip_check:" + python] = ("pip_check", (python,))
        for framework in ("torch", "tf"):
            if framework in preq:   # {} too: a pip_package check that only imports the framework
                jobs[framework + ":" + python] = (framework, (python, preq[framework]))
    for jreq in req.get("jupyter", []):
        jobs[jupyter_key(jreq)] = ("jupyter", (jreq,))
    for sreq in req.get("jupyter_service", []):
        jobs[jupyter_service_key(sreq)] = ("jupyter_service", (sreq,))
    for preq in req.get("jupyter_proxy", []):
        jobs[jupyter_proxy_key(preq)] = ("jupyter_proxy", (preq,))
    for hreq in req.get("jupyterhub", []):
        jobs[jupyterhub_key(hreq)] = ("jupyterhub", (hreq,))
    for mreq in req.get("metrics_endpoint", []):
        jobs[metrics_endpoint_key(mreq)] = ("metrics_endpoint", (mreq,))
    return jobs


def gather(req):
    """Facts for one request; every gatherer runs in its own thread."""
    jobs = jobs_for(req)
    deferred = deferred_imports(req)
    # GPU compute only where a GPU is visible: never let torch/TF fall back to the CPU silently.
    gpu_facts, gpu_seconds = timed(GATHERERS["gpu"], ())
    gpu_visible = bool(gpu_facts.get("visible"))
    for key, (name, args) in list(jobs.items()):
        if name in ("torch", "tf"):
            python, freq = args
            jobs[key] = (name, (python, dict(freq, gpu=bool(freq.get("gpu")) and gpu_visible)))
    facts, timings = {"gpu": gpu_facts}, {"gpu": gpu_seconds}
    with ThreadPoolExecutor(max_workers=max(4, len(jobs))) as pool:
        futures = {key: pool.submit(timed, GATHERERS[name], args) for key, (name, args) in jobs.items()}
        for key, fut in futures.items():
            facts[key], timings[key] = fut.result()
    settle_deferred(deferred, facts)
    facts["_timings"] = timings
    facts["_probe"] = {"python": sys.version.split()[0], "euid": os.geteuid() if hasattr(os, "geteuid") else None,
                       "hostname": socket.gethostname()}
    return facts


MODES = {"probe": gather, "interp": interp_facts, "torch": torch_facts, "tf": tf_facts, "writable-as": write_test,
         "writable": writable, "ssh-keys": ssh_keys_here}


def main(argv):
    mode, req = argv[1], json.loads(argv[2])
    started = time.time()
    facts = MODES[mode](req)
    if mode == "probe":
        facts["_probe"]["seconds"] = round(time.time() - started, 3)
    sys.stdout.write(json.dumps(facts, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv)
