"""Jupyter, Git, the profile's own checks and provenance metadata."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from toolkit.components import jupyter_hub, jupyter_proxy
from toolkit.components.base import Context, Contribution, write_file
from toolkit.components.packages import pip_checks
from toolkit.components.python import pip_source
from toolkit.errors import ProfileError
from toolkit.model.checks import check
from toolkit.model.steps import GitConfig, Metadata, PipInstall, Service

USER_CHECKS = "checks"         # the component of the profile's own checks
JUPYTER_PACKAGES = {"lab": "jupyterlab", "notebook": "notebook"}
JUPYTER_CONFIG = "/etc/jupyter/jupyter_server_config.py"
# On hosts (jupyter.service): the root-only EnvironmentFile of the unit, holding JUPYTER_TOKEN (made on the
# host when absent, kept when present; `toolkit jupyter-token` shows it) and, with auth: password,
# JUPYTER_PASSWORD_HASH as the admin writes it. The unit is toolkit-jupyter.service (host_files.unit_name).
JUPYTER_ENV_FILE = "/etc/toolkit/jupyter.env"
JUPYTER_UNIT = "toolkit-jupyter.service"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PASSWORD_CONFIG = """\
# Written by toolkit (jupyter.auth: password). The password hash is supplied at run time in
# JUPYTER_PASSWORD_HASH (make one with: python -c 'from jupyter_server.auth import passwd; print(passwd())');
# it is never stored in the profile or the image. Without it the server still requires a token.
import os

_hash = os.environ.get("JUPYTER_PASSWORD_HASH", "")
if _hash:
    c.PasswordIdentityProvider.hashed_password = _hash  # noqa: F821 - `c` is Jupyter's config object
"""


def _host_service(venv: str) -> dict:
    """The systemd unit's settings: the venv first on PATH (terminals, `!pip`), the secret file."""
    return {"environment": (("VIRTUAL_ENV", venv), ("PATH", f"{venv}/bin:{SYSTEM_PATH}")),
            "secret_file": JUPYTER_ENV_FILE, "secret_variable": "JUPYTER_TOKEN"}


def jupyter(ctx: Context) -> Contribution:
    out = Contribution()
    j, t = ctx.profile.jupyter, ctx.target
    if not j.enabled:
        return out
    pkg = JUPYTER_PACKAGES[j.flavor]
    out.steps.append(PipInstall("jupyter", f"Jupyter {j.flavor}", venv=t.venv, requirements=(pkg,), **pip_source(ctx)))
    # Authentication is always on: the server reads JUPYTER_TOKEN at start, or generates a
    # random token when none is given. With auth: password the hash comes from
    # JUPYTER_PASSWORD_HASH at start (see PASSWORD_CONFIG). Nothing secret is stored in an image;
    # a host's service reads both from its root-only JUPYTER_ENV_FILE (made on the host).
    if j.auth == "password":
        out.steps.append(write_file("jupyter", "Jupyter password authentication", JUPYTER_CONFIG, PASSWORD_CONFIG))

    proxy = j.proxy.tls
    base_url = j.proxy.base_url if proxy else "/"

    def command(ip: str) -> tuple[str, ...]:
        behind = (f"--ServerApp.base_url={base_url}", "--ServerApp.trust_xheaders=True") if proxy else ()
        return (f"{t.venv}/bin/jupyter", j.flavor, "--no-browser", f"--ip={ip}", f"--port={j.port}",
                "--ServerApp.allow_remote_access=True", *behind)

    health = (f"{t.venv}/bin/python", "-c",
              f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{j.port}{base_url}api', timeout=3)")
    if j.service and not t.user:
        raise ProfileError([ctx.loaded.problem(
            "jupyter.service", "the service would run Jupyter as root (user.create is false)",
            "set user.create: true (the service runs as user.name), or jupyter.service: false")])
    if proxy and j.ip and not ipaddress.ip_address(j.ip).is_loopback:
        raise ProfileError([ctx.loaded.problem(
            "jupyter.ip", "with jupyter.proxy.tls Jupyter listens on loopback only, behind Nginx",
            "leave jupyter.ip out (127.0.0.1), or turn the proxy off")])
    host_ip = j.ip or "127.0.0.1"
    # Containers must listen on every interface to be published; hosts default to loopback
    # (reach it through an SSH tunnel) unless the profile names an address. Behind the proxy: loopback only.
    image_command = command(j.ip or "0.0.0.0")
    if j.hub:
        jupyter_hub.problems(ctx)
    if proxy:
        out.steps += jupyter_proxy.steps(ctx, t.user or "root")
        out.warnings += jupyter_proxy.warnings(ctx)
        image_command = (jupyter_proxy.START, *command("127.0.0.1"))
    out.steps.append(Service("jupyter", "Jupyter server", name="jupyter", command=image_command,
                             host_command=command(host_ip), user=t.user or "root",
                             port=j.proxy.port if proxy else j.port,
                             healthcheck=health, in_image=True, enable_on_host=j.service,
                             **(_host_service(t.venv) if j.service else {})))
    if j.service:
        out.checks.append(check("jupyter_service", "jupyter", f"{JUPYTER_UNIT} enabled and active as {t.user}, "
                                f"on {host_ip}:{j.port}, refusing requests without its token", unit=JUPYTER_UNIT,
                                user=t.user, ip=host_ip, port=j.port, env_file=JUPYTER_ENV_FILE,
                                **({"base_url": base_url} if base_url != "/" else {})))
    if j.hub:
        out.steps += jupyter_hub.steps(ctx, pip_source(ctx))
        out.warnings.append(jupyter_hub.IMAGE_NOTE)
        out.checks += jupyter_hub.checks(ctx, jupyter_proxy.CERT)
    elif proxy:
        out.checks += jupyter_proxy.checks(ctx, JUPYTER_ENV_FILE if j.service else "")
    out.checks += pip_checks("jupyter", t.venv, [pkg])
    out.checks.append(check("jupyter", "jupyter", "Jupyter starts, answers HTTP and refuses the API without a token",
                            python=f"{t.venv}/bin/python", flavor=j.flavor, port=j.port,
                            **_jupyter_extra(base_url, j.hub)))
    return out


def _jupyter_extra(base_url: str, hub: bool) -> dict[str, Any]:
    """The jupyter check's optional params: base_url, and hub (jupyter.port is then JupyterHub's proxy)."""
    return {**({"base_url": base_url} if base_url != "/" else {}), **({"hub": True} if hub else {})}


def git(ctx: Context) -> Contribution:
    out = Contribution()
    g = ctx.profile.git
    if not g.enabled:
        return out
    pkgs = ("git", "git-lfs") if g.lfs else ("git",)
    out.steps.append(ctx.os_packages("git", "Git", pkgs))
    settings = tuple(sorted(g.config.items()))
    if settings or g.lfs:
        out.steps.append(GitConfig("git", "Git configuration", settings=settings, lfs=g.lfs))
    out.checks.append(check("git", "git", "git" + (" and git-lfs" if g.lfs else "") + " installed", lfs=g.lfs))
    for key, value in settings:
        out.checks.append(check("git_config", "git", f"git config {key}", ident=f"git_config:{key}",
                                key=key, value=value))
    return out


def extra_checks(ctx: Context) -> Contribution:
    out = Contribution()
    for c in ctx.profile.checks:
        out.checks.append(check("command", USER_CHECKS, f"profile check {c.name}", ident=f"command:{c.name}",
                                argv=tuple(c.command), expect=c.expect))
    return out


def metadata(ctx: Context, versions: dict) -> Contribution:
    p = ctx.profile
    labels = [
        ("org.opencontainers.image.title", p.name),
        ("org.opencontainers.image.description", p.description),
        ("org.opencontainers.image.source", "toolkit profile " + p.name),
        ("dev.toolkit.profile.digest", ctx.loaded.digest),
    ] + [(f"dev.toolkit.version.{k}", v) for k, v in sorted(versions.items())]
    doc = {"profile": p.model_dump(mode="json"), "digest": ctx.loaded.digest, "versions": versions}
    return Contribution(steps=[Metadata("metadata", "provenance", labels=tuple(labels),
                                        profile_json=json.dumps(doc, indent=2, sort_keys=True) + "\n")])
