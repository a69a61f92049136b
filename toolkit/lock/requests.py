"""What a plan asks the resolvers for, and the summary of it a lock records (stale.py compares them)."""

from __future__ import annotations

from toolkit.lock.model import AptRequest, PipRequest, step_key
from toolkit.model import osfamily
from toolkit.model.plan import Plan
from toolkit.model.steps import CopyTree, OsPackages, PipInstall

# Not a plan step: what the Ansible engine's modules import on the target (python3-apt, python3-packaging).
# Locked after every step (so only what the plan does not pull in already lands here), carried by bundles (the
# bundle's playbook installs them from its own repository); no setup.sh installs them and verify --locked does
# not check them (no plan step names this key).
ENGINE_STEP = "ansible engine: what its modules import on the target"


def engine_packages(plan: Plan) -> tuple[str, ...]:
    family = osfamily.for_distro(plan.target.distro)
    return (*family.ansible_module_packages, *family.pip_module_packages)


def apt_requests(plan: Plan) -> tuple[AptRequest, ...]:
    """The plan's OsPackages steps in order, then the Ansible engine's prerequisites (ENGINE_STEP)."""
    steps = tuple(AptRequest(step_key(s), tuple(s.packages)) for s in plan.steps if isinstance(s, OsPackages))
    return (*steps, AptRequest(ENGINE_STEP, engine_packages(plan)))


def pip_requests(plan: Plan) -> tuple[PipRequest, ...]:
    """The PipInstall steps in install order; a wheelhouse is named by its folder on this machine."""
    trees = {s.dest: s.source for s in plan.steps if isinstance(s, CopyTree)}
    return tuple(
        PipRequest(step_key(s), tuple(s.requirements), s.index_url, tuple(s.extra_index_urls),
                   trees.get(s.find_links, s.find_links) if s.find_links else None, s.no_index, venv=s.venv)
        for s in plan.steps if isinstance(s, PipInstall))


def summary(plan: Plan) -> tuple[tuple[str, str], ...]:
    """What the lock is made from, by name: the base image, the OS and Python, each step's request.

    Index URLs are named without credentials (they would otherwise land in a committed file)."""
    from toolkit import redact

    t = plan.target
    out = [("base_image", t.base_image), ("os", f"{t.distro} {t.os_version}"), ("python", t.python_version)]
    for a in apt_requests(plan):
        out.append((f"os packages / {a.step}", " ".join(a.packages)))
    for p in pip_requests(plan):
        text = " ".join(p.requirements)
        opts = ([f"--index-url {redact.url(p.index_url)}"] if p.index_url else []) + \
               [f"--extra-index-url {redact.url(u)}" for u in p.extra_index_urls] + \
               (["--find-links (wheelhouse)"] if p.find_links else []) + (["--no-index"] if p.no_index else [])
        out.append((f"pip / {p.step}", " ".join([text, *opts])))
    return tuple(out)
