"""Ansible tasks of the GPU host steps: the NVIDIA driver and the NVIDIA Container Toolkit.

A read-only scan task runs first (also in --check) and prints one JSON line: `action` is skip (no
NVIDIA GPU on the PCI bus, install auto), adopt (a driver >= the floor already runs), refuse (an
older driver runs that this plan did not install) or install. Every later task is `when:` that
fact. Plan values only appear as module arguments or argv items, never inside Jinja; the Jinja here
reads registered facts only.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from toolkit.model import host_probes
from toolkit.model.plan import Plan
from toolkit.model.steps import ContainerToolkit, NvidiaDriver
from toolkit.render import ansible_tasks as A

KEY_CACHE = "/var/cache/toolkit"
CUDA_KEY = "/usr/share/keyrings/toolkit-cuda-archive.asc"
CUDA_LIST = "/etc/apt/sources.list.d/toolkit-cuda.list"
CTK_KEY = "/usr/share/keyrings/nvidia-container-toolkit.asc"
CTK_LIST = "/etc/apt/sources.list.d/nvidia-container-toolkit.list"
NOUVEAU = "/etc/modprobe.d/blacklist-nouveau.conf"
NO_GPU = "[skipped] no NVIDIA GPU (driver steps skipped)"
# One word a line: absent / configured (daemon.json names the nvidia runtime) / missing; running or
# stopped; daemon.json when that file exists.
DOCKER_STATE = (
    "if [ -e /etc/docker/daemon.json ]; then echo daemon.json; fi; "
    "if ! command -v docker >/dev/null 2>&1; then echo absent; "
    "elif grep -q '\"nvidia\"' /etc/docker/daemon.json 2>/dev/null; then echo configured; else echo missing; fi; "
    "if systemctl is-active --quiet docker 2>/dev/null; then echo running; else echo stopped; fi"
)


def _read_only(name: str, argv: list[str], register: str) -> dict:
    return {"name": name, "ansible.builtin.command": {"argv": argv}, "register": register,
            "changed_when": False, "check_mode": False}


def _when(task: dict, *conditions: str) -> dict:
    before = task.get("when")
    return {**task, "when": [*conditions, *([before] if isinstance(before, str) else before or [])]}


def _refresh(step, *conditions: str) -> dict:
    """apt-get update right after a repository was added (the apt tasks' cache may look fresh)."""
    return _when({"name": A.step_name(step, "refresh apt lists"), "ansible.builtin.apt": {"update_cache": True}},
                 *conditions, A.check_mode_guard("apt"))


def _pinned_repo(step, go: str, reg: str, present: list[str], key_url: str, fingerprint: str, key: str,
                 list_path: str, line: str) -> list[dict]:
    """An apt repository signed-by a pinned key, unless the host already has it (`present` exits 0).
    The key is downloaded into the cache, checked against the fingerprint (the same key_is as setup.sh),
    and only then installed where apt reads it."""
    own = f"{reg}_present.rc != 0"
    cached = f"{KEY_CACHE}/{PurePosixPath(key).name}"
    check = ["sh", "-c", host_probes.KEY_CHECK + 'key_is "$1" "$2"', "key", cached, fingerprint]
    return [
        _when({**_read_only(A.step_name(step, "is the repository already set up"), present, f"{reg}_present"),
               "failed_when": False}, go),
        _when(A.apt_task(A.step_name(step, "curl and gpg"), ["ca-certificates", "curl", "gpg"]), go, own),
        _when({"name": A.step_name(step, f"folder {KEY_CACHE}"),
               "ansible.builtin.file": {"path": KEY_CACHE, "state": "directory", "mode": "0755"}}, go, own),
        _when({"name": A.step_name(step, "download the signing key"),
               "ansible.builtin.get_url": {"url": key_url, "dest": cached, "mode": "0644"}}, go, own),
        _when({**_read_only(A.step_name(step, f"the signing key is {fingerprint}"), check, f"{reg}_key")},
              go, own, "not ansible_check_mode"),
        _when({"name": A.step_name(step, key),
               "ansible.builtin.copy": {"src": cached, "dest": key, "remote_src": True, "mode": "0644"}},
              go, own, "not ansible_check_mode"),
        _when({**A.copy_tasks(A.step_name(step, list_path), list_path, line)[-1], "register": f"{reg}_list"}, go, own),
        _refresh(step, go, f"{reg}_list is changed"),
    ]


def driver_tasks(step: NvidiaDriver, n: int, plan: Plan) -> list[dict]:
    facts = f"toolkit_nvidia_{n}"
    go = f"{facts}.action == 'install'"
    scan = [step.install_mode, step.min_version, step.kernel_prefix, *step.packages]
    tasks = [
        _read_only(A.step_name(step, "look at this host (PCI devices, running driver, kernel)"),
                   ["sh", "-c", host_probes.DRIVER_FACTS, "facts", *scan], f"{facts}_scan"),
        {"name": A.step_name(step, "host facts"),
         "ansible.builtin.set_fact": {facts: A.Template(f"{{{{ {facts}_scan.stdout | from_json }}}}")}},
        {"name": A.step_name(step, "no NVIDIA GPU"), "ansible.builtin.debug": {"msg": NO_GPU},
         "when": f"{facts}.action == 'skip'"},
        {"name": A.step_name(step, "adopt the running driver"),
         "ansible.builtin.debug": {"msg": A.Template(
             f"[ok] adopted the running NVIDIA driver {{{{ {facts}.driver }}}} (>= the floor; left as it is)")},
         "when": f"{facts}.action == 'adopt'"},
        {"name": A.step_name(step, "refuse to replace an older driver"),
         "ansible.builtin.fail": {"msg": A.Template(
             f"NVIDIA driver {{{{ {facts}.driver }}}} is running, older than this profile needs; toolkit does not "
             "replace a driver it did not install: upgrade or remove it, or set gpu.driver.install: never")},
         "when": f"{facts}.action == 'refuse'"},
    ]
    if step.strategy == "cuda-repo":
        present = ["sh", "-c", host_probes.PACKAGES + host_probes.REPO_CONFIGURED
                   + 'installed cuda-keyring || repo_configured "$1" "$2"', "repo", step.repo, CUDA_LIST]
        tasks += _pinned_repo(step, go, f"{facts}_repo", present, step.key_url, step.key_fingerprint, CUDA_KEY,
                              CUDA_LIST, f"deb [signed-by={CUDA_KEY}] {step.repo} /\n")
    install = {**_when(A.apt_task(A.step_name(step, "driver packages"), step.packages), go),
               "register": f"{facts}_installed"}
    kernel = _when(A.apt_task(A.step_name(step, "packages for the running kernel"), [], update_cache=False), go)
    kernel["ansible.builtin.apt"]["name"] = A.Template(f"{{{{ {facts}.kernel_packages }}}}")
    kernel["register"] = f"{facts}_kernel"
    tasks += [install, kernel]
    if step.blacklist_nouveau:
        copy = _when(A.copy_tasks(A.step_name(step, NOUVEAU), NOUVEAU, "blacklist nouveau\noptions nouveau modeset=0\n")[-1],
                     go)
        tasks += [{**copy, "register": f"{facts}_nouveau"},
                  _when({"name": A.step_name(step, "update-initramfs -u"),
                         "ansible.builtin.command": {"argv": ["update-initramfs", "-u"]}, "changed_when": True},
                        go, f"{facts}_nouveau is changed")]
    changed = f"({facts}_installed is changed or {facts}_kernel is changed)"
    if step.lock:
        kernel_prefix = step.kernel_prefix if step.strategy == "ubuntu-signed" else ""
        hold = ["sh", "-c", host_probes.PACKAGES + host_probes.KERNEL_META + host_probes.HOLD_LIST + 'hold_list "$@"',
                "hold", step.branch, kernel_prefix, *step.packages]
        tasks += [_when(_read_only(A.step_name(step, "packages to hold"), hold, f"{facts}_hold"), go),
                  _when({"name": A.step_name(step, "apt-mark hold"),
                         "ansible.builtin.dpkg_selections": {"name": A.Template("{{ item }}"), "selection": "hold"},
                         "loop": A.Template(f"{{{{ {facts}_hold.stdout_lines | default([]) }}}}")},
                        go, "not ansible_check_mode")]
    tasks += [
        _when({"name": A.step_name(step, "mark the reboot it needs"),
               "ansible.builtin.copy": {"dest": "/var/run/reboot-required", "content": "*** System restart required ***\n",
                                        "mode": "0644", "force": False}}, go, changed),
        _when({"name": A.step_name(step, "reboot required"), "ansible.builtin.debug": {
            "msg": f"[reboot-required] NVIDIA driver {step.branch} installed: reboot to load it"}}, go, changed),
    ]
    return tasks


def container_toolkit_tasks(step: ContainerToolkit, n: int, plan: Plan) -> list[dict]:
    scan, docker = f"toolkit_ctk_gpu_{n}", f"toolkit_ctk_docker_{n}"
    gpu = ["sh", "-c", host_probes.HAS_GPU + "has_nvidia_gpu", "scan"]
    go = f"{scan}.rc == 0" if step.install_mode == "auto" else "true"
    task = _read_only(A.step_name(step, "look for an NVIDIA GPU"), gpu, scan)
    tasks = [{**task, "failed_when": False}]
    if step.install_mode == "auto":
        tasks.append({"name": A.step_name(step, "no NVIDIA GPU"), "ansible.builtin.debug": {"msg": NO_GPU},
                      "when": f"{scan}.rc != 0"})
    missing = f"'missing' in {docker}.stdout_lines"
    present = ["sh", "-c", host_probes.REPO_CONFIGURED + 'repo_configured "$1" "$2"', "repo", step.repo, CTK_LIST]
    tasks += _pinned_repo(step, go, f"{docker}_repo", present, step.key_url, step.key_fingerprint, CTK_KEY, CTK_LIST,
                          f"deb [signed-by={CTK_KEY}] {step.repo}$(ARCH) /\n")
    tasks += [
        _when(A.apt_task(A.step_name(step), step.packages, update_cache=False), go),
        _when(_read_only(A.step_name(step, "Docker's runtimes"), ["sh", "-c", DOCKER_STATE], docker), go),
        _when({"name": A.step_name(step, "keep daemon.json as it was"),
               "ansible.builtin.copy": {"src": "/etc/docker/daemon.json", "dest": "/etc/docker/daemon.json.toolkit-backup",
                                        "remote_src": True, "force": False, "mode": "preserve"}},
              go, missing, f"'daemon.json' in {docker}.stdout_lines"),
        _when({"name": A.step_name(step, "add the nvidia runtime to Docker (merged into daemon.json)"),
               "ansible.builtin.command": {"argv": ["nvidia-ctk", "runtime", "configure", "--runtime=docker"]},
               "changed_when": True, "register": f"{docker}_configured"}, go, missing),
        _when({"name": A.step_name(step, "restart Docker"),
               "ansible.builtin.systemd_service": {"name": "docker", "state": "restarted"}},
              go, f"{docker}_configured is changed", f"'running' in {docker}.stdout_lines"),
        _when({"name": A.step_name(step, "Docker not installed"), "ansible.builtin.debug": {
            "msg": "Docker is not installed: once it is, run: nvidia-ctk runtime configure --runtime=docker"}},
              go, f"'absent' in {docker}.stdout_lines"),
    ]
    return tasks
