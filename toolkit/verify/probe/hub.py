"""Probe part: JupyterHub behind toolkit's Nginx (jupyter.hub): the certificate Nginx presents against the file,
the hub's API root over HTTPS (it answers without a login: its version), the user list without a login (refused),
whether the hub's unit is active. No login is tried: the probe holds no password and makes no token."""

import json
import time

from .base import read, run
from .services import PROXY_WAIT, START_WAIT, file_fingerprint, https_request, listening, tls_fingerprint


def jupyterhub(req):
    port, base = req["port"], req["base_url"] + "hub/api/"
    out = {"presented": None, "on_file": file_fingerprint(req["cert"]), "version": None}
    out["pid1"] = read("/proc/1/comm").strip()
    out["active"] = run(["systemctl", "is-active", "--", req["unit"]])["out"].strip()
    started = time.time()
    while not listening(port) and time.time() - started < PROXY_WAIT:
        time.sleep(0.5)
    out["presented"], out["tls_error"] = tls_fingerprint(port)
    status, text = https_request(port, base)
    while (status in (502, 503, 504) or (status == 404 and out["active"] in ("active", "activating"))) \
            and time.time() - started < START_WAIT:
        # the hub (re)started by apply: Nginx has nothing to pass to yet (502), or the hub's proxy answers before
        # the hub has added its own route (404 for a second or two)
        time.sleep(1)
        status, text = https_request(port, base)
    out["api"] = status
    try:
        out["version"] = json.loads(text).get("version") if status == 200 else None
    except ValueError:
        out["version"] = None
    out["users_no_login"], _ = https_request(port, base + "users")
    return out


def jupyterhub_key(preq):
    return "jupyterhub:" + json.dumps([preq["port"], preq["base_url"], preq["cert"]])
