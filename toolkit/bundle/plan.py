"""A locked plan -> the plan a bundle installs: the same steps, taking packages from the bundle only.

- a first build-only Environment step: APT_CONFIG names the bundle's apt configuration (its repository
  alone, see install.py) and pip never looks for an index or a newer pip;
- every PipInstall step installs its hashed requirements file from the bundle's wheelhouse
  (`--no-index --find-links`), no index named.

Steps a bundle cannot carry are refused, each named with why (host-only NVIDIA steps: their archive is
not reachable where bundles are made here, and nothing is faked in their place).
"""

from __future__ import annotations

import dataclasses

from toolkit.bundle import layout
from toolkit.model.plan import Plan
from toolkit.model.steps import (
    ContainerToolkit,
    CopyTree,
    Environment,
    NvidiaDriver,
    PackageRepository,
    PipInstall,
    Step,
)

ENVIRONMENT = (("APT_CONFIG", layout.APT_CONF), ("PIP_NO_INDEX", "1"), ("PIP_DISABLE_PIP_VERSION_CHECK", "1"))
WHY = {
    NvidiaDriver: "the NVIDIA driver comes from NVIDIA's apt repository, which no lock pins and this bundle "
                  "cannot collect",
    ContainerToolkit: "the NVIDIA container toolkit comes from NVIDIA's repository, which no lock pins and this "
                      "bundle cannot collect",
    PackageRepository: "packages of a third-party repository are not pinned by the lock and cannot be collected",
    CopyTree: "a folder copied from this machine (a wheelhouse) is not carried by bundles yet",
}


class BundleError(ValueError):
    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint


# What to change in the profile per step type (the repositories come with the driver and container toolkit steps)
FIX = {
    NvidiaDriver: "gpu.driver.install: never",
    ContainerToolkit: "gpu.container_toolkit: false",
    CopyTree: "no python.wheelhouse (the bundle carries the locked wheels itself)",
}


def unsupported(plan: Plan) -> list[str]:
    """'component: title (why)' for each step a bundle cannot carry."""
    return [f"{s.component}: {s.title} ({WHY[t]})" for s in plan.steps for t in WHY if isinstance(s, t)]


def refusal_hint(plan: Plan) -> str:
    """Exactly what to do about the steps `unsupported` names: the profile fields to set, and for the NVIDIA
    driver and container toolkit, how the hosts get them instead."""
    fields = sorted({FIX[t] for s in plan.steps for t in FIX if isinstance(s, t)})
    nvidia = [what for t, what in ((NvidiaDriver, "the NVIDIA driver"), (ContainerToolkit, "the container toolkit"))
              if any(isinstance(s, t) for s in plan.steps)]
    text = (f"bundle a profile that extends {plan.name} and sets {' and '.join(fields)} (toolkit lock it, then "
            "toolkit bundle it)" if fields else "bundle a profile without them, or apply it with network access")
    if nvidia:
        text += (f"; install {' and '.join(nvidia)} on the hosts beforehand from NVIDIA's packages for their release, "
                 "carried across by the site's own process, and check them with toolkit doctor --target HOST "
                 "(docs/bundle.md, GPU hosts)")
    return text


def bundle_plan(locked: Plan) -> Plan:
    refused = unsupported(locked)
    if refused:
        raise BundleError("this profile has steps a bundle cannot carry: " + "; ".join(refused), refusal_hint(locked))
    steps: list[Step] = [Environment("bundle", "install from the bundle only (its apt repository and wheelhouse)",
                                     variables=ENVIRONMENT, build_only=True)]
    for step in locked.steps:
        if isinstance(step, PipInstall):
            if not step.requirement_file:
                raise BundleError(f"{step.component}: {step.title} is not locked (no hashed requirements file)")
            step = dataclasses.replace(step, index_url=None, extra_index_urls=(), no_index=True,
                                       find_links=layout.at_root(layout.WHEELS))
        steps.append(step)
    return dataclasses.replace(locked, steps=tuple(steps))
