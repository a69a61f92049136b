"""`toolkit jupyter-token`: show the token of a host's Jupyter service (jupyter.service: true) and the
SSH tunnel that reaches it.

The token lives on the host in a root-only file (/etc/toolkit/jupyter.env) that apply made there; it is
read over SSH as root (sudo's password, when it needs one, goes to sudo's stdin only) and printed to
stdout alone: never logged, never in an error message, never on a command line.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

import click

from toolkit.commands import options, targeting
from toolkit.components.tools import JUPYTER_ENV_FILE, JUPYTER_UNIT
from toolkit.errors import ToolkitError, UsageError
from toolkit.executors.inventory import LOCAL, Host
from toolkit.ui import out

PROFILE_JSON = "/etc/toolkit/profile.json"      # the applied profile (tools.metadata writes it, 0644)
TIMEOUT = 30
URL_PATHS = {"lab": "/lab", "notebook": "/tree"}
Runner = Callable[[list[str], bool], tuple[int, bytes, str]]   # (argv, as root) -> (rc, stdout, stderr)


@dataclass(frozen=True)
class Service:
    """What the applied profile says about the service (no secret here)."""

    port: int
    ip: str
    flavor: str
    auth: str


def service_of(profile_json: str, where: str) -> Service:
    try:
        j = json.loads(profile_json)["profile"]["jupyter"]
        service = Service(int(j["port"]), j.get("ip") or "127.0.0.1", j.get("flavor", "lab"), j.get("auth", "token"))
    except (ValueError, KeyError, TypeError):
        raise ToolkitError(f"{PROFILE_JSON} on {where} is not a profile toolkit wrote",
                           "apply the profile again (toolkit apply)") from None
    if not j.get("enabled") or not j.get("service"):
        raise UsageError(f"the profile applied on {where} runs no Jupyter service (jupyter.service is not true)",
                         "set jupyter.enabled and jupyter.service to true in the profile and apply it")
    return service


def env_values(text: str) -> dict[str, str]:
    """NAME=value lines of an EnvironmentFile (the last one wins, quotes stripped, comments skipped)."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#"):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[key.strip()] = value
    return values


def tunnel(host: Host, service: Service) -> str:
    """The ssh command that forwards the service's port to this machine's loopback."""
    remote = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(service.ip, service.ip)
    remote = f"[{remote}]" if ":" in remote else remote
    argv = ["ssh", "-N", "-L", f"{service.port}:{remote}:{service.port}"]
    if host.port != 22:
        argv += ["-p", str(host.port)]
    if host.jump is not None:
        argv += ["-J", str(host.jump)]
    target = f"[{host.hostname}]" if ":" in host.hostname else host.hostname
    return shlex.join([*argv, f"{host.user}@{target}" if host.user else target])


def local_runner(password: str | None) -> Runner:
    from toolkit.executors.local_apply import as_root, password_input

    def run(argv: list[str], root: bool) -> tuple[int, bytes, str]:
        import os

        command = as_root(argv, is_root=os.geteuid() == 0, password=password) if root else argv
        proc = subprocess.run(command, input=password_input(password) if root else b"", capture_output=True,
                              timeout=TIMEOUT, check=False)
        return proc.returncode, proc.stdout, proc.stderr.decode(errors="replace")
    return run


def ssh_runner(conn, host: Host, password: str | None) -> Runner:
    from toolkit.executors.local_apply import as_root, password_input

    def run(argv: list[str], root: bool) -> tuple[int, bytes, str]:
        command = shlex.join(as_root(argv, is_root=host.is_root, password=password) if root else argv)
        channel = conn.client.get_transport().open_session(timeout=TIMEOUT)
        channel.settimeout(TIMEOUT)
        channel.exec_command(command)
        if root and password and not host.is_root:
            channel.sendall(password_input(password))
        channel.shutdown_write()
        stdout, stderr = channel.makefile("rb").read(), channel.makefile_stderr("rb").read()
        return channel.recv_exit_status(), stdout, stderr.decode(errors="replace")
    return run


def show(run: Runner, host: Host, where: str, token_only: bool) -> None:
    rc, text, err = run(["cat", "--", PROFILE_JSON], False)
    if rc != 0:
        raise UsageError(f"no toolkit profile was applied on {where} ({PROFILE_JSON}: {err.strip()[-200:]})",
                         "apply a profile with jupyter.service: true first (toolkit apply)")
    service = service_of(text.decode(errors="replace"), where)
    rc, text, err = run(["cat", "--", JUPYTER_ENV_FILE], True)
    if rc != 0:   # only stderr is shown: stdout could hold part of the file
        raise ToolkitError(f"could not read {JUPYTER_ENV_FILE} as root on {where}: {err.strip()[-300:]}",
                           "sudo needs its password: set TOOLKIT_SUDO_PASSWORD or run in a terminal; a missing "
                           "file is made by applying the profile (toolkit apply)")
    values = env_values(text.decode(errors="replace"))
    token = values.get("JUPYTER_TOKEN")
    if not token:
        raise ToolkitError(f"{JUPYTER_ENV_FILE} on {where} holds no JUPYTER_TOKEN",
                           "apply the profile again (toolkit apply): it adds one")
    if token_only:
        out(token)
        return
    _, state, _ = run(["systemctl", "is-active", "--", JUPYTER_UNIT], False)
    local = f"http://127.0.0.1:{service.port}{URL_PATHS.get(service.flavor, '/')}"
    out(f"Jupyter on {where}: {JUPYTER_UNIT} is {state.decode(errors='replace').strip() or 'unknown'}, "
        f"listening on {service.ip}:{service.port}")
    out(f"token:    {token}")
    if service.auth == "password":
        out("password: " + ("set (JUPYTER_PASSWORD_HASH in " + JUPYTER_ENV_FILE + ")" if values.get(
            "JUPYTER_PASSWORD_HASH") else f"not set yet (add JUPYTER_PASSWORD_HASH to {JUPYTER_ENV_FILE}; "
            "see the README); the token works meanwhile"))
    out(f"tunnel:   {tunnel(host, service)}")
    out(f"open:     {local}?token={token}")


@click.command("jupyter-token")
@options.target_options("Required: one SSH host (or local).")
@options.ssh_options
@click.option("--token-only", is_flag=True, help="Print the token alone (for scripts).")
def jupyter_token(targets: tuple[str, ...], inventory_file: str | None, limit: str | None, known_hosts: str | None,
                  ssh_config: str | None, identity: str | None, accept_new_host_keys: bool, token_only: bool) -> None:
    """Show the token of the host's Jupyter service (jupyter.service: true) and the SSH tunnel that reaches it.

    The token is read as root from /etc/toolkit/jupyter.env on the host (sudo's password from
    TOOLKIT_SUDO_PASSWORD or one prompt) and printed here only. To make a new one: remove that file on the
    host and apply the profile again.
    """
    from toolkit.commands.apply_cmd import sudo_password
    from toolkit.commands.doctor_cmd import connect
    from toolkit.executors import inventory

    targeting.check_ssh_paths(known_hosts, ssh_config)
    chosen = targeting.choose(targets, inventory_file, limit, ssh_config_file=ssh_config, identity=identity)
    if len(chosen) != 1:
        raise UsageError(f"jupyter-token reads one host's token; {len(chosen)} targets were given",
                         "give one --target, or --limit the inventory to one host")
    one = chosen[0]
    if one.kind == "local" or (one.host is not None and one.host.local):
        show(local_runner(sudo_password([LOCAL])), LOCAL, "this machine", token_only)
        return
    if one.kind != "ssh":
        raise UsageError(f"{one.label}: containers run no Jupyter service; an image takes its token when it is "
                         "started (docker run -e JUPYTER_TOKEN=...)",
                         "give the host's SSH address with --target, as for toolkit apply")
    host = one.host or inventory.resolve((one.label,), None, False, ssh_config=ssh_config, identity=identity)[0]
    with connect(host, known_hosts, accept_new_host_keys) as conn:
        show(ssh_runner(conn, host, sudo_password([host])), host, one.label, token_only)


COMMANDS = [jupyter_token]
