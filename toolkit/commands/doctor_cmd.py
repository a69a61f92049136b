"""`toolkit doctor`: diagnose a GPU host or container (this machine, SSH hosts, Docker containers and images)
and say what to fix. The GPU probe (toolkit.gpu.probe) runs on the target."""

from __future__ import annotations

import json
import shlex
import shutil

import click

from toolkit import redact
from toolkit.commands import options, targeting
from toolkit.errors import EXIT_FAILED, ToolkitError, UsageError
from toolkit.gpu import diagnose, probe
from toolkit.outputs.atomic import FileOut, check_file, write_file
from toolkit.targets import shipping
from toolkit.ui import out, style

COLOURS = {"error": "red", "warning": "yellow", "info": "cyan", "ok": "green"}
SSH_TIMEOUT = 20
PROBE_TIMEOUT = 300


def connect(host, known_hosts: str | None, accept_new: bool = False):
    """An SSH connection through apply's SSH layer: same host-key rules, ssh config, jump hosts."""
    from toolkit.executors import ssh

    settings = ssh.SshSettings(known_hosts=ssh.KnownHosts(known_hosts), accept_new=accept_new, timeout=SSH_TIMEOUT)
    return ssh.Connection(host, settings)


def probe_script() -> str:
    """The GPU probe as the one script shipped to a target (the shared probe helpers put in)."""
    return shipping.script(probe.__file__)


def remote_facts(client, python: str | None) -> dict:
    """Run the probe on an SSH host as `python3 -` (its source on stdin); return its JSON."""
    command = "python3 -" + (f" --python {shlex.quote(python)}" if python else "")
    stdin, stdout, stderr = client.exec_command(command, timeout=PROBE_TIMEOUT)
    stdin.write(probe_script())
    stdin.channel.shutdown_write()
    text, err = stdout.read().decode(errors="replace"), stderr.read().decode(errors="replace")
    rc = stdout.channel.recv_exit_status()
    if rc == 127:
        raise ToolkitError("the host has no python3; the probe needs it", "install python3 (apt-get install python3, or dnf install python3)")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ToolkitError(f"the probe failed on the host (exit status {rc}): {err.strip()[-800:]}") from exc


def container_facts(address: str, python: str | None) -> dict:
    """The probe in a container (docker://) or a container of an image (docker-image://), through the
    target layer verify uses; a target without python3 is probed with sh alone (gpu.probe_sh)."""
    from toolkit.gpu import probe_sh
    from toolkit.targets import reach

    with reach.open_target(address) as target:
        host = target.host()

        def run(argv: list[str]) -> tuple[int, str, str]:
            res = host.run(" ".join(["%s"] * len(argv)), *argv)
            return res.rc, res.stdout, res.stderr

        template, args = shipping.command_line(probe_script(), ["--python", python] if python else [],
                                               name="toolkit-gpu-probe")
        res = host.run(template, *args)
        raw = shipping.parse_json(res.rc, res.stdout, res.stderr)
        if raw is None and res.rc == 127 and "no python3" in res.stderr:
            raw = probe_sh.gather(run, python)
        if raw is None:
            raise ToolkitError(f"the probe failed in {target.description} (exit status {res.rc}): "
                               f"{(res.stderr or res.stdout).strip()[-800:]}")
        return raw


def facts_of(chosen, python: str | None, ssh: dict) -> dict:
    """The raw probe output of one target."""
    if chosen.kind == "local":
        if python is not None and shutil.which(python) is None:
            raise UsageError(f"--python {python}: no such interpreter on this machine (missing or not executable)",
                             "give the path of the venv's python, e.g. /opt/venv/bin/python")
        return probe.gather(python)
    if chosen.kind == "ssh":
        from toolkit.executors import inventory

        host = chosen.host or inventory.resolve((chosen.label,), None, False, ssh_config=ssh["ssh_config"],
                                                identity=ssh["identity"])[0]
        with connect(host, ssh["known_hosts"], ssh["accept_new"]) as conn:
            raw = remote_facts(conn.client, python)
    else:
        raw = container_facts(str(chosen.address), python)
    if python is not None and (raw.get("commands") or {}).get("frameworks") is None:
        raise UsageError(f"--python {python}: {chosen.label} has no such interpreter (missing or not executable)",
                         "give the path of the venv's python there, e.g. /opt/venv/bin/python")
    return raw


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
@options.target_options("Default: this machine.")
@click.option("--host", "urls", multiple=True, metavar="ssh://USER@HOST:PORT",
              help="Alias of --target ssh://... (kept for now).")
@options.ssh_options
@click.option("--python", "python", metavar="PATH",
              help="Interpreter (on the target) whose torch/TensorFlow wheels to check against the GPU.")
@options.as_json("Print the findings as a JSON list (several targets: a list of {target, findings}).")
@click.option("--save-facts", metavar="FILE",
              help="Also write the raw probe output (JSON; credentials in URLs masked) to FILE, for a bug report.")
@click.option("--force", is_flag=True, help="Overwrite a --save-facts FILE that toolkit did not write.")
@click.pass_context
def doctor(ctx: click.Context, targets: tuple[str, ...], inventory_file: str | None, limit: str | None,
           urls: tuple[str, ...], known_hosts: str | None, ssh_config: str | None, identity: str | None,
           accept_new_host_keys: bool, python: str | None, as_json: bool, save_facts: str | None,
           force: bool) -> None:
    """Diagnose a GPU host or container: PCI device, nouveau, Secure Boot, DKMS, driver mismatch, framework CUDA
    and GPU architecture, /dev/shm, Docker runtime, package holds. Exit 1 when anything is an error."""
    targeting.check_ssh_paths(known_hosts, ssh_config)
    chosen = targeting.choose(targets + targeting.as_ssh(urls), inventory_file, limit, ssh_config_file=ssh_config,
                              identity=identity, default="local")
    if (known_hosts or identity or accept_new_host_keys) and not any(c.kind == "ssh" for c in chosen):
        raise UsageError("--known-hosts, --identity and --accept-new-host-keys only apply to SSH targets",
                         "give --target ssh://user@host:port")
    if save_facts and len(chosen) > 1:
        raise UsageError("--save-facts writes one target's probe: give one target with it")
    if save_facts:
        check_file(save_facts, force=force, option="--save-facts")   # refuse before probing
    ssh = {"ssh_config": ssh_config, "identity": identity, "known_hosts": known_hosts,
           "accept_new": accept_new_host_keys}
    reports, failed = [], False
    for one in chosen:
        raw = facts_of(one, python, ssh)
        if save_facts:
            write_facts(raw, save_facts, force=force)
        findings = diagnose(raw)
        failed = failed or any(f.severity == "error" for f in findings)
        reports.append((one.label, findings))
    if as_json:
        docs = [[f.to_dict() for f in findings] for _, findings in reports]
        out(json.dumps(docs[0] if len(reports) == 1 else [{"target": label, "findings": d}
                                                          for (label, _), d in zip(reports, docs, strict=False)], indent=2))
    else:
        for label, findings in reports:
            if len(reports) > 1:
                out(style(f"== {label}", bold=True))
            render(findings)
    if failed:
        ctx.exit(EXIT_FAILED)


COMMANDS = [doctor]
