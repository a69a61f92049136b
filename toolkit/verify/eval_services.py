"""Evaluator for the host services toolkit sets up (jupyter.service: the systemd unit and its token)."""

from __future__ import annotations

import ipaddress

from toolkit.verify.outcome import Outcome
from toolkit.verify.probe import jupyter_proxy_key, jupyter_service_key, jupyterhub_key, metrics_endpoint_key

REFUSED = (401, 403)


def _same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a == b


def _listening(p: dict, f: dict) -> tuple[str, str | None]:
    """(what listens, a problem or None): only the configured address, unless that is a wildcard."""
    found = f.get("listening") or []
    where = ", ".join(found) or "nothing"
    if not found:
        return f"nothing listens on port {p['port']}", f"nothing listens on port {p['port']}"
    if p["ip"] in ("0.0.0.0", "::") or all(_same_address(a, p["ip"]) for a in found):
        return f"listening on {where}", None
    return f"listening on {where}", f"listens on {where}, not only on {p['ip']}"


def jupyter_service(p: dict, facts: dict) -> Outcome:
    f = facts.get(jupyter_service_key(p)) or {}
    unit, env_file = p["unit"], p["env_file"]
    expected = (f"{unit} enabled and active as {p['user']}, listening on {p['ip']}:{p['port']} only; /api/status "
                f"refuses a request without the token (401/403) and answers one with the token from {env_file} "
                "(200); the token not in the unit's journal")
    if "_error" in f:
        return Outcome(False, expected, f["_error"], "")
    if f.get("pid1") != "systemd":
        return Outcome(False, expected, f"PID 1 is {f.get('pid1') or 'unknown'}, not systemd (a container?): "
                       "there is no unit to check here",
                       "the service runs on hosts booted with systemd; a container runs Jupyter as its CMD",
                       skipped=True)
    problems: list[tuple[str, str]] = []   # (what is wrong, what to do)
    if f.get("enabled") != "enabled":
        problems.append((f"is-enabled says {f.get('enabled') or 'nothing'}", f"sudo systemctl enable --now {unit}"))
    if f.get("active") != "active":
        problems.append((f"is-active says {f.get('active') or 'nothing'}",
                         f"read why: sudo journalctl -u {unit} -n 50; then apply the profile again"))
    if f.get("user") and f["user"] != p["user"]:
        problems.append((f"runs as {f['user']}", f"re-apply the profile: the unit runs as {p['user']}"))
    where, wrong = _listening(p, f)
    if wrong:
        problems.append((wrong, f"bind Jupyter to jupyter.ip ({p['ip']}) only; reach it through an SSH tunnel"))
    found = [f"{f.get('enabled')}, {f.get('active')}, runs as {f.get('user') or 'nobody'}, {where}",
             f"/api/status without the token: {f.get('no_token')}"]
    if f.get("no_token") is None:
        problems.append((f"no answer on {p['ip']}:{p['port']}", f"read why: sudo journalctl -u {unit} -n 50"))
    elif f.get("no_token") not in REFUSED:
        problems.append(("the API answers without the token",
                         f"authentication must stay on: {unit} reads JUPYTER_TOKEN from {env_file}"))
    state, how = f.get("token_state"), f.get("token_how") or ""
    if state == "read":
        found.append(f"with the token (read {how}): {f.get('with_token')}")
        if f.get("with_token") != 200:
            problems.append((f"the token in {env_file} is refused",
                             f"the server runs with another token: sudo systemctl restart {unit}"))
        if f.get("token_in_journal"):
            problems.append(("the token is in the unit's journal",
                             f"make a new one: sudo rm {env_file}, apply the profile again, then "
                             "sudo journalctl --rotate --vacuum-time=1s"))
        elif f.get("journal_read"):
            found.append("the token is not in the journal")
    elif state == "no_root":
        found.append(f"the token was not checked: reading {env_file} needs root ({how}); verify as root to check it")
    else:
        problems.append((f"no token: {how}", f"apply the profile again: it makes {env_file}"))
    if problems:
        found.insert(0, "; ".join(what for what, _ in problems))
    return Outcome(not problems, expected, "; ".join(found), "; ".join(dict.fromkeys(h for _, h in problems)))


def metrics_endpoint(p: dict, facts: dict) -> Outcome:
    """A Prometheus exporter (monitoring:): its unit active, /metrics answering 200 with the metric in it. The GPU
    exporter's check is of the GPU tier: verify skips it, saying so, where no GPU is visible."""
    f = facts.get(metrics_endpoint_key(p)) or {}
    unit, where = p["unit"], f"{p['ip']}:{p['port']}"
    expected = f"{unit} enabled and active; http://{where}/metrics answers 200 with {p['metric']}"
    if "_error" in f:
        return Outcome(False, expected, f["_error"], "")
    if f.get("pid1") != "systemd":
        return Outcome(False, expected, f"PID 1 is {f.get('pid1') or 'unknown'}, not systemd (a container?): "
                       "there is no unit to check here", "exporters run as systemd units on hosts", skipped=True)
    found = (f"{f.get('enabled') or 'not enabled'}, {f.get('active') or 'not active'}; /metrics: "
             f"{f.get('status') or f.get('error') or 'no answer'}, {f.get('samples', 0)} samples")
    logs = f"read why: sudo journalctl -u {unit} -n 50; then apply the profile again"
    if f.get("active") != "active" or f.get("enabled") != "enabled":
        return Outcome(False, expected, found, logs)
    if f.get("status") != 200:
        return Outcome(False, expected, found, f"nothing answers on {where}: check monitoring.listen, then {logs}")
    if not f.get("has_metric"):
        return Outcome(False, expected, found + f", no {p['metric']}", logs)
    return Outcome(True, expected, found, "")


def jupyter_proxy(p: dict, facts: dict) -> Outcome:
    """Nginx in front of Jupyter (jupyter.proxy.tls)."""
    f = facts.get(jupyter_proxy_key(p)) or {}
    port, cert = p["port"], p["cert"]
    expected = (f"HTTPS on {port} presents {cert}; HTTP on {p['http_port']} redirects to https://; "
                f"{p['base_url']}api refuses a request without the token; a kernel runs 1+1 over a websocket; "
                f"Jupyter itself listens on loopback only")
    if "_error" in f:
        return Outcome(False, expected, f["_error"], "")
    if f.get("presented") is None:
        return Outcome(False, expected, f"no TLS answer on {port}: {f.get('tls_error')}",
                       "is the proxy running? an image: docker run -p 127.0.0.1:443:443 ...; a host: "
                       "sudo journalctl -u toolkit-jupyter_proxy.service -n 50")
    problems: list[tuple[str, str]] = []
    if f.get("presented") != f.get("on_file"):
        problems.append((f"the certificate on {port} is not {cert}" if f.get("on_file") else f"{cert} is unreadable",
                         "restart the proxy after replacing the certificate"))
    if f.get("http") not in (301, 302, 307, 308) or not str(f.get("location", "")).startswith("https://"):
        problems.append((f"HTTP answers {f.get('http')} {f.get('location')}", "HTTP must redirect to HTTPS"))
    if f.get("no_token") not in REFUSED:
        problems.append((f"the API answers {f.get('no_token')} without the token", "Jupyter must require its token"))
    exposed = [a for a in f.get("jupyter_listening") or [] if not ipaddress.ip_address(a).is_loopback]
    if exposed:
        problems.append((f"Jupyter listens on {', '.join(exposed)}", "Jupyter must listen on 127.0.0.1 only"))
    found = [f"certificate {'matches' if f.get('presented') == f.get('on_file') else 'differs'}",
             f"HTTP {f.get('http')}", f"API without the token: {f.get('no_token')}",
             f"Jupyter on {', '.join(f.get('jupyter_listening') or []) or 'nothing'}"]
    if f.get("token_from"):
        found.append(f"kernel (token from {f['token_from']}): {f.get('kernel_result') or f.get('kernel_error')}")
        if f.get("kernel_result") != "2":
            problems.append((f"1+1 over the websocket gave {f.get('kernel_result') or f.get('kernel_error')}",
                             "the proxy must pass websocket upgrades (Upgrade/Connection headers)"))
    else:
        found.append("kernel not tried: no token here (run the container with -e JUPYTER_TOKEN, or verify a host as root)")
    if problems:
        return Outcome(False, expected, "; ".join(what for what, _ in problems) + " (" + ", ".join(found) + ")",
                       "; ".join(dict.fromkeys(fix for _, fix in problems)))
    return Outcome(True, expected, ", ".join(found), "")


def jupyterhub(p: dict, facts: dict) -> Outcome:
    """JupyterHub behind Nginx (jupyter.hub)."""
    f = facts.get(jupyterhub_key(p)) or {}
    api = f"https://127.0.0.1:{p['port']}{p['base_url']}hub/api/"
    expected = (f"{p['unit']} active; {api} answers with the hub's version over TLS presenting {p['cert']}; "
                f"{api}users refuses a request without a login")
    if "_error" in f:
        return Outcome(False, expected, f["_error"], "")
    if f.get("pid1") not in (None, "", "systemd"):
        return Outcome(False, expected, f"PID 1 is {f.get('pid1')}, not systemd (a container?): no hub unit here",
                       "the hub runs on hosts booted with systemd", skipped=True)
    unit_hint = f"sudo journalctl -u {p['unit']} -n 50"
    if f.get("presented") is None:
        return Outcome(False, expected, f"no TLS answer on {p['port']}: {f.get('tls_error')} (hub unit: "
                       f"{f.get('active') or 'unknown'})", "is toolkit-jupyter_proxy.service running? " + unit_hint)
    problems: list[tuple[str, str]] = []
    if f.get("active") != "active":
        problems.append((f"{p['unit']} is {f.get('active') or 'unknown'}", f"sudo systemctl start {p['unit']}; "
                         + unit_hint))
    if f.get("presented") != f.get("on_file"):
        problems.append((f"the certificate on {p['port']} is not {p['cert']}" if f.get("on_file")
                         else f"{p['cert']} is unreadable", "restart the proxy after replacing the certificate"))
    if f.get("api") != 200 or not f.get("version"):
        problems.append((f"the hub's API answers {f.get('api')}", unit_hint))
    if f.get("users_no_login") not in REFUSED:
        problems.append((f"the user list answers {f.get('users_no_login')} without a login",
                         "the hub must require a login (check jupyterhub_config.py's authenticator)"))
    found = (f"unit {f.get('active')}, certificate {'matches' if f.get('presented') == f.get('on_file') else 'differs'}"
             f", API {f.get('api')} (JupyterHub {f.get('version') or '?'}), user list without a login: "
             f"{f.get('users_no_login')}")
    if problems:
        return Outcome(False, expected, "; ".join(w for w, _ in problems) + f" ({found})",
                       "; ".join(dict.fromkeys(h for _, h in problems)))
    return Outcome(True, expected, found, "")
