"""`toolkit doctor`: diagnose a GPU host (this machine, or one over SSH) and say what to fix."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import click

from toolkit.errors import EXIT_FAILED, ToolkitError, UsageError
from toolkit.gpu import diagnose, facts
from toolkit.ui import out, style

COLOURS = {"error": "red", "warning": "yellow", "info": "cyan", "ok": "green"}
SSH_TIMEOUT = 20
PROBE_TIMEOUT = 300


def parse_host(url: str) -> tuple[str, int, str | None]:
    """"ssh://user@host:port" -> (host, port, user); UsageError for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port or 22
    except ValueError as exc:
        raise UsageError(f"--host {url!r}: {exc}", "write it as ssh://user@host:port") from exc
    if parts.scheme != "ssh" or not parts.hostname or parts.path not in ("", "/") or parts.password:
        raise UsageError(f"--host {url!r} is not ssh://[user@]host[:port]", "e.g. --host ssh://ubuntu@10.0.0.5:22")
    return parts.hostname, port, parts.username


class _RefuseUnknown:
    """paramiko host-key policy: an unknown host is refused with the command that trusts it."""

    def __init__(self, known_hosts: Path):
        self.known_hosts = known_hosts

    def missing_host_key(self, client, hostname, key):
        host, _, port = hostname.strip("[").partition("]:")
        scan = f"ssh-keyscan -p {port or 22} {shlex.quote(host)} >> {shlex.quote(str(self.known_hosts))}"
        raise ToolkitError(f"{hostname} is not in {self.known_hosts} (host keys are checked strictly)",
                           f"check the key's fingerprint out of band, then trust it: {scan}")


def connect(host: str, port: int, user: str | None, known_hosts: str | None, identity: str | None):
    import paramiko

    known = Path(known_hosts) if known_hosts else Path("~/.ssh/known_hosts").expanduser()
    client = paramiko.SSHClient()
    if known.is_file():
        client.load_host_keys(str(known))
    client.set_missing_host_key_policy(_RefuseUnknown(known))
    try:
        client.connect(host, port=port, username=user, key_filename=identity, look_for_keys=identity is None,
                       allow_agent=identity is None, timeout=SSH_TIMEOUT, banner_timeout=SSH_TIMEOUT,
                       auth_timeout=SSH_TIMEOUT)
    except ToolkitError:
        client.close()
        raise
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise ToolkitError(f"the host key of {host}:{port} does not match {known}: refusing to connect",
                           "if the host was reinstalled, verify its new key, then: "
                           f"ssh-keygen -R '[{host}]:{port}' -f {shlex.quote(str(known))}") from exc
    except paramiko.AuthenticationException as exc:
        client.close()
        raise ToolkitError(f"{user or 'the default user'}@{host}:{port} refused the key: {exc}",
                           "pass --identity KEY, or load the key into ssh-agent") from exc
    except (paramiko.SSHException, OSError) as exc:
        client.close()
        raise ToolkitError(f"cannot reach {host}:{port} over SSH: {exc}") from exc
    return client


def remote_facts(client, python: str | None) -> dict:
    """Run the probe on the target as `python3 -` (its source on stdin); return its JSON."""
    command = "python3 -" + (f" --python {shlex.quote(python)}" if python else "")
    stdin, stdout, stderr = client.exec_command(command, timeout=PROBE_TIMEOUT)
    stdin.write(Path(facts.__file__).read_text())
    stdin.channel.shutdown_write()
    text, err = stdout.read().decode(errors="replace"), stderr.read().decode(errors="replace")
    rc = stdout.channel.recv_exit_status()
    if rc == 127:
        raise ToolkitError("the host has no python3; the probe needs it", "install python3 (apt-get install python3)")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ToolkitError(f"the probe failed on the host (exit status {rc}): {err.strip()[-800:]}") from exc


def render(findings: list) -> None:
    for f in findings:
        out(style(f"[{f.severity}]".ljust(10), fg=COLOURS[f.severity], bold=f.severity == "error") + f" {f.title}")
        for line in f.detail.splitlines():
            out(f"           {line}")
        if f.fix:
            out(f"           {style('fix:', bold=True)} {f.fix}")
    counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning")}
    out(f"{counts['error']} error(s), {counts['warning']} warning(s)")


@click.command("doctor")
@click.option("--host", metavar="ssh://USER@HOST:PORT", help="Diagnose this host over SSH instead of this machine.")
@click.option("--known-hosts", type=click.Path(exists=True, dir_okay=False),
              help="known_hosts file to check the host key against (default ~/.ssh/known_hosts).")
@click.option("--identity", type=click.Path(exists=True, dir_okay=False), help="SSH private key.")
@click.option("--python", "python", metavar="PATH",
              help="Interpreter (on the target) whose torch/TensorFlow wheels to check against the GPU.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as a JSON list.")
@click.pass_context
def doctor(ctx: click.Context, host: str | None, known_hosts: str | None, identity: str | None,
           python: str | None, as_json: bool) -> None:
    """Diagnose a GPU host: PCI device, nouveau, Secure Boot, DKMS, driver mismatch, framework CUDA and
    GPU architecture, /dev/shm, Docker runtime, package holds. Exit 1 when anything is an error."""
    if host is None and (known_hosts or identity):
        raise UsageError("--known-hosts and --identity only apply with --host")
    if host is None:
        raw = facts.gather(python)
    else:
        client = connect(*parse_host(host), known_hosts, identity)
        try:
            raw = remote_facts(client, python)
        finally:
            client.close()
    findings = diagnose(raw)
    if as_json:
        out(json.dumps([f.to_dict() for f in findings], indent=2))
    else:
        render(findings)
    if any(f.severity == "error" for f in findings):
        ctx.exit(EXIT_FAILED)


COMMANDS = [doctor]
