"""Evaluation of every check kind on recorded facts: pass and fail, with expected/found/hint."""

from __future__ import annotations

import pytest

from toolkit.model.checks import CHECK_KINDS, check
from toolkit.verify.evaluate import FAILED, PASSED, SKIPPED, evaluate
from toolkit.verify.kinds import KINDS

from .recorded import (
    CHECKS,
    CPU_ONLY_GPU,
    GOOD,
    HUB_KEY,
    METRICS_KEY,
    PROXY_KEY,
    PY,
    ROOT_CACHE,
    SERVICE_KEY,
    WRITABLE_KEY,
    edit,
    facts,
)

TORCH, TF, INTERP = "torch:" + PY, "tf:" + PY, "interp:" + PY


def test_every_kind_has_an_evaluator_and_a_recorded_case():
    assert set(KINDS) == set(CHECK_KINDS) == set(CHECKS)


@pytest.mark.parametrize("kind", sorted(CHECKS))
def test_healthy_target_passes(kind):
    result = evaluate(CHECKS[kind], GOOD)
    assert result.status == PASSED, result
    assert result.hint == ""
    assert result.expected and result.found
    assert result.tier == CHECKS[kind].tier


FAILS = [
    # kind, facts, a piece of `found`, a piece of `hint`
    ("os_release", facts(os_release={"id": "ubuntu", "version_id": "22.04"}), "ubuntu 22.04", "debian 12"),
    ("os_package_version", edit(("dpkg", "git", "version"), "1:2.39.2-1.1"), "git 1:2.39.2-1.1, locked 1:2.39.5",
     "--locked"),
    ("os_package_version", facts(dpkg={"git": None}), "git not installed, locked", "toolkit lock"),
    ("os_package_version", facts(dpkg={"_error": "dpkg-query not found"}), "dpkg-query not found", "Debian/Ubuntu"),
    ("pip_version", edit((INTERP, "dists", "numpy", "version"), "2.1.0"), "numpy 2.1.0, locked 2.3.1", "--locked"),
    ("pip_version", edit((INTERP, "dists", "numpy"), None), "numpy not installed", "toolkit lock"),
    ("os_package", facts(dpkg={"git": None}), "git not installed", "apt-get install -y git"),
    ("os_package", edit(("dpkg", "git", "status"), "rc "), "dpkg state 'rc'", "apt-get install -y git"),
    ("os_package", facts(dpkg={"_error": "dpkg-query not found"}), "dpkg-query not found", "Debian/Ubuntu"),
    ("python_version", edit((INTERP, "version"), "3.10.12"), "Python 3.10.12", "with Python 3.11"),
    ("python_version", facts(**{INTERP: {"_error": "/opt/venv/bin/python does not exist", "missing": True}}),
     "does not exist", "python3 -m venv /opt/venv"),
    ("venv", facts(paths={"/opt/venv": {"exists": False}}), "does not exist", "python3 -m venv /opt/venv"),
    ("venv", facts(paths={"/opt/venv": {"exists": True, "is_dir": True, "pyvenv_cfg": False, "python": True}}),
     "no pyvenv.cfg", "venv"),
    ("pip_package", edit((INTERP, "dists", "numpy"), None), "numpy is not installed in /opt/venv",
     "pip install numpy in /opt/venv"),
    ("pip_package", edit((INTERP, "dists", "numpy", "version"), "1.24.4"), "numpy 1.24.4 does not match",
     "pip install 'numpy>=1.26,<3'"),
    ("pip_package", edit((INTERP, "imports", "numpy"), {"module": "numpy", "ok": False,
                                                        "error": "ImportError: libgfortran.so.5"}),
     "import numpy failed: ImportError: libgfortran.so.5", "--force-reinstall numpy"),
    ("pip_package", edit((INTERP, "imports"), {}), "import numpy failed: not probed", "--force-reinstall"),
    ("pip_check", facts(**{"pip_check:" + PY: {"rc": 1, "out": "pandas 2.2.3 requires numpy, which is not installed."}}),
     "pandas 2.2.3 requires numpy", "pip check"),
    ("torch_cuda", edit((TORCH, "cuda"), None), "torch.version.cuda=None", "CUDA 12.6 (index .../whl/cu126)"),
    ("torch_cuda", edit((TORCH, "cuda"), "11.8"), "torch.version.cuda=11.8", "cu126"),
    ("torch_cuda", facts(**{TORCH: {"import": {"module": "torch", "ok": False,
                                               "error": "ModuleNotFoundError: No module named 'torch'"}}}),
     "No module named 'torch'", "pip install torch in /opt/venv"),
    ("tensorflow_build", edit((TF, "build", "cuda_version"), "11.8"), "cuda=11.8", "tensorflow[and-cuda]"),
    ("tensorflow_build", edit((TF, "build", "cudnn_version"), "8"), "cudnn=8", "TensorFlow release"),
    ("jupyter", edit(('jupyter:["/opt/venv/bin/python", "lab", 8888]', "contents_no_token"), 200),
     "without token=200", "authentication must stay on"),
    ("jupyter", facts(**{'jupyter:["/opt/venv/bin/python", "lab", 8888]': {"port": 8888, "existing": None,
                                                                          "error": "/opt/venv/bin/jupyter not found"}}),
     "jupyter not found", "pip install jupyterlab"),
    ("jupyter", edit(('jupyter:["/opt/venv/bin/python", "lab", 8888]', "existing"),
                     {"api": 200, "contents_no_token": 200}), "the server already on port 8888", "JUPYTER_TOKEN"),
    ("jupyter_service", edit((SERVICE_KEY, "active"), "failed"), "is-active says failed",
     "journalctl -u toolkit-jupyter.service"),
    ("jupyter_service", edit((SERVICE_KEY, "enabled"), "disabled"), "is-enabled says disabled",
     "systemctl enable --now toolkit-jupyter.service"),
    ("jupyter_service", edit((SERVICE_KEY, "user"), "root"), "runs as root", "the unit runs as dev"),
    ("jupyter_service", edit((SERVICE_KEY, "listening"), ["0.0.0.0"]), "listens on 0.0.0.0, not only on 127.0.0.1",
     "SSH tunnel"),
    ("jupyter_service", edit((SERVICE_KEY, "listening"), []), "nothing listens on port 8888", "jupyter.ip"),
    ("jupyter_service", edit((SERVICE_KEY, "no_token"), 200), "the API answers without the token",
     "authentication must stay on"),
    ("jupyter_service", edit((SERVICE_KEY, "no_token"), None), "no answer on 127.0.0.1:8888", "journalctl -u"),
    ("jupyter_service", edit((SERVICE_KEY, "with_token"), 403), "the token in /etc/toolkit/jupyter.env is refused",
     "systemctl restart toolkit-jupyter.service"),
    ("jupyter_service", edit((SERVICE_KEY, "token_in_journal"), True), "the token is in the unit's journal",
     "sudo rm /etc/toolkit/jupyter.env"),
    ("jupyter_service", facts(**{SERVICE_KEY: dict(GOOD[SERVICE_KEY], token_state="missing",
                                                   token_how="cat: /etc/toolkit/jupyter.env: No such file")}),
     "no token: cat: /etc/toolkit/jupyter.env: No such file", "it makes /etc/toolkit/jupyter.env"),
    ("jupyter_proxy", edit((PROXY_KEY, "presented"), "00" * 32), "the certificate on 443 is not",
     "restart the proxy"),
    ("jupyter_proxy", edit((PROXY_KEY, "presented"), None), "no TLS answer on 443", "toolkit-jupyter_proxy.service"),
    ("jupyter_proxy", edit((PROXY_KEY, "no_token"), 200), "the API answers 200 without the token", "require its token"),
    ("jupyter_proxy", edit((PROXY_KEY, "http"), 200), "HTTP answers 200", "redirect to HTTPS"),
    ("jupyter_proxy", edit((PROXY_KEY, "jupyter_listening"), ["0.0.0.0"]), "Jupyter listens on 0.0.0.0",
     "127.0.0.1 only"),
    ("jupyter_proxy", edit((PROXY_KEY, "kernel_result"), None), "1+1 over the websocket gave", "websocket upgrades"),
    ("jupyterhub", edit((HUB_KEY, "users_no_login"), 200), "the user list answers 200 without a login",
     "must require a login"),
    ("jupyterhub", edit((HUB_KEY, "api"), 502), "the hub's API answers 502", "journalctl -u toolkit-jupyterhub"),
    ("jupyterhub", edit((HUB_KEY, "presented"), "00" * 32), "the certificate on 443 is not", "restart the proxy"),
    ("jupyterhub", edit((HUB_KEY, "active"), "failed"), "toolkit-jupyterhub.service is failed", "systemctl start"),
    ("jupyterhub", edit((HUB_KEY, "presented"), None), "no TLS answer on 443", "toolkit-jupyter_proxy.service"),
    ("metrics_endpoint", edit((METRICS_KEY, "active"), "failed"), "enabled, failed",
     "journalctl -u toolkit-node_exporter.service"),
    ("metrics_endpoint", edit((METRICS_KEY, "status"), None), "/metrics: no answer", "check monitoring.listen"),
    ("metrics_endpoint", edit((METRICS_KEY, "has_metric"), False), "no node_cpu_seconds_total", "journalctl -u"),
    ("git", edit(("git", "lfs"), None), "git lfs not available", "apt-get install -y git-lfs"),
    ("git", facts(git={"path": None, "config": {}}), "git not found", "apt-get install -y git git-lfs"),
    ("git_config", edit(("git", "config", "user.name"), None), "user.name unset", "git config --system user.name toolkit"),
    ("user", facts(users={"dev": None}), "no user dev", "useradd --uid 1000"),
    ("user", edit(("users", "dev", "uid"), 1001), "uid=1001", "usermod to fix uid"),
    ("user", edit(("users", "dev", "groups"), ["dev", "sudo"]), "sudo=True", "remove sudo rights"),
    ("user", edit(("users", "dev", "sudo_list"), {"rc": 0, "out": "User dev may run the following commands", "err": ""}),
     "sudo=True", "remove sudo rights"),
    ("shm", facts(shm={"mb": 64}), "/dev/shm is 64 MB", "--shm-size=1g"),
    ("command", facts(**{'command:["echo", "hello"]': {"rc": 0, "out": "bye\n", "err": ""}}), "exit 0: bye",
     "echo hello"),
    ("command", facts(**{'command:["echo", "hello"]': {"rc": 127, "out": "", "err": "echo: not found"}}),
     "exit 127", "run it on the target"),
    ("file", facts(files={"/etc/ca.crt": False}), "/etc/ca.crt is missing", "re-apply"),
    # The image whose ~/.cache BuildKit left to root: the folder test and the tree scan both say so.
    ("writable", edit((WRITABLE_KEY, "dirs", "/home/dev/.cache"),
                      f"cannot create a folder in /home/dev/.cache: Permission denied ({ROOT_CACHE})"),
     "/home/dev/.cache is owned by root:root", "chown -R dev:"),
    ("writable", edit((WRITABLE_KEY, "trees", "/home/dev", "unwritable"), ["/home/dev/.cache/pip is owned by root"]),
     "not writable: /home/dev/.cache/pip", "chown -R dev:"),
    ("writable", facts(**{WRITABLE_KEY: {"_error": "no user dev on the target", "no_user": True}}),
     "no user dev", "create dev first"),
    ("writable", facts(**{WRITABLE_KEY: {"_error": "the probe runs as uid 1001, neither root nor dev, and sudo is "
                                                   "missing"}}), "neither root nor dev", "run verify as root or as dev"),
    ("gpu_driver", edit(("gpu", "nouveau"), True), "nouveau is loaded", "blacklist nouveau"),
    ("gpu_driver", facts(gpu=dict(GOOD["gpu"], gpus=[], proc_version=None, smi_error="NVIDIA-SMI has failed")),
     "NVIDIA-SMI has failed", "install the NVIDIA driver"),
    ("gpu_inventory", facts(gpu=dict(GOOD["gpu"], gpus=[], smi_error="NVIDIA-SMI has failed")),
     "NVIDIA-SMI has failed", "--gpus all"),
    ("torch_gpu", edit((TORCH, "device_count"), 0), "device_count=0", "CUDA_VISIBLE_DEVICES"),
    ("torch_gpu", facts(**{TORCH: dict(GOOD[TORCH], cuda=None, available=False, device_count=0)}),
     "is_available=False", "CPU build of torch"),
    ("torch_matmul", edit((TORCH, "matmul"), [{"index": 0, "ok": False, "max_abs_diff": 4.2}]), "max |diff| 4.20e+00",
     "dcgmi diag"),
    ("torch_matmul", edit((TORCH, "matmul"), [{"index": 0, "ok": False,
                                              "error": "RuntimeError: no kernel image is available"}]),
     "no kernel image", "arch list"),
    ("torch_matmul", facts(**{TORCH: dict(GOOD[TORCH], available=False, matmul=[])}), "no GPU run",
     "never falls back to the CPU"),
    ("tensorflow_gpu", edit((TF, "gpus"), []), "no GPU devices", "tensorflow[and-cuda]"),
    ("account", edit(("users", "alice"), None), "no user alice", "useradd --uid 2001"),
    ("account", edit(("users", "alice", "groups"), ["alice", "gpu"]), "alice is in alice, gpu",
     "usermod --append --groups docker alice"),
    ("account", edit(("users", "alice", "shell"), "/bin/sh"), "shell=/bin/sh", "usermod to fix shell"),
    ("authorized_key", edit(("ssh_keys", "/home/alice", "keys"), []), "has 0 key(s), not this one", "re-apply"),
    ("authorized_key", edit(("ssh_keys", "/home/alice", "file", "mode"), "644"), "with mode 644, not alice's 600",
     "chmod 700 the folder, 600 the file"),
    ("authorized_key", edit(("ssh_keys", "/home/alice", "dir", "owner"), "root"), "root's with mode 700",
     "chown alice:"),
    ("authorized_key", edit(("ssh_keys", "/home/alice", "file"), None), "no /home/alice/.ssh/authorized_keys",
     "re-apply"),
    ("authorized_key", edit(("ssh_keys", "/home/alice", "file", "link"), True), "is a symbolic link", "re-apply"),
    ("directory", edit(("dir_stats", "/data/shared"), None), "does not exist", "mkdir -p /data/shared"),
    ("directory", edit(("dir_stats", "/data/shared", "mode"), "755"), "alice:gpu mode 755", "chmod 2775"),
    ("directory", edit(("dir_stats", "/data/shared", "group"), "alice"), "alice:alice mode 2775",
     "chown alice:gpu /data/shared"),
    ("directory", edit(("dir_stats", "/data/shared", "link"), True), "is a symbolic link", "move it away"),
    ("mount", edit(("mount_facts", "/data", "mounted"), []), "nothing mounted at /data", "mount /data"),
    ("mount", edit(("mount_facts", "/data", "fstab"), []), "/etc/fstab has 0 entries for /data",
     "come back after a reboot"),
    ("mount", edit(("mount_facts", "/data", "mounted"), [{"source": "/dev/sda1", "fstype": "ext4"}]),
     "/dev/sda1 (ext4) mounted at /data", "mount /data"),
]


@pytest.mark.parametrize("kind,recorded,found,hint", FAILS, ids=[f"{k}-{i}" for i, (k, *_) in enumerate(FAILS)])
def test_failure_names_expected_found_and_hint(kind, recorded, found, hint):
    result = evaluate(CHECKS[kind], recorded)
    assert result.status == FAILED, result
    assert result.expected
    assert found in result.found
    assert hint in result.hint


def test_a_folder_owned_by_an_account_images_lack_is_judged_by_number():
    """In an image the account alice does not exist: the folder shows uid 2001 and no name; that is alice's."""
    image = edit(("dir_stats", "/data/shared", "owner"), None)
    assert evaluate(CHECKS["directory"], image).status == PASSED
    other = edit(("dir_stats", "/data/shared"), dict(image["dir_stats"]["/data/shared"], uid=2002))
    assert evaluate(CHECKS["directory"], other).status == FAILED


def test_what_the_probes_user_cannot_see_is_skipped_with_the_reason():
    """Verified as an unprivileged SSH user: alice's ~/.ssh and the sudo rules are private to root and
    alice; the checks say so (a skip naming what to do), never pass unseen and never fail for it."""
    hidden = edit(("ssh_keys", "/home/alice", "file"), {"error": "[Errno 13] Permission denied"})
    hidden["ssh_keys"]["/home/alice"]["keys"] = None
    result = evaluate(CHECKS["authorized_key"], hidden)
    assert result.status == SKIPPED and "not visible" in result.found and "run verify as root" in result.hint
    unseen = edit(("users", "alice"), dict(GOOD["users"]["alice"], sudo_list=None, sudoers=None))
    result = evaluate(CHECKS["account"], unseen)
    assert result.status == SKIPPED and "sudo rules are not visible" in result.found
    wrong_uid = edit(("users", "alice"), dict(unseen["users"]["alice"], uid=2005))
    assert evaluate(CHECKS["account"], wrong_uid).status == FAILED     # what it can see still fails


def test_a_mount_of_another_device_fails():
    dev = check("mount", "mounts", "x", path="/data", device="UUID=ab-cd", fstype="ext4")
    mounted = {"mount_facts": {"/data": {"device": "/dev/loop5", "fstab_readable": True,
                                         "fstab": [{"spec": "UUID=ab-cd", "fstype": "ext4", "options": "defaults"}],
                                         "mounted": [{"source": "/dev/loop5", "fstype": "ext4", "options": "rw"}]}}}
    assert evaluate(dev, facts(**mounted)).status == PASSED
    mounted["mount_facts"]["/data"]["mounted"][0]["source"] = "/dev/loop6"
    result = evaluate(dev, facts(**mounted))
    assert result.status == FAILED and "not /dev/loop5" in result.found


def test_every_kind_has_a_failure_case():
    assert {k for k, *_ in FAILS} == set(CHECK_KINDS)


def test_cpu_checks_of_a_cpu_build():
    cpu_torch = check("torch_cuda", "pytorch", "cpu torch", python=PY, cuda=None)
    ok = facts(**{TORCH: dict(GOOD[TORCH], cuda=None)})
    assert evaluate(cpu_torch, ok).status == PASSED
    assert evaluate(cpu_torch, GOOD).status == FAILED
    cpu_tf = check("tensorflow_build", "tensorflow", "cpu tf", python=PY, cuda=None, cudnn=None)
    tf_cpu = facts(**{TF: dict(GOOD[TF], build={"cuda_version": None, "cudnn_version": None, "is_cuda_build": "False"})})
    assert evaluate(cpu_tf, tf_cpu).status == PASSED
    assert evaluate(cpu_tf, GOOD).status == FAILED


def test_pip_package_specifiers_are_pep440():
    pre = edit((INTERP, "dists", "numpy", "version"), "2.0.0rc1")
    assert evaluate(CHECKS["pip_package"], pre).status == PASSED
    exact = check("pip_package", "p", "x", python=PY, name="numpy", specifier="==2.3.*", import_name="numpy")
    assert evaluate(exact, GOOD).status == PASSED
    unpinned = check("pip_package", "p", "x", python=PY, name="numpy", specifier="", import_name="numpy")
    assert evaluate(unpinned, GOOD).status == PASSED


def test_sudo_expected_from_group_or_sudoers():
    wants_sudo = check("user", "user", "u", name="dev", uid=1000, gid=1000, home="/home/dev", shell="/bin/bash",
                       sudo=True)
    assert evaluate(wants_sudo, edit(("users", "dev", "groups"), ["dev", "sudo"])).status == PASSED
    assert evaluate(wants_sudo, edit(("users", "dev", "sudoers"), True)).status == PASSED
    no_sudo_binary = edit(("users", "dev", "sudo_bin"), False)
    result = evaluate(wants_sudo, no_sudo_binary)
    assert result.status == FAILED and "usermod -aG sudo dev" in result.hint


GPU_KINDS = sorted(k for k, c in CHECKS.items() if c.tier == "gpu")


@pytest.mark.parametrize("kind", GPU_KINDS)
def test_gpu_tier_skips_with_a_reason_without_a_gpu(kind):
    no_gpu = facts(gpu=CPU_ONLY_GPU)
    result = evaluate(CHECKS[kind], no_gpu)
    assert result.status == SKIPPED
    assert "no GPU visible" in result.found and "--gpus all" in result.hint


@pytest.mark.parametrize("kind", GPU_KINDS)
def test_require_gpu_turns_the_skip_into_a_failure(kind):
    result = evaluate(CHECKS[kind], facts(gpu=CPU_ONLY_GPU), require_gpu=True)
    assert result.status == FAILED
    assert "--require-gpu" in result.expected and "no GPU visible" in result.found


def test_gpu_checks_never_pass_on_cpu_fallback():
    # A GPU is visible but torch only ran on the CPU: the matmul check must fail, not pass.
    cpu_fallback = facts(**{TORCH: dict(GOOD[TORCH], available=False, device_count=0, matmul=[])})
    assert evaluate(CHECKS["torch_matmul"], cpu_fallback).status == FAILED
    assert evaluate(CHECKS["torch_gpu"], cpu_fallback).status == FAILED


def test_cpu_tier_is_unaffected_by_require_gpu():
    assert evaluate(CHECKS["shm"], facts(gpu=CPU_ONLY_GPU), require_gpu=True).status == PASSED


def test_probe_failure_fails_every_check_with_the_reason():
    broken = {"_error": "the probe failed on the target (exit 127): no python3 on the target"}
    result = evaluate(CHECKS["os_release"], broken)
    assert result.status == FAILED and "no python3" in result.found and "python3" in result.hint
    unreachable = evaluate(CHECKS["os_release"], dict(broken, _transport=True))
    assert unreachable.found.startswith("cannot reach the target")


def test_duration_is_the_slowest_section_a_check_reads():
    assert evaluate(CHECKS["pip_package"], GOOD).duration == 0.6
    assert evaluate(CHECKS["torch_matmul"], GOOD).duration == 2.5
    assert evaluate(CHECKS["file"], GOOD).duration == 0.0


def test_jupyter_service_without_root_passes_and_says_the_token_was_not_checked():
    """A probe that cannot read the root-only file (login user, sudo wants a password) still judges the
    unit, the address and the refusal, and says plainly what it left out."""
    recorded = facts(**{SERVICE_KEY: {k: v for k, v in GOOD[SERVICE_KEY].items()
                                      if k not in ("with_token", "token_in_journal", "journal_read")}
                        | {"token_state": "no_root",
                           "token_how": "the probe runs as uid 1001 without password-less sudo"}})
    result = evaluate(CHECKS["jupyter_service"], recorded)
    assert result.status == PASSED, result
    assert "the token was not checked" in result.found and "verify as root" in result.found
    refused = facts(**{SERVICE_KEY: dict(recorded[SERVICE_KEY], no_token=200)})
    assert evaluate(CHECKS["jupyter_service"], refused).status == FAILED


def test_jupyter_service_is_skipped_where_systemd_is_not_pid_1():
    result = evaluate(CHECKS["jupyter_service"], facts(**{SERVICE_KEY: {"pid1": "sshd"}}))
    assert result.status == SKIPPED
    assert "PID 1 is sshd, not systemd" in result.found and "hosts booted with systemd" in result.hint


def test_jupyter_service_accepts_any_address_behind_a_wildcard_ip():
    check_any = check("jupyter_service", "jupyter", "d", unit="toolkit-jupyter.service", user="dev", ip="0.0.0.0",
                      port=8888, env_file="/etc/toolkit/jupyter.env")
    key = SERVICE_KEY.replace('"127.0.0.1"', '"0.0.0.0"')
    recorded = facts(**{key: dict(GOOD[SERVICE_KEY], listening=["0.0.0.0"])})
    assert evaluate(check_any, recorded).status == PASSED
    ipv6 = check("jupyter_service", "jupyter", "d", unit="toolkit-jupyter.service", user="dev", ip="::1",
                 port=8888, env_file="/etc/toolkit/jupyter.env")
    key6 = SERVICE_KEY.replace('"127.0.0.1"', '"::1"')
    assert evaluate(ipv6, facts(**{key6: dict(GOOD[SERVICE_KEY], listening=["::1"])})).status == PASSED
    assert evaluate(ipv6, facts(**{key6: dict(GOOD[SERVICE_KEY], listening=["::1", "::"])})).status == FAILED


# RHEL family (rpm gatherer): facts as `rpm -q --whatprovides` gives them on Rocky 9 (curl-minimal provides curl).
RPM_CURL = check("os_package", "os", "curl installed", ident="os_package:curl", name="curl", family="rhel")


@pytest.mark.parametrize("rpm, status, found, hint", [
    ({"curl": {"package": "curl-minimal", "version": "7.76.1-29.el9_4"}}, PASSED, "curl 7.76.1-29.el9_4 (as curl-minimal)", ""),
    ({"curl": {"package": "curl", "version": "7.76.1-29.el9_4"}}, PASSED, "curl 7.76.1-29.el9_4", ""),
    ({"curl": None}, FAILED, "curl not installed", "dnf install -y --setopt=install_weak_deps=False curl"),
    ({"_error": "rpm not found (not a RHEL-family system)"}, FAILED, "rpm not found", "Rocky Linux/AlmaLinux"),
])
def test_rhel_os_package(rpm, status, found, hint):
    result = evaluate(RPM_CURL, facts(rpm=rpm))
    assert result.status == status and found in result.found and hint in result.hint, result


def test_rhel_os_package_version():
    locked = check("os_package_version", "lock", "curl locked", ident="os_package_version:curl", name="curl",
                   version="7.76.1-29.el9_4", family="rhel")
    good = {"curl": {"package": "curl", "version": "7.76.1-29.el9_4"}}
    assert evaluate(locked, facts(rpm=good)).status == PASSED
    older = evaluate(locked, facts(rpm={"curl": {"package": "curl", "version": "7.76.1-26.el9"}}))
    assert older.status == FAILED and "locked 7.76.1-29.el9_4" in older.found

def test_gpu_exporter_is_skipped_without_a_gpu_and_judged_with_one():
    gpu_check = check("metrics_endpoint", "monitoring", "GPU exporter", ident="metrics_endpoint:gpu", tier="gpu",
                      unit="toolkit-gpu_exporter.service", ip="0.0.0.0", port=9400, metric="toolkit_gpu_up", gpu=True)
    key = 'metrics_endpoint:["toolkit-gpu_exporter.service", "0.0.0.0", 9400, "toolkit_gpu_up"]'
    answering = {"active": "active", "enabled": "enabled", "has_metric": True, "pid1": "systemd", "samples": 14,
                 "status": 200}
    no_gpu = evaluate(gpu_check, facts(gpu=CPU_ONLY_GPU, **{key: answering}))
    assert no_gpu.status == SKIPPED and "no GPU visible" in no_gpu.found
    assert evaluate(gpu_check, facts(**{key: answering})).status == PASSED
    assert evaluate(gpu_check, facts(**{key: dict(answering, active="failed")})).status == FAILED


def test_the_hubs_proxy_on_the_jupyter_port_is_not_judged_as_a_jupyter_server():
    from tests.unit.verify.recorded import CHECKS, GOOD
    from toolkit.verify.eval_frameworks import jupyter
    from toolkit.verify.probe import jupyter_key

    p = dict(CHECKS["jupyter"].p)
    facts = {k: dict(v) if isinstance(v, dict) else v for k, v in GOOD.items()}
    facts[jupyter_key(p)] = {**facts[jupyter_key(p)], "existing": {"api": 200, "contents_no_token": 404}}
    assert not jupyter(p, facts).ok
    got = jupyter({**p, "hub": True}, facts)
    assert got.ok and "JupyterHub's proxy" in got.found
