"""jupyter.hub on a real systemd host (tests/integration/systemd_host.py), applied over SSH as `deploy`.

Two accounts from `users:`. Their passwords are set on the host by the test as root (chpasswd): toolkit gives
accounts none, and PAM refuses an account without one. Then, from inside the host, through Nginx on
https://127.0.0.1:443/jl/ (a stdlib client; the probe's own kernel_runs): each account logs in with the hub's
HTML login form (a wrong password is refused), makes an API token with its session, starts its own server, and runs
code in a kernel over the websocket that reports the Unix user it runs as; the server's process belongs to that
account; one account's token does not open the other's server. verify (as root) passes after.
"""

from __future__ import annotations

import json
import time

import pytest

from toolkit.verify import facts

from . import systemd_host

pytestmark = [pytest.mark.docker, pytest.mark.ssh, pytest.mark.slow]

PROFILE = """\
name: hub-host
os: {distro: debian, version: "12"}
git: {enabled: false}
users:
  - {name: alice, uid: 2001}
  - {name: bob, uid: 2002}
jupyter:
  enabled: true
  hub: true
  proxy: {tls: true, base_url: /jl/}
"""
PASSWORDS = {"alice": "alice-pw-7Q2", "bob": "bob-pw-9X4"}
# Runs on the host: argv = probe source, user, password. Prints one JSON line of what it saw.
CLIENT = r"""
import http.client, json, re, ssl, sys, time, urllib.parse
ns = {}
exec(compile(sys.argv[1], "probe", "exec"), ns)
user, password, other = sys.argv[2], sys.argv[3], sys.argv[4]
BASE = "/jl/"
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE

def req(method, path, cookies, body=None, headers=None):
    c = http.client.HTTPSConnection("127.0.0.1", 443, context=ctx, timeout=30)
    h = dict(headers or {})
    if cookies:
        h["Cookie"] = "; ".join("%s=%s" % kv for kv in cookies.items())
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read().decode("utf-8", "replace")
    for k, v in r.getheaders():
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            cookies[name.strip()] = rest.split(";")[0]
    return r.status, r.getheader("Location") or "", data

def login(pw):
    cookies = {}
    started = time.time()
    status, _, page = req("GET", BASE + "hub/login", cookies)
    # the hub just started by apply: Nginx has nothing to pass to (502) or the hub's proxy has no route yet (404)
    while status in (404, 502, 503, 504) and time.time() - started < 90:
        time.sleep(1)
        status, _, page = req("GET", BASE + "hub/login", cookies)
    m = re.search(r'name="_xsrf"[^>]*value="([^"]+)"', page) or re.search(r'value="([^"]+)"[^>]*name="_xsrf"', page)
    xsrf = m.group(1) if m else cookies.get("_xsrf")     # tornado takes the cookie's token as the form's too
    if not xsrf:
        raise SystemExit("no _xsrf on the login page: %s %s %r" % (status, sorted(cookies), page[:600]))
    body = urllib.parse.urlencode({"username": user, "password": pw, "_xsrf": xsrf})
    status, where, _ = req("POST", BASE + "hub/login", cookies, body,
                           {"Content-Type": "application/x-www-form-urlencoded"})
    return status, where, cookies

out = {}
out["wrong_password"] = login(password + "x")[0]
out["login"], out["login_to"], cookies = login(password)
status, _, text = req("POST", BASE + "hub/api/users/%s/tokens" % user, cookies, json.dumps({"note": "test"}),
                      {"X-XSRFToken": cookies.get("_xsrf", ""), "Content-Type": "application/json"})
out["token_status"] = status
if status not in (200, 201):
    out["token_answer"] = text[:400]
token = json.loads(text)["token"] if status in (200, 201) else None
if token:
    auth = {"Authorization": "token " + token}
    out["spawn"] = req("POST", BASE + "hub/api/users/%s/server" % user, {}, "{}", auth)[0]
    started = time.time()
    while time.time() - started < 120:
        out["status"] = req("GET", BASE + "user/%s/api/status" % user, {}, None, auth)[0]
        if out["status"] == 200:
            break
        time.sleep(1)
    out["ready_s"] = round(time.time() - started, 1)
    out["whoami"], out["kernel_error"] = ns["kernel_runs"](443, BASE + "user/%s/" % user, token,
                                                           code="import getpass; getpass.getuser()")
    out["other"] = req("GET", BASE + "user/%s/api/status" % other, {}, None, auth)[0]
print(json.dumps(out))
"""
# TCP ports listening on an address that is not loopback (IPv4 and IPv6), from /proc
WIDE = r"""
import ipaddress, sys
for name in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(name).read().splitlines()[1:]:
        f = line.split()
        if f[3] != "0A":
            continue
        raw = bytes.fromhex(f[1].split(":")[0])
        raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
        if not ipaddress.ip_address(raw).is_loopback:
            print(int(f[1].split(":")[1], 16))
"""
# owners of the jupyterhub-singleuser processes
SERVERS = r"""
import os, pwd
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        if b"jupyterhub-singleuser" in open("/proc/%s/cmdline" % pid, "rb").read():
            print(pwd.getpwuid(os.stat("/proc/" + pid).st_uid).pw_name)
    except OSError:
        pass
"""


def root(target, script: str, *args: str) -> str:
    rc, out = systemd_host.run_as_root(target.container, script, *args)
    assert rc == 0, out
    return out


def test_two_accounts_log_in_and_each_gets_their_own_server(systemd_target, host_ca_bundle, tmp_path):
    target = systemd_target()
    profile = tmp_path / "profile.yaml"
    text = PROFILE
    if host_ca_bundle is not None:     # a TLS-intercepting proxy: pip and npm on the host trust it through the profile
        (tmp_path / "ca.pem").write_text(host_ca_bundle.read_text())
        text += "network: {ca_certificates: [ca.pem]}\n"
    profile.write_text(text)
    toolkit = systemd_host.toolkit_over_ssh(target, tmp_path)

    started = time.monotonic()
    first = toolkit("apply", str(profile), "--no-verify")
    assert first.returncode == 0, first.stdout + first.stderr
    print(f"apply: {time.monotonic() - started:.1f}s")
    assert root(target, "systemctl is-active toolkit-jupyterhub.service toolkit-jupyter_proxy.service"
                ).split() == ["active", "active"]
    # only Nginx listens beyond loopback (the hub, its proxy and the servers are on 127.0.0.1)
    wide = set(root(target, 'exec python3 -c "$1"', WIDE).split())
    assert wide <= {"22", "80", "443"}, wide

    # the admin sets the passwords (toolkit gives none): the only test-only step
    root(target, 'printf "%s\\n" "$@" | chpasswd', *(f"{u}:{p}" for u, p in PASSWORDS.items()))
    probe = facts.shipped_source()
    for user, other in (("alice", "bob"), ("bob", "alice")):
        t0 = time.monotonic()
        rc, said = systemd_host.run_as_root(target.container, 'c=$1; shift; exec python3 -c "$c" "$@"', CLIENT,
                                            probe, user, PASSWORDS[user], other)
        journal = "" if rc == 0 else root(target, "journalctl -u toolkit-jupyterhub.service --no-pager -n 80")
        assert rc == 0, said + journal
        got = json.loads(said.strip().splitlines()[-1])
        print(f"{user}: {time.monotonic() - t0:.1f}s {got}")
        assert got["wrong_password"] == 403, got
        assert got["login"] == 302 and got["login_to"].startswith("/jl/"), got
        assert got["token_status"] == 201 and got["status"] == 200, got
        assert got["whoami"] == f"'{user}'", got                 # the kernel runs as the account itself
        assert got["other"] in (403, 404, 302), got              # the other account's server is not theirs
        assert user in root(target, 'exec python3 -c "$1"', SERVERS).split()   # its server's process is its own

    started = time.monotonic()
    res = toolkit("verify", str(profile), "--json", user="root")
    print(f"verify: {time.monotonic() - started:.1f}s")
    assert res.returncode == 0, res.stdout + res.stderr
    (check,) = [c for c in json.loads(res.stdout)["checks"] if c["kind"] == "jupyterhub"]
    assert check["status"] == "passed" and "user list without a login: 403" in check["found"], check
    print(check["found"])
