"""Hostile values in the OS-family seam: a repository step's every field stays one inert word in each
format (Ansible: tests/unit/render_hosts hostile_plan has the case); an unknown family or distro is refused, never rendered as text."""

from __future__ import annotations

import dataclasses
import json
import shlex

import pytest

from tests.unit.render_hosts import HOSTILE, plan_of
from toolkit.model.steps import OsPackages, PackageRepository, TrustCA
from toolkit.render import ansible, dockerfile, script

REPO = PackageRepository("monitoring", "repo", name=HOSTILE, url=HOSTILE, suite=HOSTILE, components=(HOSTILE,),
                         key_url=HOSTILE, key_fingerprint=HOSTILE, signed_by=HOSTILE, keyring_packages=(HOSTILE,))


def test_repository_fields_stay_inert_in_setup_sh():
    text = script.render_step(REPO, 1, plan_of(REPO))
    call = next(line for line in text.split("s1_apply() {\n", 1)[1].split("\n}\n", 1)[0:1])
    words = shlex.split(call)
    assert words[0] == "pinned_repo" and words[1] == HOSTILE and words[-1] == HOSTILE
    assert len(words) == 8


def test_repository_fields_stay_inert_in_the_dockerfile():
    text = dockerfile.render(plan_of(REPO)).files["Dockerfile"]
    run = next(line for line in text.splitlines() if line.startswith('RUN ["sh"'))
    argv = json.loads(run[len("RUN "):])
    assert argv[4:7] == [HOSTILE, HOSTILE, HOSTILE] and argv[8] == REPO.source_line()


@pytest.mark.parametrize("render", [lambda p: dockerfile.render(p), lambda p: script.render(p),
                                    lambda p: ansible.render(p)])
def test_unknown_family_is_refused(render):
    step = OsPackages("os", "x", packages=("git",), family="nope")
    with pytest.raises(ValueError, match="unknown OS family"):
        render(plan_of(step))
    with pytest.raises(ValueError, match="no OS family knows distro"):
        ca = TrustCA("network", "trust", files=())
        render(dataclasses.replace(plan_of(ca), target=dataclasses.replace(plan_of().target, distro="centos")))


RHEL_REPO = dataclasses.replace(REPO, family="rhel")


def test_rhel_repository_fields_stay_inert():
    plan = dataclasses.replace(plan_of(RHEL_REPO), target=dataclasses.replace(plan_of().target, distro="rocky"))
    text = script.render_step(RHEL_REPO, 1, plan)
    call = next(line for line in text.split("s1_apply() {\n", 1)[1].split("\n}\n", 1)[0:1])
    words = shlex.split(call)
    assert words[0] == "pinned_repo" and words[1] == HOSTILE and words[3] == RHEL_REPO.source_line().rstrip("\n")
    assert words[-1] == HOSTILE and len(words) == 8
    run = next(line for line in dockerfile.render(plan).files["Dockerfile"].splitlines() if line.startswith('RUN ["sh"'))
    assert json.loads(run[len("RUN "):])[8] == RHEL_REPO.source_line()
