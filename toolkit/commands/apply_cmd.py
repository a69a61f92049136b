"""`toolkit apply`: provision this machine or many SSH hosts in parallel, then verify them.

Every host runs the profile's setup.sh (each step probed first, so a rerun after a failure,
a lost connection or a reboot carries on where it stopped). Exit status: 0 all hosts applied
and verified, 1 a host failed or was unreachable, 2 usage or invalid profile, 3 verification
failed on a host that applied.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path

import click

from toolkit.commands import locking, options, targeting
from toolkit.errors import ToolkitError, UsageError, VerificationFailed
from toolkit.executors import credentials, fanout, inventory
from toolkit.executors.inventory import Host
from toolkit.executors.os_check import REFUSED_STEP as OS_REFUSED
from toolkit.executors.results import BAD, HostResult
from toolkit.model.plan import Plan
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.targets.address import Address
from toolkit.ui import console, err, out, use_colour, warn

PASSWORD_ENV = "TOOLKIT_SUDO_PASSWORD"


def sudo_password(hosts: list[Host]) -> str | None:
    """TOOLKIT_SUDO_PASSWORD, else one prompt when a host needs sudo and stdin is a terminal."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    needed = any((h.local and os.geteuid() != 0) or (not h.local and not h.is_root) for h in hosts)
    if needed and sys.stdin.isatty():
        users = sorted({h.user for h in hosts if not h.is_root})
        text = click.prompt(f"sudo password ({', '.join(users)}; empty if sudo needs none)", hide_input=True,
                            default="", show_default=False)
        return text or None
    return None


def native(plan: Plan, hosts: list[Host], *, forks: int, dry_run: bool, reboot: bool, password: str | None,
           log_dir: str | None, known_hosts: str | None, accept_new: bool, echo=out,
           allow_os_mismatch: bool = False, creds: credentials.Credentials | None = None,
           allow_format: bool = False, bundle: str | None = None) -> list[HostResult]:
    from toolkit.executors.local_apply import apply_local, job_for
    from toolkit.executors.remote_apply import apply_remote
    from toolkit.executors.ssh import KnownHosts, SshSettings

    creds = creds or credentials.Credentials()
    job = job_for(plan, dry_run=dry_run, password=password, log_dir=log_dir, reboot=reboot,
                  expect_os=(plan.target.distro, plan.target.os_version), allow_os_mismatch=allow_os_mismatch,
                  credentials=credentials.host_files(creds), masked=creds.secrets(), allow_format=allow_format)
    if bundle:
        from toolkit.executors.bundle_upload import launcher

        job = dataclasses.replace(job, script=launcher(bundle), trees=(), bundle=bundle)
    settings = SshSettings(KnownHosts(known_hosts), accept_new=accept_new, password=password)

    def work(host: Host, progress) -> HostResult:
        return apply_local(job, host, progress) if host.local else apply_remote(job, host, settings, progress)

    results = fanout.run_all(hosts, work, forks, fanout.display_for(hosts, echo))
    for r, host in zip(results, hosts, strict=False):
        if not host.local and r.failed_step == "host key CHANGED":
            warn(f"{r.host}: THE HOST KEY CHANGED; nothing was run there. {r.tail[0] if r.tail else ''}")
    return results


def staged_bundle(bundle: str | None, hosts: list[Host], *, forks: int, password: str | None,
                  known_hosts: str | None, accept_new: bool, echo, total: int):
    """--engine ansible --bundle: the bundle on every host first (ansible_bundle.stage_all), or None."""
    if not bundle:
        return None
    from toolkit.executors.ansible_bundle import stage_all
    from toolkit.executors.ansible_engine import checked_host
    from toolkit.executors.ssh import KnownHosts, SshSettings

    for host in hosts:          # what the inventory refuses (exit 2) is refused before anything is sent
        if not host.local:
            checked_host(host)
    settings = SshSettings(KnownHosts(known_hosts), accept_new=accept_new, password=password)
    return stage_all(hosts, bundle, settings, forks, echo, total)


def verify_hosts(plan: Plan, hosts: list[Host], results: list[HostResult], *, ssh_config: str | None,
                 known_hosts: str | None) -> None:
    """The profile's verify suite against every host that applied; the outcome goes into its result."""
    from toolkit.verify import report, runner

    with tempfile.TemporaryDirectory(prefix="toolkit-apply-verify-") as tmp:
        for n, (host, r) in enumerate(zip(hosts, results, strict=False)):
            if not r.ok:
                continue
            err(f"{r.host}: verifying...")
            chosen = targeting.Chosen(host.name, Address("local") if host.local else
                                      Address("ssh", host.hostname, host.user, host.port), host)
            try:
                with targeting.opened(chosen, Path(tmp), n, ssh_config_file=ssh_config,
                                      known_hosts=known_hosts) as tgt:
                    run = runner.run(plan, tgt.hostspec)
            except ToolkitError as exc:
                r.verify, r.verify_ok = f"error: {exc.message}", False
                continue
            c = run.counts()
            r.verify_ok = not run.failed and not run.errors and bool(run.results)
            r.verify = (f"passed {c['passed']}" if r.verify_ok else f"FAILED {c['failed']}/{len(run.results)}") + (
                f", {c['skipped']} skipped" if c["skipped"] else "")
            if not r.verify_ok:
                failing = [line for line in report.human(run, r.host) if not line.startswith(("PASS", "SKIP"))]
                r.tail = [*r.tail, *failing[-12:]]


def logs_for(log_dir: str | None, hosts: list[Host], engine: str, force: bool) -> str:
    """--log-dir, checked before anything runs (no file there that toolkit did not write is
    overwritten), or this run's new folder in the per-user state folder."""
    from toolkit.executors import logdirs
    from toolkit.outputs.atomic import check_output

    if log_dir is None:
        try:
            return str(logdirs.new_run())
        except OSError as exc:
            raise UsageError(f"cannot make a log folder under {logdirs.state_root()}: {exc.strerror}",
                             "set XDG_STATE_HOME to a writable folder, or pass --log-dir DIR") from None
    if engine == "ansible":
        from toolkit.executors.ansible_engine import LOG_NAME

        names = [LOG_NAME]
    else:
        names = [logdirs.log_name(h.name) for h in hosts]
    check_output(log_dir, names, force=force, option="--log-dir")
    return log_dir


def show(results: list[HostResult], as_json: bool) -> None:
    if as_json:
        out(json.dumps([dataclasses.asdict(r) for r in results], indent=2))
    elif use_colour(sys.stdout):
        console().print(fanout.summary_table(results))
    else:
        for line in fanout.summary_lines(results):
            out(line)


@click.command("apply")
@click.argument("profile", metavar="PROFILE")
@options.target_options("SSH hosts or local; docker targets are refused (use toolkit build for images).")
@click.option("--host", "urls", multiple=True, metavar="URL",
              help="Alias of --target ssh://URL (user@host[:port], ssh:// optional; repeatable).")
@click.option("--local", is_flag=True, help="Alias of --target local: apply to this machine (sudo when not root).")
@click.option("--forks", default=10, show_default=True, type=click.IntRange(1, 500), help="Hosts at a time.")
@click.option("--dry-run", is_flag=True, help="Only probe: list per host the steps that would change.")
@click.option("--reboot", is_flag=True, help="Reboot hosts that need it, wait for them, apply again.")
@click.option("--no-verify", is_flag=True, help="Skip the verify suite after applying.")
@options.ssh_options
@click.option("--log-dir", type=click.Path(file_okay=False), default=None,
              help="Folder for one full log per host (default: a new folder per run under "
                   "$XDG_STATE_HOME/toolkit/apply-logs, newest 20 runs kept; printed).")
@click.option("--force", is_flag=True, help="Overwrite files in --log-dir that toolkit did not write.")
@click.option("--engine", type=click.Choice(["native", "ansible"]), default="native", show_default=True)
@click.option("--netrc", "netrc_file", default=None, metavar="FILE",
              help="Credentials of the profile's pip index and proxy (netrc format; default ~/.netrc when it "
                   "exists). Also read: TOOLKIT_PIP_INDEX_USERNAME/_PASSWORD, TOOLKIT_PROXY_USERNAME/_PASSWORD.")
@options.compat_data
@locking.lock_options()
@click.option("--bundle", "bundle_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Install from a bundle made by `toolkit bundle` (no network needed on the hosts): copied over "
                   "SFTP (what is already there with the right hash is not sent again), then its install.sh runs.")
@options.as_json("Print the per-host results as JSON.")
@click.option("--allow-os-mismatch", is_flag=True,
              help="Apply even to hosts whose OS family differs from the profile's (refused by default).")
@click.option("--allow-format", is_flag=True,
              help="Let a mount with `format: true` make its file system on an EMPTY device (blkid finds nothing "
                   "there). A device with a file system or any other signature is never formatted.")
def apply(profile: str, targets: tuple[str, ...], inventory_file: str | None, limit: str | None,
          urls: tuple[str, ...], local: bool, forks: int, dry_run: bool, reboot: bool, no_verify: bool,
          known_hosts: str | None, ssh_config: str | None, identity: str | None, accept_new_host_keys: bool,
          log_dir: str | None, force: bool, engine: str, netrc_file: str | None,
          compat_data: str | None, locked: bool, lock_file: str | None, bundle_dir: str | None, as_json: bool,
          allow_os_mismatch: bool, allow_format: bool) -> None:
    """Apply PROFILE to --target hosts (ssh://... or local) or an --inventory, then verify each host.

    Unknown host keys are refused (trust them with ssh-keyscan, or --accept-new-host-keys); a
    changed key is always refused. The sudo password comes from TOOLKIT_SUDO_PASSWORD or one prompt.
    """
    if bundle_dir:
        from toolkit.commands.bundling import checked_bundle

        if engine == "ansible" and dry_run:
            raise UsageError("--dry-run with --bundle works with the native engine only (a bundle's playbook makes "
                             "its apt lists in the real run)", "drop --engine ansible to list what would change")
        plan, _, bundle_dir = checked_bundle(profile, compat_data, lock_file, bundle_dir, playbook=engine == "ansible")
    else:
        loaded = load_profile(profile)
        plan, _ = locking.apply_lock(loaded, build_plan(loaded, compat_data), locked, lock_file)
    hosts = apply_hosts(targets + targeting.as_ssh(urls) + (("local",) if local else ()), inventory_file, limit,
                        ssh_config=ssh_config, identity=identity)
    local = any(h.local for h in hosts)
    targeting.check_ssh_paths(known_hosts, ssh_config)
    if reboot and (local or engine == "ansible"):
        raise UsageError("--reboot works with SSH hosts and the native engine only",
                         "toolkit never reboots the machine it runs on: reboot it yourself, then apply again")
    if not local:
        from toolkit.executors.ssh import check_known_hosts

        check_known_hosts(hosts, known_hosts)
    log_dir = logs_for(log_dir, hosts, engine, force)
    creds = credentials.gather(plan, netrc_path=netrc_file)
    if creds and engine == "ansible":
        raise UsageError("this profile's pip index or proxy needs credentials, which --engine ansible does not "
                         "carry yet (they would reach its variables and logs)", "use --engine native")
    password = sudo_password(hosts)
    echo = err if as_json else out      # with --json, stdout carries the JSON document alone
    for line in creds.describe():
        err(line)
    if engine == "ansible":
        from toolkit.executors.ansible_engine import run_ansible

        staged = staged_bundle(bundle_dir, hosts, forks=forks, password=password, known_hosts=known_hosts,
                               accept_new=accept_new_host_keys, echo=echo, total=len(plan.steps))
        results = run_ansible(plan, hosts, forks, check=dry_run, log_dir=log_dir, become_password=password,
                              known_hosts=known_hosts, accept_new_host_keys=accept_new_host_keys, display=echo,
                              allow_os_mismatch=allow_os_mismatch, allow_format=allow_format, bundle=staged)
    else:
        results = native(plan, hosts, forks=forks, dry_run=dry_run, reboot=reboot, password=password,
                         log_dir=log_dir, known_hosts=known_hosts, accept_new=accept_new_host_keys, echo=echo,
                         allow_os_mismatch=allow_os_mismatch, creds=creds, allow_format=allow_format,
                         bundle=bundle_dir)
    if not (no_verify or dry_run):
        verify_hosts(plan, hosts, results, ssh_config=ssh_config, known_hosts=known_hosts)
    show(results, as_json)
    if not as_json:
        err(f"logs: {log_dir}")
    conclude(results)


def apply_hosts(targets: tuple[str, ...], inventory_file: str | None, limit: str | None, *,
                ssh_config: str | None, identity: str | None) -> list[Host]:
    """The hosts of one apply: SSH hosts (addresses or an inventory) or this machine alone. A docker
    target is refused: apply provisions hosts; an image is made with `toolkit build`."""
    chosen = targeting.choose(targets, inventory_file, limit, ssh_config_file=ssh_config, identity=identity)
    docker = [c for c in chosen if c.kind in ("docker", "docker-image", "podman-image")]
    if docker:
        bare = [c.label for c in docker if "://" not in c.label]
        raise UsageError(f"apply provisions hosts, not containers or images: {', '.join(str(c.address) for c in docker)}",
                         (f"an SSH host is ssh://{bare[0]} (an address without a scheme names a Docker image); " if bare
                          else "") + "make an image with toolkit build PROFILE -t TAG, and check a container or "
                         "image with toolkit verify PROFILE --target docker://NAME (or docker-image://IMAGE)")
    if inventory_file:
        return [c.host for c in chosen if c.host is not None]
    if any(c.kind == "local" for c in chosen):
        if len(chosen) > 1:
            raise UsageError("local cannot be combined with other targets in one apply",
                             "apply to this machine and to SSH hosts in two runs")
        return [inventory.LOCAL]
    return inventory.resolve(tuple(c.label for c in chosen), None, False, ssh_config=ssh_config, identity=identity)


def conclude(results: list[HostResult]) -> None:
    for r in results:
        for text in r.warnings:
            warn(text)
    refused = [r for r in results if r.failed_step == OS_REFUSED]
    if refused:
        raise UsageError(f"the OS of {', '.join(r.host for r in refused)} is not the profile's; nothing was changed there",
                         "use a profile for that OS (os.distro / os.version), or pass --allow-os-mismatch to "
                         "apply anyway")
    bad = [r for r in results if r.status in BAD]
    if bad:
        raise ToolkitError(f"{len(bad)} of {len(results)} host(s) failed or were unreachable: "
                           f"{', '.join(r.host for r in bad)}",
                           "fix the cause shown above and run apply again: steps already done are skipped")
    unverified = [r for r in results if r.verify_ok is False]
    if unverified:
        raise VerificationFailed(f"verification failed on {', '.join(r.host for r in unverified)}",
                                 "see the checks listed above")
    reboot = [r.host for r in results if r.reboot_required]
    if reboot:
        warn(f"reboot required on {', '.join(reboot)} (apply --reboot does it and carries on)")


COMMANDS = [apply]
