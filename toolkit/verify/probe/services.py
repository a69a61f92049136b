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
PROXY_WAIT = 2           # seconds a proxy gets to listen again (a reload keeps its socket); none: no Jupyter to wait for
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
    base = "http://%s:%d%sapi/status" % ("[%s]" % host if ":" in host else host, port, req.get("base_url", "/"))
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


def tls_fingerprint(port, timeout=5):
    """(sha256 of the certificate 127.0.0.1:port presents, or None, error text)."""
    import hashlib
    import socket
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE        # the certificate is compared with the file, not a CA
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as conn:
                der = conn.getpeercert(binary_form=True)
                return (hashlib.sha256(der).hexdigest() if der else None), ("" if der else "no certificate")
    except Exception as exc:
        return None, str(exc)[:200]


def file_fingerprint(path):
    import hashlib
    import ssl
    text = read(path)
    if not text or "-----BEGIN CERTIFICATE-----" not in text:
        return None
    pem = text[text.index("-----BEGIN CERTIFICATE-----"):]
    pem = pem[:pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def https_request(port, path, method="GET", token=None, body=None, timeout=10):
    """(status, body text) of a request to https://127.0.0.1:port/path, the certificate not verified."""
    import http.client
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)
    headers = {"Authorization": "token " + token} if token else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    except Exception as exc:
        return None, str(exc)[:200]
    finally:
        conn.close()


def plain_http(port, path="/"):
    """(status, Location) of GET http://127.0.0.1:port/path, redirects not followed."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Location") or ""
    except Exception as exc:
        return None, str(exc)[:200]
    finally:
        conn.close()


def ws_frame(payload, opcode=1):
    """One masked client frame (RFC 6455)."""
    import struct
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_read(conn, buffer):
    """(opcode, payload, rest of buffer) of the next whole server frame."""
    import struct

    def need(n, buf):
        while len(buf) < n:
            chunk = conn.recv(65536)
            if not chunk:
                raise EOFError("the websocket closed")
            buf += chunk
        return buf
    buffer = need(2, buffer)
    opcode, n, at = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
    if n == 126:
        buffer = need(4, buffer)
        n, at = struct.unpack("!H", buffer[2:4])[0], 4
    elif n == 127:
        buffer = need(10, buffer)
        n, at = struct.unpack("!Q", buffer[2:10])[0], 10
    buffer = need(at + n, buffer)
    return opcode, buffer[at:at + n], buffer[at + n:]


def kernel_runs(port, base_url, token, code="1+1", timeout=90):
    """Start a kernel through the proxy, run code over its websocket, stop it: (text/plain result or None, error)."""
    import base64
    import socket
    import ssl
    import uuid
    status, text = https_request(port, base_url + "api/kernels", "POST", token, body="{}")
    if status != 201:
        return None, "POST %sapi/kernels: %s %s" % (base_url, status, text[:200])
    kernel = json.loads(text)["id"]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    msg_id, session = uuid.uuid4().hex, uuid.uuid4().hex
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as conn:
                key = base64.b64encode(os.urandom(16)).decode()
                conn.sendall(("GET %sapi/kernels/%s/channels?session_id=%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                              "Origin: https://127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nAuthorization: token %s\r\n\r\n"
                              % (base_url, kernel, session, port, port, key, token)).encode())
                buffer = b""
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return None, "the websocket handshake got no answer"
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                if b" 101 " not in head.split(b"\r\n")[0]:
                    return None, "websocket upgrade refused: " + head.split(b"\r\n")[0].decode("latin-1")
                request = {"header": {"msg_id": msg_id, "username": "toolkit-verify", "session": session,
                                      "msg_type": "execute_request", "version": "5.3", "date": ""},
                           "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                           "content": {"code": code, "silent": False, "store_history": False,
                                       "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}
                conn.sendall(ws_frame(json.dumps(request).encode()))
                started, partial = time.time(), b""
                while time.time() - started < timeout:
                    opcode, payload, buffer = ws_read(conn, buffer)
                    if opcode == 8:
                        return None, "the websocket was closed"
                    if opcode in (1, 2, 0):
                        partial += payload
                        try:
                            msg = json.loads(partial.decode("utf-8"))
                        except ValueError:
                            continue
                        partial = b""
                        if msg.get("parent_header", {}).get("msg_id") != msg_id:
                            continue
                        kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
                        if kind == "execute_result":
                            return msg["content"]["data"].get("text/plain"), ""
                        if kind == "error":
                            return None, "%s: %s" % (msg["content"].get("ename"), msg["content"].get("evalue"))
                return None, "no result within %ds" % timeout
    except Exception as exc:
        return None, "%s: %s" % (type(exc).__name__, str(exc)[:200])
    finally:
        https_request(port, base_url + "api/kernels/" + kernel, "DELETE", token)


def jupyter_proxy(req):
    """Facts of Nginx in front of Jupyter: the certificate it presents against the file, the HTTP redirect,
    the API without the token, a kernel over the websocket (with the token from the container's environment or,
    on a host, the service's root-only file: it never leaves this process), where Jupyter itself listens."""
    port, base = req["port"], req["base_url"]
    out = {"presented": None, "on_file": file_fingerprint(req["cert"])}
    started = time.time()
    while not listening(port) and time.time() - started < PROXY_WAIT:
        time.sleep(0.5)        # Nginx just reloaded by apply
    while listening(port) and not listening(req["jupyter_port"]) and time.time() - started < START_WAIT:
        time.sleep(0.5)        # Jupyter just (re)started by apply: the proxy has nothing to pass to yet
    out["presented"], out["tls_error"] = tls_fingerprint(port)
    out["http"], out["location"] = plain_http(req["http_port"])
    out["no_token"], _ = https_request(port, base + "api/contents")
    out["jupyter_listening"] = listening(req["jupyter_port"])
    token, out["token_from"] = os.environ.get("JUPYTER_TOKEN"), "the environment"
    if not token and req["env_file"]:
        token, state, how = secret(req["env_file"], "JUPYTER_TOKEN")
        out["token_from"] = "%s (%s)" % (req["env_file"], how if token else state)
    if not token:
        out["token_from"] = None
        return out
    out["with_token"], _ = https_request(port, base + "api/contents", token=token)
    out["kernel_result"], out["kernel_error"] = kernel_runs(port, base, token)
    return out


def jupyter_proxy_key(preq):
    return "jupyter_proxy:" + json.dumps([preq["port"], preq["base_url"], preq["cert"]])
