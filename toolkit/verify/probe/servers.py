"""Probe part: start Jupyter with a fresh token and ask its API; imports a started server proves."""

import json
import os
import shutil
import socket
import subprocess
import time
import uuid

from .pythons import in_interpreter

JUPYTER_TIMEOUT = 40
JUPYTER_PACKAGES = {"lab": "jupyterlab", "notebook": "notebook"}


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
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # never through a proxy in the env
    try:
        with direct.open(request, timeout=timeout) as resp:
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
        base = "http://127.0.0.1:%d%s" % (port, req.get("base_url", "/").rstrip("/"))   # the service's base_url
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
    assert proc.stderr is not None  # stderr=PIPE
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
