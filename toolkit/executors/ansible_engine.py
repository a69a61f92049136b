"""`toolkit apply --engine ansible`: run the rendered playbook with ansible-playbook.

In a private temporary folder: the playbook (toolkit.render.ansible), a YAML inventory made from
toolkit's hosts, an ansible.cfg, and site.yml (the playbook, then one read-only task that asks
whether the host wants a reboot). ansible-playbook's output is streamed to the log and to the
display as it comes and parsed (toolkit.executors.ansible_recap) into one HostResult per host.

The sudo password goes through a pipe: ansible-playbook's stdin, read once with
`--become-password-file -` and then closed. It is never on a command line (ps), in an environment
(/proc/PID/environ, inherited by every child, ssh included) or in a file (a 0600 file deleted in
`finally` is on disk meanwhile and outlives a SIGKILL or a crash). /dev/fd/N with an inherited pipe
does not work: Ansible resolves the path to /proc/PID/fd/pipe:[...] and finds no file.

Ansible templates every inventory variable when it uses it, so a `{{ lookup('pipe', ...) }}` in a key
path would run on this machine, --check or not. Every value written into the inventory is first
checked (names and users against strict patterns, paths by ssh_values.check_path: no `{`, `%`, quotes
or control characters; a mistake is exit 2 before ansible-playbook starts) and then tagged `!unsafe`,
which tells Ansible never to template it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from pathlib import Path

import click
import yaml

from toolkit.errors import ToolkitError, UsageError
from toolkit.executors.ansible_bundle import VAR as BUNDLE_VAR
from toolkit.executors.ansible_bundle import Staged, playbook_dir
from toolkit.executors.ansible_recap import REBOOT_TASK, HostRecap, RecapParser
from toolkit.executors.inventory import Host
from toolkit.executors.os_check import REFUSED_STEP
from toolkit.executors.results import BAD, HostResult, Progress, ProgressFn, open_log, redactor
from toolkit.executors.ssh import DEFAULT_KNOWN_HOSTS
from toolkit.model.plan import Plan
from toolkit.render import ansible as ansible_render
from toolkit.render.ansible_accounts import ALLOW_FORMAT_VAR
from toolkit.targets.ssh_values import check_path, is_host, is_user, shown

INSTALL_HINT = "install Ansible next to toolkit: pip install ansible-core (or: pip install 'toolkit[test]')"
LOG_NAME = "ansible-playbook.log"
# Settings in the environment beat ansible.cfg: these would change the output that is parsed.
_OUTPUT_ENV = ("ANSIBLE_STDOUT_CALLBACK", "ANSIBLE_CALLBACK_RESULT_FORMAT", "ANSIBLE_CALLBACKS_ENABLED",
               "ANSIBLE_DISPLAY_OK_HOSTS", "ANSIBLE_DISPLAY_FAILED_STDERR", "ANSIBLE_FORCE_COLOR",
               "ANSIBLE_CONFIG", "ANSIBLE_INVENTORY")


def find_ansible_playbook() -> str:
    """ansible-playbook next to this Python first (the same virtualenv), then on PATH."""
    beside = Path(sys.executable).parent / "ansible-playbook"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("ansible-playbook")
    if found:
        return found
    raise ToolkitError("ansible-playbook not found (needed by --engine ansible)", INSTALL_HINT)


def inventory_name(name: str, taken: set[str]) -> str:
    """A name Ansible takes as a plain host name (no ':', '@', '/', spaces), unique in `taken`."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_.") or "host"
    alias, n = base, 1
    while alias in taken:
        n += 1
        alias = f"{base}_{n}"
    taken.add(alias)
    return alias


class Unsafe(str):
    """Text Ansible must never template: written with YAML's `!unsafe` tag."""


class _InventoryDumper(yaml.SafeDumper):
    pass


_InventoryDumper.add_representer(Unsafe, lambda dumper, text: dumper.represent_scalar("!unsafe", str(text)))


def checked_host(host: Host) -> Host:
    """`host` (and its jump hosts) if every value is fit for an inventory, else UsageError (exit 2)."""
    where = f"host {shown(host.name)}"
    if not is_host(host.hostname):
        raise UsageError(f"{where}: invalid address {shown(host.hostname)}")
    if host.user and not is_user(host.user):
        raise UsageError(f"{where}: invalid user name {shown(host.user)}")
    if isinstance(host.port, bool) or not isinstance(host.port, int) or not 0 < host.port < 65536:
        raise UsageError(f"{where}: invalid port {shown(host.port)}")
    for what, path in (("identity", host.identity), ("UserKnownHostsFile", host.known_hosts)):
        if path is not None:
            check_path(f"{where}: {what}", path)
    if host.jump is not None:
        checked_host(host.jump)
    return host


def ssh_options(host: Host, known_hosts: str | None, accept_new: bool) -> list[str]:
    """OpenSSH options for one host: strict host keys against known_hosts, its key, its jump hosts.

    A jump host becomes a ProxyCommand (`ssh -W %h:%p` with the jump's own options), not ProxyJump:
    ProxyJump could not carry the jump host's identity file and known_hosts.
    """
    known = check_path("known_hosts", host.known_hosts or known_hosts or os.path.expanduser(DEFAULT_KNOWN_HOSTS))
    opts = ["-o", f"StrictHostKeyChecking={'accept-new' if accept_new else 'yes'}",
            "-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null"]
    if host.identity:
        opts += ["-o", "IdentitiesOnly=yes"]
    if host.jump is not None:
        jump = host.jump
        hop = ["ssh", *ssh_options(jump, known_hosts, accept_new), "-o", "BatchMode=yes", "-p", str(jump.port)]
        if jump.identity:
            hop += ["-i", jump.identity]
        if jump.user:
            hop += ["-l", jump.user]
        opts += ["-o", "ProxyCommand=" + shlex.join([*hop, "-W", "%h:%p", jump.hostname])]
    return opts


def host_vars(host: Host, known_hosts: str | None = None, accept_new: bool = False) -> dict:
    """One toolkit host as Ansible host variables: checked, and tagged so Ansible never templates them."""
    if host.local:
        return {"ansible_connection": "local", "ansible_host": "localhost"}
    checked_host(host)
    out: dict = {"ansible_host": Unsafe(host.hostname), "ansible_port": int(host.port)}
    if host.user:
        out["ansible_user"] = Unsafe(host.user)
    if host.identity:
        out["ansible_ssh_private_key_file"] = Unsafe(host.identity)
    out["ansible_ssh_common_args"] = Unsafe(shlex.join(ssh_options(host, known_hosts, accept_new)))
    return out


def write_inventory(path: Path, hosts: Iterable[Host], known_hosts: str | None = None,
                    accept_new: bool = False, extra: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Host]:
    """Write a YAML inventory; returns {inventory name: toolkit host}, in the hosts' order. `extra`: more
    variables per host name (apply --bundle: where the bundle is there), tagged `!unsafe` as the others."""
    taken: set[str] = set()
    by_alias: dict[str, Host] = {}
    for host in hosts:
        by_alias[inventory_name(host.name, taken)] = host
    entries = {alias: host_vars(h, known_hosts, accept_new) | {k: Unsafe(v) for k, v in (extra or {}).get(h.name, {}).items()}
               for alias, h in by_alias.items()}
    path.touch(mode=0o600)
    path.write_text(yaml.dump({"all": {"hosts": entries}}, Dumper=_InventoryDumper, sort_keys=False))
    return by_alias


def ansible_cfg(forks: int, control_dir: Path) -> str:
    check_path("the temporary folder (TMPDIR) for ansible.cfg", str(control_dir))
    return (
        "[defaults]\n"
        f"forks = {max(1, int(forks))}\n"
        "host_key_checking = True\n"
        "retry_files_enabled = False\n"
        "stdout_callback = ansible.builtin.default\n"
        "callback_result_format = json\n"
        "nocolor = True\n"
        "interpreter_python = auto_silent\n"
        "[ssh_connection]\n"
        "pipelining = True\n"
        # This run's own ControlMaster sockets: a master left by an earlier run (ControlPersist)
        # would be reused without checking the host key against this run's known_hosts.
        f"control_path_dir = {control_dir}\n"
    )


def site_playbook() -> str:
    """The rendered playbook, then a read-only play asking each host whether it wants a reboot."""
    reboot_play = {"name": "toolkit: ask for a reboot", "hosts": "all", "gather_facts": False, "tasks": [
        {"name": "toolkit: look for /var/run/reboot-required",
         "ansible.builtin.stat": {"path": "/var/run/reboot-required", "get_checksum": False},
         "register": "toolkit_reboot", "tags": ["always"]},
        {"name": REBOOT_TASK, "ansible.builtin.debug": {"msg": "this host asks for a reboot"},
         "when": "toolkit_reboot.stat.exists", "tags": ["always"]}]}
    return yaml.safe_dump([{"ansible.builtin.import_playbook": "playbook.yml"}, reboot_play], sort_keys=False)


def task_steps(plan: Plan) -> dict[str, tuple[int, str]]:
    """Task name -> (number, title) of the plan step it belongs to."""
    out: dict[str, tuple[int, str]] = {}
    for n, step in enumerate(plan.steps, 1):
        for task in ansible_render.render_tasks(step, n, plan):
            out.setdefault(task["name"], (n, step.title))
    return out


def _child_env(cfg: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _OUTPUT_ENV}
    return env | {"ANSIBLE_CONFIG": str(cfg), "ANSIBLE_NOCOLOR": "1", "PYTHONUNBUFFERED": "1"}


def run_playbook(argv: list[str], env: dict[str, str], cwd: Path, sink: Callable[[str], None],
                 secret: str | None = None) -> int:
    """Run ansible-playbook, handing every output line to `sink` as it comes.

    `secret` (the sudo password) is written to its stdin, which is then closed: ansible-playbook
    reads it with `--become-password-file -`.
    """
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            if secret:
                proc.stdin.write(secret + "\n")
            proc.stdin.close()
        except BrokenPipeError:
            pass   # it exited early; its output says why
        for line in proc.stdout:
            sink(line.rstrip("\n"))
        return proc.wait()
    except BaseException:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise


def _progress_hook(progress: ProgressFn | None, by_alias: dict[str, Host], index: dict[str, tuple[int, str]],
                   total: int, check: bool):
    """Ansible results as Progress events: (inventory name, ok|changed|failed|..., task) -> progress."""
    if progress is None:
        return None
    tags = {"changed": "would change" if check else "changed", "fatal": "failed", "failed": "failed"}

    def hook(alias: str, state: str, task: str | None) -> None:
        host = by_alias.get(alias)
        if host is not None:
            n, title = index.get(task or "", (0, task or ""))
            progress(Progress(host.name, tags.get(state, state), n, total, title))
    return hook


def run_ansible(plan: Plan, hosts: Iterable[Host], forks: int = 10, check: bool = False, log_dir=None,
                become_password: str | None = None, known_hosts: str | None = None,
                accept_new_host_keys: bool = False, display: Callable[[str], None] | None = None,
                progress: ProgressFn | None = None, allow_os_mismatch: bool = False,
                allow_format: bool = False, bundle: Staged | None = None) -> list[HostResult]:
    """Apply `plan` to `hosts` with ansible-playbook; one HostResult per host, in the hosts' order.

    Every output line of ansible-playbook (its PLAY RECAP included) goes to `display` (default:
    stdout) and to `ansible-playbook.log` in log_dir; `progress` gets one event per task result.
    With `bundle` (staged by ansible_bundle.stage_all): the bundle's own playbook runs, each host told
    where its copy is; a host whose copy failed keeps that result and is left out of the run.
    """
    hosts = list(hosts)
    left = [h for h in hosts if bundle is None or h.name not in bundle.failed]
    if bundle is not None and not left:
        log, _ = open_log(log_dir, LOG_NAME.removesuffix(".log"))
        if log is not None:
            with log:
                log.writelines(line + "\n" for line in bundle.lines)
        return [bundle.failed[h.name] for h in hosts]
    ran = iter(_run(plan, left, forks, check, log_dir, become_password, known_hosts, accept_new_host_keys,
                    display, progress, allow_os_mismatch, allow_format, bundle))
    return [bundle.failed[h.name] if bundle is not None and h.name in bundle.failed else next(ran) for h in hosts]


def _run(plan: Plan, hosts: list[Host], forks: int, check: bool, log_dir, become_password: str | None,
         known_hosts: str | None, accept_new_host_keys: bool, display: Callable[[str], None] | None,
         progress: ProgressFn | None, allow_os_mismatch: bool, allow_format: bool,
         run: Staged | None) -> list[HostResult]:
    hosts = [checked_host(h) if not h.local else h for h in hosts]     # exit 2 before anything starts
    known_hosts = str(Path(check_path("--known-hosts", known_hosts)).expanduser().absolute()) if known_hosts else None
    playbook = find_ansible_playbook()
    display = display or click.echo
    redact = redactor((become_password or "",))
    start = time.monotonic()
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="toolkit-ansible-")))
        if run is not None:
            shutil.copytree(playbook_dir(run.folder), work / "ansible")
        else:
            ansible_render.render(plan).write(work)
        (work / "ansible" / "site.yml").write_text(site_playbook())
        (work / "ansible.cfg").write_text(ansible_cfg(forks, work / "cp"))
        extra = {name: {BUNDLE_VAR: folder} for name, folder in run.remote.items()} if run is not None else None
        by_alias = write_inventory(work / "inventory.yml", hosts, known_hosts, accept_new_host_keys, extra)
        argv = [playbook, "-i", str(work / "inventory.yml"), str(work / "ansible" / "site.yml")]
        argv += ["--check"] if check else []
        argv += ["--become-password-file", "-"] if become_password else []
        argv += ["-e", f"{ansible_render.OS_MISMATCH_VAR}=true"] if allow_os_mismatch else []
        argv += ["-e", f"{ALLOW_FORMAT_VAR}=true"] if allow_format else []
        log, log_path = open_log(log_dir, LOG_NAME.removesuffix(".log"))
        if log is not None:
            stack.enter_context(log)
            log.writelines(redact(line) + "\n" for line in (run.lines if run is not None else []))
        index = task_steps(plan)
        parser = RecapParser(list(by_alias), on_result=_progress_hook(progress, by_alias, index, len(plan.steps), check))

        def sink(line: str) -> None:
            line = redact(line)
            parser.feed(line)
            if log is not None:
                log.write(line + "\n")
                log.flush()
            display(line)
        rc = run_playbook(argv, _child_env(work / "ansible.cfg"), work, sink, become_password)
    wall = time.monotonic() - start
    steps = {name: title for name, (_, title) in index.items()} | {ansible_render.OS_CHECK_TASK: REFUSED_STEP}
    run_tail = parser.lines if rc not in (0, 2, 4) else []   # 2: a host failed, 4: one was unreachable
    return [host_result(parser.hosts[alias], host, steps, len(plan.steps), check, wall, log_path, run_tail)
            for alias, host in by_alias.items()]


def host_result(rec: HostRecap, host: Host, steps: dict[str, str], total: int, check: bool, wall: float,
                log_path: str | None, run_tail: list[str]) -> HostResult:
    """One host's HostResult; `steps` maps task names to step titles."""
    status = rec.status(check)
    failed = None if rec.failed_task is None else steps.get(rec.failed_task, rec.failed_task)
    if status in BAD and failed is None:
        failed = "ansible-playbook"   # it stopped before this host's recap line (see the tail)
    tail = (rec.tail() or run_tail or rec.lines) if status in BAD else []
    changed = {steps[t] for t in rec.changed_tasks if t in steps}
    return HostResult(host=host.name, status=status, steps_changed=len(changed), steps_total=total, seconds=round(rec.seconds or wall, 2), failed_step=failed,
                      tail=list(tail), log_path=log_path, reboot_required=rec.reboot_required)
