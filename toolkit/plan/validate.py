"""Rules about a whole plan that no single component can see: checked after every component spoke."""

from __future__ import annotations

from toolkit.errors import Problem, ProfileError
from toolkit.model.plan import Plan
from toolkit.model.steps import Service
from toolkit.profile.loader import LoadedProfile


def one_service(plan: Plan, loaded: LoadedProfile) -> list[Problem]:
    """An image has one CMD: a second in-image service would silently replace the first (and the first
    one's HEALTHCHECK would then probe a process that never starts). Refuse a plan with two. Host-only
    services (in_image false: a systemd unit each) do not count."""
    services = [s for s in plan.steps if isinstance(s, Service) and s.in_image]
    if len(services) < 2:
        return []
    named = " and ".join(f"{s.name or s.title!r} (from {s.component})" for s in services)
    return [loaded.problem(services[1].component,
                           f"{len(services)} services would each own the image's CMD: {named}; "
                           "an image starts one process",
                           "keep one service in the profile (disable the others, e.g. jupyter.enabled: false) "
                           "and start the rest from your own entry point")]


RULES = (one_service,)


def validate(plan: Plan, loaded: LoadedProfile) -> Plan:
    """The plan, or ProfileError (exit 2) with every rule's problems."""
    problems = [p for rule in RULES for p in rule(plan, loaded)]
    if problems:
        raise ProfileError(problems)
    return plan
