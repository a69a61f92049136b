"""Goldens of the RHEL family (osfamily.DNF) in the host formats: one OsPackages step, one pinned-key
repository and the setup.sh frame (its dnf_install / dnf_hold library), on a Rocky Linux 9 target."""

from __future__ import annotations

import dataclasses

from toolkit.model.osfamily import DNF
from toolkit.model.steps import OsPackages, PackageRepository
from toolkit.render import ansible, script

from . import check_golden, plan_of, target

ROCKY = target(distro="rocky", os_version="9", base_image="rockylinux/rockylinux:9")
PACKAGES = OsPackages("os", "OS packages", packages=("ca-certificates", "python3", "curl-7.76.1"), family=DNF.name)
REPO = PackageRepository("driver", "NVIDIA container toolkit repository", name="nvidia-container-toolkit",
                         url="https://nvidia.github.io/libnvidia-container/stable/rpm/", arch_in_url=True,
                         key_url="https://nvidia.github.io/libnvidia-container/gpgkey",
                         key_fingerprint="C95B321B61E88C1809C4F759DDCAE044F796ECB0",
                         signed_by=DNF.keyring("nvidia-container-toolkit"), family=DNF.name)


def rocky(*steps):
    return dataclasses.replace(plan_of(*steps), target=ROCKY)


def test_golden_setup_sh():
    check_golden("script/dnf.sh", script.render_step(PACKAGES, 1, rocky(PACKAGES)))
    check_golden("script/dnf-repository.sh", script.render_step(REPO, 1, rocky(REPO)))
    check_golden("script/dnf-frame.sh", script.render(rocky(REPO)).files["setup.sh"])


def test_golden_ansible():
    check_golden("ansible/dnf.yml", ansible.dump(ansible.render_tasks(PACKAGES, 1, rocky(PACKAGES))))
    check_golden("ansible/dnf-repository.yml", ansible.dump(ansible.render_tasks(REPO, 1, rocky(REPO))))
