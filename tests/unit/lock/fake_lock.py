"""A lock made from a plan without resolving anything (fast unit tests of the format and the plumbing;
the resolvers themselves are tested against a real index and a real archive)."""

from __future__ import annotations

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from toolkit.lock import requests
from toolkit.lock.model import BaseImage, Interpreter, Lock, OsPackage, PipPackage
from toolkit.model.plan import Plan

DIGEST = "sha256:" + "ab" * 32


def fake_lock(plan: Plan, *, kind: str = "repo-digest") -> Lock:
    apt = [OsPackage(name, "1.0-1", "amd64", a.step) for a in requests.apt_requests(plan) for name in a.packages]
    apt.append(OsPackage("libfoo1", "2.3-4+deb12u1", "amd64", requests.apt_requests(plan)[0].step))
    pip = [PipPackage(str(canonicalize_name(Requirement(r).name)), "1.0", ("sha256:" + "0" * 64,),
                      "https://pypi.org/simple", p.step) for p in requests.pip_requests(plan) for r in p.requirements]
    return Lock(profile=plan.name, profile_digest=plan.digest, toolkit_version="0.1.0", compat_date="2026-11-01",
                inputs=requests.summary(plan), target=(("os", "debian 12 (bookworm)"), ("arch", "amd64")),
                base_image=BaseImage(plan.target.base_image, DIGEST, kind), os_packages=tuple(apt), pip=tuple(pip),
                python=Interpreter("3.11.2", "os package python3.11 3.11.2-6"))
