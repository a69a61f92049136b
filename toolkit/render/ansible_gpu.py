"""Ansible tasks of the GPU host steps: the NVIDIA driver and the NVIDIA Container Toolkit.

A read-only scan task runs first (also in --check) and prints one JSON line: `action` is skip (no
NVIDIA GPU on the PCI bus, install auto), adopt (a driver >= the floor already runs), refuse (an
older driver runs that this plan did not install) or install. Every later task is `when:` that
fact. Plan values only appear as module arguments or argv items, never inside Jinja; the Jinja here
reads registered facts only.
"""

from __future__ import annotations

from toolkit.model import host_probes, osfamily
from toolkit.model.plan import Plan
from toolkit.model.steps import ContainerToolkit, NvidiaDriver
from toolkit.render import ansible_tasks as A
from toolkit.render.ansible_repo import read_only as _read_only
from toolkit.render.ansible_repo import repository_tasks
from toolkit.render.ansible_repo import when as _when

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


def driver_tasks(step: NvidiaDriver, n: int, plan: Plan) -> list[dict]:
    facts = f"toolkit_nvidia_{n}"
    go = f"{facts}.action == 'install'"
    scan = [step.install_mode, step.min_version, step.kernel_prefix, *step.packages]
    tasks = [
        _read_only(A.step_name(step, "look at this host (PCI devices, running driver, kernel)"),
                   ["sh", "-c", host_probes.driver_facts(step.family), "facts", *scan], f"{facts}_scan"),
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
    family = osfamily.for_distro(plan.target.distro)
    if step.repository is not None:
        tasks += repository_tasks(step.repository, step, f"{facts}_repo", go)
    install = {**_when(A.package_task(family, A.step_name(step, "driver packages"), step.packages), go),
               "register": f"{facts}_installed"}
    kernel = _when(A.package_task(family, A.step_name(step, "packages for the running kernel"), [],
                                  update_cache=False), go)
    kernel[family.ansible_package_module]["name"] = A.Template(f"{{{{ {facts}.kernel_packages }}}}")
    kernel["register"] = f"{facts}_kernel"
    if step.module_stream:
        # RHEL family: EPEL's dkms and kernel-devel first (the stream's kmod is built by DKMS when it installs),
        # then the stream's default profile, which brings the packages.
        stream = _when(A.package_task(family, A.step_name(step, f"module stream nvidia-driver:{step.module_stream}"),
                                      [f"@nvidia-driver:{step.module_stream}"], update_cache=False), go)
        tasks += [_when(A.package_task(family, A.step_name(step, "EPEL (dkms)"), ["epel-release"]), go), kernel,
                  {**stream, "register": f"{facts}_stream"}, install]
    else:
        tasks += [install, kernel]
    initramfs = ["dracut", "--force"] if step.family == "rhel" else ["update-initramfs", "-u"]
    if step.blacklist_nouveau:
        copy = _when(A.copy_tasks(A.step_name(step, NOUVEAU), NOUVEAU, "blacklist nouveau\noptions nouveau modeset=0\n")[-1],
                     go)
        tasks += [{**copy, "register": f"{facts}_nouveau"},
                  _when({"name": A.step_name(step, " ".join(initramfs)),
                         "ansible.builtin.command": {"argv": initramfs}, "changed_when": True},
                        go, f"{facts}_nouveau is changed")]
    changed = f"({facts}_installed is changed or {facts}_kernel is changed)"
    if step.module_stream:
        changed = f"({facts}_installed is changed or {facts}_kernel is changed or {facts}_stream is changed)"
    if step.lock:
        kernel_prefix = step.kernel_prefix if step.strategy == "ubuntu-signed" else ""
        packages, kernel_meta, hold_list = host_probes.for_family(step.family)
        hold = ["sh", "-c", packages + kernel_meta + hold_list + 'hold_list "$@"',
                "hold", step.branch, kernel_prefix, *step.packages]
        loop = A.Template(f"{{{{ {facts}_hold.stdout_lines | default([]) }}}}")
        if step.family == "rhel":
            # hold_list names only what is not locked yet: each one is a change (no collection module needed)
            lock = {"name": A.step_name(step, " ".join(family.hold)),
                    "ansible.builtin.command": {"argv": [*family.hold, A.Template("{{ item }}")]},
                    "loop": loop, "changed_when": True}
        else:
            lock = {"name": A.step_name(step, " ".join(family.hold)),
                    family.ansible_hold_module: {"name": A.Template("{{ item }}"), **dict(family.ansible_hold_args)},
                    "loop": loop}
        if step.family == "rhel":
            tasks.append(_when(A.package_task(family, A.step_name(step, "dnf's versionlock plugin"),
                                              ["python3-dnf-plugin-versionlock"], update_cache=False), go))
        tasks += [_when(_read_only(A.step_name(step, "packages to hold"), hold, f"{facts}_hold"), go),
                  _when(lock, go, "not ansible_check_mode")]
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
    family = osfamily.for_distro(plan.target.distro)
    if step.repository is not None:
        tasks += repository_tasks(step.repository, step, f"{docker}_repo", go)
    tasks += [
        _when(A.package_task(family, A.step_name(step), step.packages, update_cache=False), go),
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
