"""`toolkit doctor`: diagnose a GPU host (this machine, or one over SSH) and say what to fix."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import click

from toolkit import redact
from toolkit.errors import EXIT_FAILED, ToolkitError, UsageError
from toolkit.gpu import diagnose, facts
from toolkit.outputs.atomic import FileOut, check_file, write_file
from toolkit.ui import out, style

COLOURS = {"error": "red", "warning": "yellow", "info": "cyan", "ok": "green"}
SSH_TIMEOUT = 20
PROBE_TIMEOUT = 300


def connect(url: str, known_hosts: str | None, identity: str | None):
    """An SSH connection through apply's SSH layer: same host-key rules, ssh config, jump hosts."""
    from toolkit.executors import inventory, ssh
    from toolkit.targets.ssh_values import check_path

    (host,) = inventory.resolve((url,), None, False, identity=identity)
    if known_hosts:
        check_path("--known-hosts", known_hosts)
    return ssh.Connection(host, ssh.SshSettings(known_hosts=ssh.KnownHosts(known_hosts), timeout=SSH_TIMEOUT))


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


def write_facts(raw: dict, path: str, force: bool = False) -> None:
    """The probe's raw JSON, for a bug report or a test fixture; credentials in URLs masked, mode 0600.
    Written whole or not at all; a file toolkit did not write is refused unless force."""
    text = redact.url(json.dumps(raw, indent=2, sort_keys=True)) + "\n"
    write_file(path, FileOut(text.encode("utf-8"), 0o600), force=force, option="--save-facts")


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
@click.option("--save-facts", metavar="FILE",
              help="Also write the raw probe output (JSON; credentials in URLs masked) to FILE, for a bug report.")
@click.option("--force", is_flag=True, help="Overwrite a --save-facts FILE that toolkit did not write.")
@click.pass_context
def doctor(ctx: click.Context, host: str | None, known_hosts: str | None, identity: str | None,
           python: str | None, as_json: bool, save_facts: str | None, force: bool) -> None:
    """Diagnose a GPU host: PCI device, nouveau, Secure Boot, DKMS, driver mismatch, framework CUDA and
    GPU architecture, /dev/shm, Docker runtime, package holds. Exit 1 when anything is an error."""
    if host is None and (known_hosts or identity):
        raise UsageError("--known-hosts and --identity only apply with --host")
    if save_facts:
        check_file(save_facts, force=force, option="--save-facts")   # refuse before probing
    if host is None:
        if python is not None and shutil.which(python) is None:
            raise UsageError(f"--python {python}: no such interpreter on this machine (missing or not executable)",
                             "give the path of the venv's python, e.g. /opt/venv/bin/python")
        raw = facts.gather(python)
    else:
        with connect(host, known_hosts, identity) as conn:
            raw = remote_facts(conn.client, python)
        if python is not None and (raw.get("commands") or {}).get("frameworks") is None:
            raise UsageError(f"--python {python}: {host} has no such interpreter (missing or not executable)",
                             "give the path of the venv's python on that host, e.g. /opt/venv/bin/python")
    if save_facts:
        write_facts(raw, save_facts, force=force)
    findings = diagnose(raw)
    if as_json:
        out(json.dumps([f.to_dict() for f in findings], indent=2))
    else:
        render(findings)
    if any(f.severity == "error" for f in findings):
        ctx.exit(EXIT_FAILED)


COMMANDS = [doctor]
