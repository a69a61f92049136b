"""Recorded probe facts: a healthy GPU target (trimmed from a real probe run) and its checks."""

from __future__ import annotations

import copy

from toolkit.model.checks import check

PY = "/opt/venv/bin/python"
SERVICE_KEY = 'jupyter_service:["toolkit-jupyter.service", "127.0.0.1", 8888, "/etc/toolkit/jupyter.env"]'
METRICS_KEY = 'metrics_endpoint:["toolkit-node_exporter.service", "0.0.0.0", 9100, "node_cpu_seconds_total"]'
PROXY_KEY = 'jupyter_proxy:[443, "/", "/var/lib/toolkit/tls/jupyter.pem"]'
HUB_KEY = 'jupyterhub:[443, "/jl/", "/var/lib/toolkit/tls/jupyter.pem"]'
PROXY_FPR = "5b0c3f9e2d6a41c8e7f09b1d3a4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"

ALICE_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDbtylUNyN8U68bIraEe3fSzGSX1KG+UD1M/xiljkKqQ"

CHECKS = {
    "os_release": check("os_release", "os", "OS is debian 12", distro="debian", version="12"),
    "os_package_version": check("os_package_version", "lock", "git locked", ident="os_package_version:git",
                                name="git", family="debian", version="1:2.39.5-0+deb12u2"),
    "pip_version": check("pip_version", "lock", "numpy locked", ident="pip_version:numpy", python=PY, name="numpy",
                         version="2.3.1"),
    "os_package": check("os_package", "os", "git installed", ident="os_package:git", name="git", family="debian"),
    "python_version": check("python_version", "python", "Python 3.11", python=PY, version="3.11"),
    "venv": check("venv", "python", "venv", path="/opt/venv"),
    "pip_package": check("pip_package", "packages", "numpy", ident="pip_package:numpy", python=PY, name="numpy",
                         specifier=">=1.26,<3", import_name="numpy"),
    "pip_check": check("pip_check", "python", "pip check", python=PY),
    "torch_cuda": check("torch_cuda", "pytorch", "torch for CUDA 12.6", python=PY, cuda="12.6"),
    "tensorflow_build": check("tensorflow_build", "tensorflow", "tf build", python=PY, cuda="12.5", cudnn="9"),
    "jupyter": check("jupyter", "jupyter", "jupyter", python=PY, flavor="lab", port=8888),
    "jupyter_service": check("jupyter_service", "jupyter", "the host's Jupyter unit", unit="toolkit-jupyter.service",
                             user="dev", ip="127.0.0.1", port=8888, env_file="/etc/toolkit/jupyter.env"),
    "metrics_endpoint": check("metrics_endpoint", "monitoring", "node exporter", ident="metrics_endpoint:node",
                              unit="toolkit-node_exporter.service", ip="0.0.0.0", port=9100,
                              metric="node_cpu_seconds_total", gpu=False),
    "jupyter_proxy": check("jupyter_proxy", "jupyter", "Nginx in front of Jupyter", port=443, http_port=80,
                           base_url="/", cert="/var/lib/toolkit/tls/jupyter.pem", jupyter_port=8888, env_file=""),
    "jupyterhub": check("jupyterhub", "jupyter", "JupyterHub behind Nginx", unit="toolkit-jupyterhub.service",
                        port=443, base_url="/jl/", cert="/var/lib/toolkit/tls/jupyter.pem", users=("alice", "bob")),
    "git": check("git", "git", "git and git-lfs", lfs=True),
    "git_config": check("git_config", "git", "git config user.name", ident="git_config:user.name",
                        key="user.name", value="toolkit"),
    "user": check("user", "user", "user dev", ident="user:dev", name="dev", uid=1000, gid=1000, home="/home/dev",
                  shell="/bin/bash", sudo=False),
    "shm": check("shm", "pytorch", "shm", min_mb=512),
    "command": check("command", "checks", "profile check", ident="command:hello", argv=("echo", "hello"),
                     expect="hello"),
    "file": check("file", "network", "CA", ident="file:/etc/ca.crt", path="/etc/ca.crt"),
    "writable": check("writable", "user", "dev writes home", ident="writable:dev", user="dev",
                      dirs=("/home/dev", "/home/dev/.cache", "/tmp"), trees=("/home/dev",)),
    "gpu_driver": check("gpu_driver", "gpu", "driver", tier="gpu"),
    "gpu_inventory": check("gpu_inventory", "gpu", "inventory", tier="gpu"),
    "torch_gpu": check("torch_gpu", "pytorch", "torch sees GPUs", tier="gpu", python=PY),
    "torch_matmul": check("torch_matmul", "pytorch", "matmul", tier="gpu", python=PY),
    "tensorflow_gpu": check("tensorflow_gpu", "tensorflow", "tf GPU", tier="gpu", python=PY),
    # the host fields (users, directories, mounts); facts from a real probe of an applied Debian 12 container
    "account": check("account", "users", "account alice", ident="account:alice", name="alice", uid=2001, gid=2001,
                     home="/home/alice", shell="/bin/bash", groups=("gpu", "docker"), sudo=True),
    "authorized_key": check("authorized_key", "users", "alice's key", ident="authorized_key:alice:1", user="alice",
                            home="/home/alice", key=ALICE_KEY),
    "directory": check("directory", "directories", "folder /data/shared", ident="directory:/data/shared",
                       path="/data/shared", owner="alice", group="gpu", mode="2775", uid=2001, gid=None),
    "mount": check("mount", "mounts", "tmpfs at /data", ident="mount:/data", path="/data", device="tmpfs",
                   fstype="tmpfs"),
}

_H200 = {"index": "0", "name": "NVIDIA H200", "driver": "570.124.06", "memory_mb": "143771", "persistence": "Enabled"}

WRITABLE_KEY = 'writable:["dev", ["/home/dev", "/home/dev/.cache", "/tmp"], ["/home/dev"]]'
ROOT_CACHE = "/home/dev/.cache is owned by root:root, mode 0755"

GOOD = {
    "_probe": {"python": "3.11.2", "euid": 0, "hostname": "t", "seconds": 1.2},
    "_timings": {"os_release": 0.001, "dpkg": 0.02, "interp:" + PY: 0.6, "pip_check:" + PY: 0.9, "torch:" + PY: 2.5,
                 "gpu": 0.4},
    "os_release": {"id": "debian", "version_id": "12", "pretty": "Debian GNU/Linux 12 (bookworm)"},
    "dpkg": {"git": {"status": "ii ", "version": "1:2.39.5-0+deb12u2"}},
    "paths": {"/opt/venv": {"exists": True, "is_dir": True, "pyvenv_cfg": True, "python": True}},
    "files": {"/etc/ca.crt": True},
    WRITABLE_KEY: {"uid": 1000, "dirs": {"/home/dev": None, "/home/dev/.cache": None, "/tmp": None},
                   "trees": {"/home/dev": {"missing": False, "unwritable": [], "truncated": False}}},
    "users": {"dev": {"uid": 1000, "gid": 1000, "home": "/home/dev", "shell": "/bin/bash", "groups": ["dev"],
                      "sudo_bin": True, "sudoers": False,
                      "sudo_list": {"rc": 1, "out": "", "err": "User dev is not allowed to run sudo on t.\n"}},
              "alice": {"uid": 2001, "gid": 2001, "home": "/home/alice", "shell": "/bin/bash",
                        "groups": ["alice", "docker", "gpu"], "sudo_bin": True, "sudoers": True,
                        "sudo_list": {"rc": 0, "err": "", "out": "User alice may run the following commands on t:\n"
                                                                "    (ALL : ALL) NOPASSWD: ALL\n"}}},
    "ssh_keys": {"/home/alice": {
        "dir": {"dir": True, "file": False, "gid": 2001, "group": "alice", "link": False, "mode": "700",
                "owner": "alice", "uid": 2001},
        "file": {"dir": False, "file": True, "gid": 2001, "group": "alice", "link": False, "mode": "600",
                 "owner": "alice", "uid": 2001},
        "keys": [ALICE_KEY]}},
    "dir_stats": {"/data/shared": {"dir": True, "file": False, "gid": 2004, "group": "gpu", "link": False,
                                   "mode": "2775", "owner": "alice", "uid": 2001}},
    "mount_facts": {"/data": {"device": "tmpfs", "fstab_readable": True,
                              "fstab": [{"fstype": "tmpfs", "options": "size=64m,mode=0755", "spec": "tmpfs"}],
                              "mounted": [{"fstype": "tmpfs", "options": "rw,relatime,size=65536k,mode=755",
                                           "source": "tmpfs"}]}},
    "shm": {"mb": 1024},
    "git": {"path": "/usr/bin/git", "version": "git version 2.39.5", "lfs": "git-lfs/3.3.0",
            "config": {"user.name": "toolkit"}},
    'command:["echo", "hello"]': {"rc": 0, "out": "hello\n", "err": "", "seconds": 0.001},
    "interp:" + PY: {"version": "3.11.2", "executable": PY, "prefix": "/opt/venv", "base_prefix": "/usr",
                     "dists": {"numpy": {"version": "2.3.1", "top_level": "numpy"}},
                     "imports": {"numpy": {"module": "numpy", "ok": True, "seconds": 0.1}}},
    "pip_check:" + PY: {"rc": 0, "out": "No broken requirements found."},
    "torch:" + PY: {"import": {"module": "torch", "ok": True}, "version": "2.7.1+cu126", "cuda": "12.6",
                    "available": True, "device_count": 1, "arch_list": ["sm_90"],
                    "matmul": [{"index": 0, "name": "NVIDIA H200", "ok": True, "max_abs_diff": 3.1e-5,
                                "device": "cpu", "ran_on": "cuda:0"}]},
    "tf:" + PY: {"import": {"module": "tensorflow", "ok": True}, "version": "2.19.0",
                 "build": {"cuda_version": "12.5.1", "cudnn_version": "9", "is_cuda_build": "True"},
                 "gpus": ["/physical_device:GPU:0"]},
    'jupyter:["/opt/venv/bin/python", "lab", 8888]': {
        "port": 8888, "existing": None, "api": 200, "startup_seconds": 1.8, "contents_no_token": 403,
        "contents_token": 200},
    # a probe run as root in a systemd container (tests/integration/test_jupyter_service.py's host)
    SERVICE_KEY: {"active": "active", "enabled": "enabled", "journal_read": True, "listening": ["127.0.0.1"],
                  "no_token": 403, "pid1": "systemd", "token_how": "as root", "token_in_journal": False,
                  "token_state": "read", "user": "dev", "with_token": 200},
    # a probe run as root in a systemd container with monitoring.node_exporter applied
    METRICS_KEY: {"active": "active", "enabled": "enabled", "has_metric": True, "pid1": "systemd", "samples": 1036,
                  "status": 200},
    # a probe run in a container of an image with jupyter.proxy.tls, started with -e JUPYTER_TOKEN
    PROXY_KEY: {"presented": PROXY_FPR, "on_file": PROXY_FPR, "tls_error": "", "http": 301,
                "location": "https://127.0.0.1/", "no_token": 403, "jupyter_listening": ["127.0.0.1"],
                "token_from": "the environment", "with_token": 200, "kernel_result": "2", "kernel_error": ""},
    HUB_KEY: {"presented": PROXY_FPR, "on_file": PROXY_FPR, "version": "6.1.1", "pid1": "systemd",
              "active": "active", "tls_error": "", "api": 200, "users_no_login": 403},
    "gpu": {"dev": True, "smi": "/usr/bin/nvidia-smi", "nouveau": False, "smi_error": None, "visible": True,
            "proc_version": "NVRM version: NVIDIA UNIX x86_64 Kernel Module  570.124.06\n", "gpus": [_H200]},
}

CPU_ONLY_GPU = {"dev": False, "smi": None, "proc_version": None, "nouveau": False, "gpus": [], "smi_error": None,
                "visible": False}


def facts(**changes) -> dict:
    """GOOD with sections replaced: facts(shm={"mb": 64})."""
    out = copy.deepcopy(GOOD)
    for key, value in changes.items():
        out[key.replace("__", ":")] = value
    return out


def edit(path: tuple, value) -> dict:
    """GOOD with one nested value replaced: edit(("users", "dev", "uid"), 1001)."""
    out = copy.deepcopy(GOOD)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out
