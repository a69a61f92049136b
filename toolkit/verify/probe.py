"""The probe: gathers every fact a plan's checks need, on the target, in one round trip.

This file is a self-contained script (stdlib only, Python 3.6+) once shipped: the controller
puts the shared helpers (toolkit/targets/probe_lib.py) in place of the line that imports them
(toolkit.targets.shipping.script), sends that source to the target and runs it with the target's python3; it reads a JSON request
(``sys.argv[2]``), gathers facts concurrently and prints one JSON document. Checks are
evaluated on the controller (toolkit.verify.evaluate), never here.

Modes: ``probe REQUEST`` (the main run) and ``interp REQUEST`` / ``torch REQUEST`` /
``tf REQUEST``, which the main run starts with a *venv's* interpreter (the probe's own
source passed again with ``-c``) to ask that interpreter about its packages.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from toolkit.targets.probe_lib import read, run_command  # shipped with: toolkit/targets/probe_lib.py

COMMAND_TIMEOUT = 60
JUPYTER_TIMEOUT = 40
JUPYTER_PACKAGES = {"lab": "jupyterlab", "notebook": "notebook"}
SOURCE = globals().get("PROBE_SOURCE")  # set by the bootstrap that exec()s this text


def run(argv, timeout=COMMAND_TIMEOUT, env=None, cwd="/"):
    """Run argv without a shell; never raises: {rc, out, err}."""
    return run_command(argv, timeout, env=env, cwd=cwd)


# --------------------------------------------------------------------------- system facts
def os_release(_req):
    text = read("/etc/os-release") or read("/usr/lib/os-release") or ""
    out = {}
    for line in text.splitlines():
        if "=" in line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip().strip('"').strip("'")
    return {"id": out.get("ID"), "version_id": out.get("VERSION_ID"), "pretty": out.get("PRETTY_NAME")}


def apt(names):
    if not shutil.which("dpkg-query"):
        return {"_error": "dpkg-query not found (not a Debian/Ubuntu system)"}
    res = run(["dpkg-query", "-W", "-f", "${Package}\t${db:Status-Abbrev}\t${Version}\n"] + list(names))
    found = {}
    for line in res["out"].splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            found[parts[0].split(":")[0]] = {"status": parts[1].strip(), "version": parts[2]}
    return {name: found.get(name) for name in names}


def paths(names):
    out = {}
    for path in names:
        cfg = read(os.path.join(path, "pyvenv.cfg"))
        out[path] = {"exists": os.path.exists(path), "is_dir": os.path.isdir(path),
                     "pyvenv_cfg": cfg is not None,
                     "python": os.access(os.path.join(path, "bin", "python"), os.X_OK)}
    return out


def users(names):
    import grp
    import pwd
    sudo_bin = shutil.which("sudo")
    out = {}
    for name in names:
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            out[name] = None
            continue
        groups = sorted(g.gr_name for g in grp.getgrall() if name in g.gr_mem)
        try:
            groups.append(grp.getgrgid(pw.pw_gid).gr_name)
        except KeyError:
            pass
        entry = {"uid": pw.pw_uid, "gid": pw.pw_gid, "home": pw.pw_dir, "shell": pw.pw_shell,
                 "groups": sorted(set(groups)), "sudo_bin": bool(sudo_bin), "sudo_list": None,
                 "sudoers": sudoers_mentions(name)}
        if sudo_bin:
            me = os.geteuid()
            argv = ["sudo", "-n", "-l"] if me == pw.pw_uid else ["sudo", "-n", "-l", "-U", name]
            if me == 0 or me == pw.pw_uid:
                entry["sudo_list"] = run(argv, timeout=10)
        out[name] = entry
    return out


def sudoers_mentions(name):
    """True/False when the sudoers files are readable, None when they are not."""
    files = ["/etc/sudoers"]
    try:
        files += [os.path.join("/etc/sudoers.d", f) for f in sorted(os.listdir("/etc/sudoers.d"))]
    except OSError:
        pass
    readable = False
    for path in files:
        text = read(path)
        if text is None:
            continue
        readable = True
        for line in text.splitlines():
            words = line.strip().split()
            if words and words[0] == name:
                return True
    return False if readable else None


def shm(_req):
    try:
        st = os.statvfs("/dev/shm")
        return {"mb": st.f_blocks * st.f_frsize // (1024 * 1024)}
    except OSError as exc:
        return {"mb": None, "error": str(exc)}


def git(req):
    out = {"path": shutil.which("git"), "version": None, "lfs": None, "config": {}}
    if not out["path"]:
        return out
    out["version"] = run(["git", "--version"])["out"].strip()
    if req.get("lfs"):
        res = run(["git", "lfs", "version"])
        out["lfs"] = res["out"].strip() if res["rc"] == 0 else None
    for key in req.get("config", []):
        res = run(["git", "config", "--get", key])
        out["config"][key] = res["out"].rstrip("\n") if res["rc"] == 0 else None
    return out


def command(argv):
    started = time.time()
    res = run(argv)
    res["seconds"] = round(time.time() - started, 3)
    return res


def files(names):
    return {path: os.path.exists(path) for path in names}


def gpu(_req):
    out = {"dev": os.path.exists("/dev/nvidia0"), "smi": shutil.which("nvidia-smi"),
           "proc_version": read("/proc/driver/nvidia/version"), "nouveau": False, "gpus": [], "smi_error": None}
    modules = read("/proc/modules") or ""
    out["nouveau"] = any(line.split(" ", 1)[0] == "nouveau" for line in modules.splitlines())
    if out["smi"]:
        res = run(["nvidia-smi", "--query-gpu=index,name,driver_version,memory.total,persistence_mode",
                   "--format=csv,noheader,nounits"], timeout=30)
        if res["rc"] == 0:
            for line in res["out"].splitlines():
                cells = [c.strip() for c in line.split(",")]
                if len(cells) >= 5:
                    out["gpus"].append({"index": cells[0], "name": cells[1], "driver": cells[2],
                                        "memory_mb": cells[3], "persistence": cells[4]})
        else:
            out["smi_error"] = (res["err"] or res["out"]).strip()[-500:]
    out["visible"] = bool(out["dev"] or out["gpus"])
    return out


# --------------------------------------------------------------------------- interpreter facts
def in_interpreter(python, mode, request, timeout=COMMAND_TIMEOUT):
    """Run this probe's own source with another interpreter (a venv's) and parse its JSON."""
    if not os.path.exists(python):
        return {"_error": "%s does not exist" % python, "missing": True}
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONDONTWRITEBYTECODE="1")
    res = run([python, "-c", SOURCE, mode, json.dumps(request)], timeout=timeout, env=env)
    try:
        return json.loads(res["out"].strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"_error": "exit %s: %s" % (res["rc"], (res["err"] or res["out"]).strip()[-800:])}


def pip_check(python):
    res = run([python, "-m", "pip", "check", "--disable-pip-version-check"],
              env=dict(os.environ, PIP_NO_INPUT="1"))
    return {"rc": res["rc"], "out": (res["out"] + res["err"]).strip()[-2000:]}


def interp_facts(req):
    """Inside the venv's interpreter: version, distributions, import names, imports."""
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8
        metadata = None
    out = {"version": "%d.%d.%d" % sys.version_info[:3], "executable": sys.executable,
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


# --------------------------------------------------------------------------- jupyter
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url, token=None, timeout=2):
    import urllib.error
    import urllib.request
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", "token " + token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except Exception:
        return None


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def jupyter(req):
    """Start the server on a free port with a fresh token; ask /api and /api/contents; stop it.

    If the profile's port already answers (the image's own service), also check that server
    refuses the API without a token.
    """
    import tempfile
    port, token = req["port"], uuid.uuid4().hex
    out = {"port": port, "existing": None}
    if port_open(port):
        base = "http://127.0.0.1:%d" % port
        out["existing"] = {"api": http_status(base + "/api"), "contents_no_token": http_status(base + "/api/contents")}
    exe = os.path.join(os.path.dirname(req["python"]), "jupyter")
    if not os.path.exists(exe):
        out["error"] = "%s not found" % exe
        return out
    test_port = free_port()
    base = "http://127.0.0.1:%d" % test_port
    runtime = tempfile.mkdtemp(prefix="toolkit-jupyter-")
    env = dict(os.environ, JUPYTER_TOKEN=token, JUPYTER_RUNTIME_DIR=runtime, JUPYTER_PLATFORM_DIRS="1")
    argv = [exe, req["flavor"], "--no-browser", "--ip=127.0.0.1", "--port=%d" % test_port,
            "--ServerApp.port_retries=0"]
    if os.geteuid() == 0:
        argv.append("--allow-root")
    started = time.time()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env=env, cwd=tempfile.gettempdir(), start_new_session=True)
    except OSError as exc:
        out["error"] = str(exc)
        return out
    try:
        out["api"] = None
        while time.time() - started < JUPYTER_TIMEOUT and proc.poll() is None:
            out["api"] = http_status(base + "/api", timeout=1)
            if out["api"] == 200:
                break
            time.sleep(0.1)
        out["startup_seconds"] = round(time.time() - started, 2)
        if out["api"] == 200:
            out["contents_no_token"] = http_status(base + "/api/contents")
            out["contents_token"] = http_status(base + "/api/contents", token=token)
        elif proc.poll() is not None:
            out["error"] = "exited with %s: %s" % (proc.returncode, proc.stderr.read().decode("utf-8", "replace")[-800:])
        else:
            out["error"] = "no answer on /api within %ss" % JUPYTER_TIMEOUT
    finally:
        stop(proc)
        shutil.rmtree(runtime, ignore_errors=True)
    return out


def stop(proc):
    import signal
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=5)
        except Exception:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except Exception:
                pass
            proc.wait()


# --------------------------------------------------------------------------- main
def timed(fn, arg):
    started = time.time()
    try:
        value = fn(arg)
    except Exception as exc:  # a gatherer's own bug must not lose the other facts
        value = {"_error": "%s: %s" % (type(exc).__name__, exc)}
    return value, round(time.time() - started, 3)


def gather(req):
    """Facts for one request; every gatherer runs in its own thread."""
    jobs = {}
    simple = {"os_release": os_release, "shm": shm}
    for key, fn in simple.items():
        if req.get(key):
            jobs[key] = (fn, None)
    for key, fn in (("apt", apt), ("paths", paths), ("users", users), ("files", files)):
        if req.get(key):
            jobs[key] = (fn, req[key])
    if req.get("git"):
        jobs["git"] = (git, req["git"])
    for argv in req.get("commands", []):
        jobs["command:" + json.dumps(list(argv))] = (command, argv)
    for python, preq in sorted(req.get("pythons", {}).items()):
        jobs["interp:" + python] = (lambda r, p=python: in_interpreter(p, "interp", r), preq)
        if preq.get("pip_check"):
            jobs["pip_check:" + python] = (pip_check, python)
        if preq.get("torch"):
            jobs["torch:" + python] = (lambda r, p=python: in_interpreter(p, "torch", r), preq["torch"])
        if preq.get("tf"):
            jobs["tf:" + python] = (lambda r, p=python: in_interpreter(p, "tf", r), preq["tf"])
    deferred = deferred_imports(req)
    for jreq in req.get("jupyter", []):
        jobs[jupyter_key(jreq)] = (jupyter, jreq)
    # GPU compute only where a GPU is visible: never let torch/TF fall back to the CPU silently.
    gpu_facts, gpu_seconds = timed(gpu, None)
    gpu_visible = bool(gpu_facts.get("visible"))
    for key in [k for k in jobs if k.startswith(("torch:", "tf:"))]:
        fn, arg = jobs[key]
        jobs[key] = (fn, dict(arg, gpu=bool(arg.get("gpu")) and gpu_visible))
    facts, timings = {"gpu": gpu_facts}, {"gpu": gpu_seconds}
    with ThreadPoolExecutor(max_workers=max(4, len(jobs))) as pool:
        futures = {key: pool.submit(timed, fn, arg) for key, (fn, arg) in jobs.items()}
        for key, fut in futures.items():
            facts[key], timings[key] = fut.result()
    settle_deferred(deferred, facts)
    facts["_timings"] = timings
    facts["_probe"] = {"python": sys.version.split()[0], "euid": os.geteuid() if hasattr(os, "geteuid") else None,
                       "hostname": socket.gethostname()}
    return facts


def jupyter_key(jreq):
    return "jupyter:" + json.dumps([jreq["python"], jreq["flavor"], jreq["port"]])


def deferred_imports(req):
    """Imports a Jupyter server start proves: `jupyter lab` imports jupyterlab itself, so the
    venv's interpreter need not import it a second time (it does when the server fails)."""
    out = {}
    for jreq in req.get("jupyter", []):
        package = JUPYTER_PACKAGES.get(jreq["flavor"])
        imports = req.get("pythons", {}).get(jreq["python"], {}).get("imports", {})
        for name, module in list(imports.items()):
            if name.lower() == package and module == package:
                out[(jreq["python"], name)] = (module, jupyter_key(jreq))
                del imports[name]
    return out


def settle_deferred(deferred, facts):
    for (python, name), (module, jkey) in sorted(deferred.items()):
        interp = facts.get("interp:" + python) or {}
        if "_error" in interp:
            continue
        if (facts.get(jkey) or {}).get("api") == 200:
            result = {"module": module, "ok": True, "via": "imported by the Jupyter server that started"}
        else:
            alone = in_interpreter(python, "interp", {"imports": {name: module}})
            result = (alone.get("imports") or {}).get(name) or {
                "module": module, "ok": False, "error": alone.get("_error", "the import did not report")}
        interp.setdefault("imports", {})[name] = result


MODES = {"probe": gather, "interp": interp_facts, "torch": torch_facts, "tf": tf_facts}


def main(argv):
    mode, req = argv[1], json.loads(argv[2])
    started = time.time()
    facts = MODES[mode](req)
    if mode == "probe":
        facts["_probe"]["seconds"] = round(time.time() - started, 3)
    sys.stdout.write(json.dumps(facts, sort_keys=True) + "\n")


if __name__ == "__main__":
    if SOURCE is None and sys.argv[0] != "-c":  # run as a file (toolkit importable): ship ourselves
        from toolkit.targets.shipping import script

        SOURCE = script(os.path.abspath(sys.argv[0]))
    main(sys.argv)
