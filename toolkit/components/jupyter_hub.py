"""jupyter.hub: JupyterHub on hosts, one single-user server per account in `users:`, behind the jupyter.proxy Nginx.

Layout on the host (all on loopback; only Nginx listens outside):

    Nginx :proxy.port (TLS) -> configurable-http-proxy 127.0.0.1:jupyter.port (base_url) -> the hub 127.0.0.1:8081
                                                                               -> each user's server 127.0.0.1:random

The Nginx configuration is the plain proxy's (its upstream is jupyter.port either way), so websockets, base_url,
the redirect and the certificate work the same.

Why the hub runs as root (toolkit-jupyterhub.service) and not as an unprivileged user with sudospawner: logins are
PAM (pam_unix reads /etc/shadow) and each server must run as its account, so an unprivileged hub needs both the
shadow group and sudo rights to start servers as every account: root in all but name, with more moving parts.
Instead the root hub listens on 127.0.0.1 only, behind Nginx; LocalProcessSpawner drops to the account (setuid,
its groups) before the server starts; only the profile's accounts may log in (allowed_users); the hub's database
and cookie secret live in a root-only folder. No account gets a password from toolkit: the admin sets them
(`passwd NAME`); an account without one cannot log in (PAM refuses), so the default is closed.

Images run a single Jupyter (their CMD) and never start the hub (its unit is host-only; its packages are still
installed there): a plan warning says so (`users:` are host-only too).
"""

from __future__ import annotations

import hashlib
import json

from toolkit.components.base import Context, write_file
from toolkit.errors import ProfileError
from toolkit.model.checks import Check, check
from toolkit.model.steps import Directory, PipInstall, RunCommand, Service, Step

CHP_VERSION = "4.6.3"          # configurable-http-proxy; 5.x needs Node.js 20 (Debian 12 ships 18)
CHP = "/usr/local/bin/configurable-http-proxy"
HUB_DIR = "/var/lib/toolkit/jupyterhub"
CONFIG = "/etc/toolkit/jupyterhub_config.py"
HUB_PORT = 8081                # the hub's own API, behind configurable-http-proxy
CHP_API_PORT = 8001
UNIT = "toolkit-jupyterhub.service"
IMAGE_NOTE = ("jupyter.hub: hosts only (one server per `users:` account); an image runs a single Jupyter behind "
              "Nginx as its CMD (the hub's packages are installed there but never started)")
# sh -c PROBE VERSION: the pinned proxy is installed (npm's global folder puts it in /usr/local/bin)
CHP_PROBE = f'[ "$({CHP} --version 2>/dev/null)" = "$1" ]'


def config(venv: str, port: int, base_url: str, users: list[str]) -> str:
    """jupyterhub_config.py: every value written as a JSON literal (valid Python for str, int, list)."""
    def lit(v) -> str:
        return json.dumps(v)
    return f"""\
# Written by toolkit (jupyter.hub). JupyterHub on loopback behind toolkit's Nginx; see
# toolkit/components/jupyter_hub.py for why it runs as root.
c = get_config()  # noqa: F821
c.JupyterHub.bind_url = {lit(f"http://127.0.0.1:{port}{base_url}")}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {HUB_PORT}
c.ConfigurableHTTPProxy.api_url = {lit(f"http://127.0.0.1:{CHP_API_PORT}")}
c.ConfigurableHTTPProxy.command = {lit([CHP])}
c.JupyterHub.db_url = {lit(f"sqlite:///{HUB_DIR}/jupyterhub.sqlite")}
c.JupyterHub.cookie_secret_file = {lit(f"{HUB_DIR}/jupyterhub_cookie_secret")}
c.JupyterHub.pid_file = {lit(f"{HUB_DIR}/jupyterhub.pid")}
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = set({lit(sorted(users))})
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = {lit([f"{venv}/bin/jupyterhub-singleuser"])}
c.Spawner.ip = "127.0.0.1"
c.Spawner.default_url = "/lab"
c.Spawner.http_timeout = 60
c.Spawner.start_timeout = 120
"""


def problems(ctx: Context) -> None:
    """hub: true needs the proxy, accounts, no single-user service, and ports of its own."""
    j = ctx.profile.jupyter
    found = []
    if not j.proxy.tls:
        found.append(ctx.loaded.problem("jupyter.hub", "the hub is served behind Nginx: it needs jupyter.proxy.tls: "
                                        "true", "add proxy: {tls: true} under jupyter:"))
    if not ctx.profile.users:
        found.append(ctx.loaded.problem("jupyter.hub", "the hub runs one server per account in users:, and there "
                                        "is none", "list the team's accounts under users:"))
    if j.service:
        found.append(ctx.loaded.problem("jupyter.service", "jupyter.service runs one server as user.name; with hub: "
                                        "true the hub runs one per account", "leave service out (false)"))
    if j.port in (HUB_PORT, CHP_API_PORT):
        found.append(ctx.loaded.problem("jupyter.port", f"with hub: true ports {HUB_PORT} and {CHP_API_PORT} are "
                                        "the hub's and its proxy's own", "choose another jupyter.port"))
    if found:
        raise ProfileError(found)


def steps(ctx: Context, pip: dict) -> list[Step]:
    """After Jupyter and the proxy's steps: Node.js/npm, the pinned proxy, JupyterHub, its folder, configuration
    and unit. The configuration's digest is in the unit: a change restarts the hub."""
    j, t = ctx.profile.jupyter, ctx.target
    text = config(t.venv, j.port, j.proxy.base_url, [a.name for a in ctx.profile.users])
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return [
        ctx.os_packages("jupyter", "Node.js and npm (JupyterHub's proxy)", ("nodejs", "npm")),
        RunCommand("jupyter", f"configurable-http-proxy {CHP_VERSION} (npm)",
                   # npm trusts what the OS trusts (network.ca_certificates included), not only its own list
                   argv=("npm", "install", "--global", "--no-audit", "--no-fund", "--no-update-notifier",
                         f"--cafile={ctx.family.ca_bundle}", f"configurable-http-proxy@{CHP_VERSION}"),
                   unless=("sh", "-c", CHP_PROBE, "probe", CHP_VERSION)),
        PipInstall("jupyter", "JupyterHub", venv=t.venv, requirements=("jupyterhub",), **pip),
        Directory("jupyter", f"JupyterHub folder {HUB_DIR}", path=HUB_DIR, owner="root", group="root", mode="0700"),
        write_file("jupyter", "JupyterHub configuration", CONFIG, text),
        Service("jupyter", "JupyterHub", name="jupyterhub", command=(f"{t.venv}/bin/jupyterhub", "-f", CONFIG),
                in_image=False, enable_on_host=True, user="root",
                environment=(("PATH", f"{t.venv}/bin:/usr/local/bin:/usr/bin:/bin"),
                             ("TOOLKIT_HUB_CONFIG", digest))),
    ]


def checks(ctx: Context, cert: str) -> list[Check]:
    j = ctx.profile.jupyter
    return [check("jupyterhub", "jupyter", f"JupyterHub answers on HTTPS {j.proxy.port}{j.proxy.base_url}hub/api with "
                  f"the certificate in {cert} and refuses the user list without a login",
                  unit=UNIT, port=j.proxy.port, base_url=j.proxy.base_url, cert=cert,
                  users=tuple(sorted(a.name for a in ctx.profile.users)))]
