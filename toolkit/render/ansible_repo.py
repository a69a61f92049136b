"""Ansible tasks of a package repository signed by a pinned key (PackageRepository), standalone or inside
the GPU host steps (which pass their own `when` conditions): skipped where the host already has the
repository; otherwise the key is downloaded into a cache, checked against the fingerprint (the same
key_is as setup.sh) and only then installed where the package manager reads it, then the source entry
is written and the lists refreshed. Module names and arguments come from the OS family."""

from __future__ import annotations

from pathlib import PurePosixPath

from toolkit.model import host_probes, osfamily
from toolkit.model.steps import PackageRepository, Step, repo_present
from toolkit.render import ansible_tasks as A

KEY_CACHE = "/var/cache/toolkit"


def read_only(name: str, argv: list[str], register: str) -> dict:
    return {"name": name, "ansible.builtin.command": {"argv": argv}, "register": register,
            "changed_when": False, "check_mode": False}


def when(task: dict, *conditions: str) -> dict:
    before = task.get("when")
    return {**task, "when": [*conditions, *([before] if isinstance(before, str) else before or [])]}


def refresh(family: osfamily.OsFamily, step: Step, *conditions: str) -> dict:
    """Refresh the package lists right after a repository was added (the install tasks' cache may look fresh)."""
    return when({"name": A.step_name(step, f"refresh {family.package_manager} lists"),
                 family.ansible_package_module: dict(family.ansible_refresh_now)},
                *conditions, A.package_guard(family))


def repository_tasks(repo: PackageRepository, step: Step, reg: str, *conditions: str) -> list[dict]:
    """`step` names the tasks; `conditions` gate all of them (the GPU steps' "install" decision)."""
    family = osfamily.get(repo.family)
    go = list(conditions)
    own = f"{reg}_present.rc != 0"
    cached = f"{KEY_CACHE}/{PurePosixPath(repo.signed_by).name}"
    present = ["sh", "-c", repo_present(repo.family) + 'repo_present "$@"', "repo", repo.url, repo.source_path,
               *repo.keyring_packages]
    check = ["sh", "-c", host_probes.KEY_CHECK + 'key_is "$1" "$2"', "key", cached, repo.key_fingerprint]
    return [
        when({**read_only(A.step_name(step, "is the repository already set up"), present, f"{reg}_present"),
              "failed_when": False}, *go),
        when(A.package_task(family, A.step_name(step, "curl and gpg"), family.repo_tools), *go, own),
        when({"name": A.step_name(step, f"folder {KEY_CACHE}"),
              "ansible.builtin.file": {"path": KEY_CACHE, "state": "directory", "mode": "0755"}}, *go, own),
        when({"name": A.step_name(step, "download the signing key"),
              "ansible.builtin.get_url": {"url": repo.key_url, "dest": cached, "mode": "0644"}}, *go, own),
        when({**read_only(A.step_name(step, f"the signing key is {repo.key_fingerprint}"), check, f"{reg}_key")},
             *go, own, "not ansible_check_mode"),
        when({"name": A.step_name(step, repo.signed_by),
              "ansible.builtin.copy": {"src": cached, "dest": repo.signed_by, "remote_src": True, "mode": "0644"}},
             *go, own, "not ansible_check_mode"),
        when({**A.copy_tasks(A.step_name(step, repo.source_path), repo.source_path, repo.source_line())[-1],
              "register": f"{reg}_list"}, *go, own),
        *([when({"name": A.step_name(step, f"import {repo.signed_by} (fingerprint checked again)"),
                 family.ansible_key_module: {"key": repo.signed_by, "fingerprint": repo.key_fingerprint,
                                             "state": "present"}}, *go, own, "not ansible_check_mode")]
          if family.ansible_key_module else []),
        refresh(family, step, *go, f"{reg}_list is changed"),
    ]
