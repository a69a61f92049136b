"""Probe part: a systemd service toolkit set up on a host (jupyter.service): the unit's state, who runs
it, where it listens, and whether its API wants the token. The token is read as root (or through
password-less sudo) from the unit's EnvironmentFile and never leaves this process: the facts hold
HTTP status codes and yes/no answers only."""

import ipaddress
import json
import os
import pwd
import shutil
import sys
import time

from .base import read, run
from .servers import http_status

JOURNAL_LINES = 20000
START_WAIT = 60          # seconds a unit that is (re)starting gets to listen (Jupyter takes a few)
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1"}


def decode_address(hexaddr):
    """An address as /proc/net/tcp{,6} prints it (32-bit words in host byte order) -> text."""
    raw = bytes.fromhex(hexaddr)
    if sys.byteorder == "little":
        raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(raw))


def listening(port, tables=("/proc/net/tcp", "/proc/net/tcp6")):
    """The addresses a TCP socket listens on at port (state 0A is LISTEN)."""
    found = set()
    for path in tables:
        for line in (read(path) or "").splitlines()[1:]:
            fields = line.split()
            if len(fields) < 4 or fields[3] != "0A" or ":" not in fields[1]:
                continue
            address, _, hexport = fields[1].rpartition(":")
            if int(hexport, 16) == port:
                found.add(decode_address(address))
    return sorted(found)


def as_root(argv):
    """(result, how): argv as root, directly when the probe is root, else through `sudo -n` (never a prompt)."""
    if os.geteuid() == 0:
        return run(argv), "as root"
    if not shutil.which("sudo"):
        return {"rc": 1, "out": "", "err": "sudo: not installed"}, "no_root"
    return run(["sudo", "-n", "--"] + argv), "through sudo -n"


def env_value(text, name):
    """The value of name in an EnvironmentFile's text: the last assignment wins, quotes stripped."""
    value = None
    for line in text.splitlines():
        key, sep, rest = line.strip().partition("=")
        if sep and key.strip() == name:
            rest = rest.strip()
            if len(rest) >= 2 and rest[0] == rest[-1] and rest[0] in "'\"":
                rest = rest[1:-1]
            value = rest
    return value


def secret(path, name):
    """(value or None, state, how): state "read", "missing" (no file or no value) or "no_root"."""
    res, how = as_root(["cat", "--", path])
    if res["rc"] != 0:
        if how != "as root" and (how == "no_root" or res["err"].startswith("sudo:")):
            return None, "no_root", "the probe runs as uid %d without password-less sudo" % os.geteuid()
        return None, "missing", (res["err"].strip().splitlines() or ["cannot read %s" % path])[-1][:200]
    value = env_value(res["out"], name)
    if not value:
        return None, "missing", "%s holds no %s" % (path, name)
    return value, "read", how


def process_user(pid):
    if not pid.isdigit() or pid == "0":
        return None
    try:
        uid = os.stat("/proc/" + pid).st_uid
    except OSError:
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def jupyter_service(req):
    """Facts of the host's Jupyter unit; {"pid1": ...} alone where systemd is not PID 1 (a container)."""
    out = {"pid1": (read("/proc/1/comm") or "").strip()}
    if out["pid1"] != "systemd":
        return out
    unit, port = req["unit"], req["port"]
    out["enabled"] = run(["systemctl", "is-enabled", "--", unit])["out"].strip()
    out["active"] = run(["systemctl", "is-active", "--", unit])["out"].strip()
    out["user"] = process_user(run(["systemctl", "show", "--property", "MainPID", "--value", "--", unit])["out"].strip())
    out["listening"] = listening(port)
    started = time.time()
    while not out["listening"] and out["active"] in ("active", "activating") and time.time() - started < START_WAIT:
        time.sleep(0.5)      # just (re)started by apply: give it the time to listen
        out["active"] = run(["systemctl", "is-active", "--", unit])["out"].strip()
        out["listening"] = listening(port)
    host = WILDCARDS.get(req["ip"], req["ip"])
    base = "http://%s:%d/api/status" % ("[%s]" % host if ":" in host else host, port)
    out["no_token"] = http_status(base)
    token, out["token_state"], out["token_how"] = secret(req["env_file"], "JUPYTER_TOKEN")
    if token:
        out["with_token"] = http_status(base, token=token)
        journal, _ = as_root(["journalctl", "--unit", unit, "--no-pager", "--output", "cat",
                              "--lines", str(JOURNAL_LINES)])
        out["journal_read"] = journal["rc"] == 0
        out["token_in_journal"] = token in journal["out"] or token in journal["err"]
    return out


def jupyter_service_key(sreq):
    return "jupyter_service:" + json.dumps([sreq["unit"], sreq["ip"], sreq["port"], sreq["env_file"]])


def metrics_endpoint(req):
    """Facts of a Prometheus exporter's unit and its /metrics page: state, HTTP status, sample lines and
    whether req["metric"] is among them ({"pid1": ...} alone where systemd is not PID 1)."""
    import urllib.error
    import urllib.request
    out = {"pid1": (read("/proc/1/comm") or "").strip()}
    if out["pid1"] != "systemd":
        return out
    unit, port = req["unit"], req["port"]
    out["active"] = run(["systemctl", "is-active", "--", unit])["out"].strip()
    out["enabled"] = run(["systemctl", "is-enabled", "--", unit])["out"].strip()
    host = WILDCARDS.get(req["ip"], req["ip"])
    url = "http://%s:%d/metrics" % ("[%s]" % host if ":" in host else host, port)
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    started = time.time()
    while True:
        try:
            with direct.open(url, timeout=5) as resp:
                out["status"], body = resp.status, resp.read(4 << 20).decode("utf-8", "replace")
            break
        except urllib.error.HTTPError as exc:
            out["status"], body = exc.code, ""
            break
        except Exception as exc:
            out["status"], body = None, ""
            out["error"] = str(exc)[:200]
            if out["active"] not in ("active", "activating") or time.time() - started > START_WAIT:
                break
            time.sleep(0.5)      # just (re)started by apply
    samples = [line for line in body.splitlines() if line and not line.startswith("#")]
    out["samples"] = len(samples)
    out["has_metric"] = any(line.split("{")[0].split(" ")[0] == req["metric"] for line in samples)
    return out


def metrics_endpoint_key(mreq):
    return "metrics_endpoint:" + json.dumps([mreq["unit"], mreq["ip"], mreq["port"], mreq["metric"]])
