"""What a generated testinfra suite calls at run time (see toolkit/render/testinfra.py).

- ``params(CHECKS)``: one pytest param per check (id = check id, GPU tier marked ``gpu``).
- ``facts_for(host, request)``: one probe round trip per host and module for the checks
  pytest actually selected (after ``-k``), cached in the session's stash.
- ``run_check(check, facts, request)``: evaluate, record the result as JUnit properties,
  then pass, ``pytest.skip`` (GPU tier without a GPU) or ``pytest.fail``.
- ``pytest_addoption`` / ``pytest_configure``: the ``--require-gpu`` option and the ``gpu``
  marker, imported by the generated conftest.py. ``TOOLKIT_REQUIRE_GPU=1`` works without it.
"""

from __future__ import annotations

import json
import os

import pytest

from toolkit.model.checks import Check, from_dict
from toolkit.verify import facts as factmod
from toolkit.verify.evaluate import FAILED, SKIPPED, Result, evaluate

RESULT_PROPERTY = "toolkit.result"
_CACHE = pytest.StashKey[dict]()


def pytest_addoption(parser) -> None:
    parser.getgroup("toolkit").addoption(
        "--require-gpu", action="store_true", default=False,
        help="fail GPU-tier checks on a target without a visible GPU instead of skipping them "
             "(also: TOOLKIT_REQUIRE_GPU=1)")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "gpu: needs a visible NVIDIA GPU (skipped without one)")


def pytest_collection_finish(session) -> None:
    """--require-gpu where no selected check is GPU-tier proves nothing about a GPU: refuse it."""
    if not require_gpu(session.config) or not session.items:
        return
    params = [getattr(item, "callspec", None) and item.callspec.params.get("check") for item in session.items]
    checks = [c for c in params if isinstance(c, Check)]
    if checks and not any(c.tier == "gpu" for c in checks):
        raise pytest.UsageError("--require-gpu (or TOOLKIT_REQUIRE_GPU=1): none of the selected checks is GPU-tier, "
                                "so nothing would prove a GPU works; verify a GPU profile, widen -k, or drop it")


def require_gpu(config) -> bool:
    env = os.environ.get("TOOLKIT_REQUIRE_GPU", "").strip().lower() in {"1", "true", "yes"}
    return env or bool(config.getoption("--require-gpu", default=False))


def to_check(data: dict) -> Check:
    """A check embedded in a generated suite, also one an older toolkit generated (apt_package)."""
    return from_dict(data)


def params(checks: list[dict]) -> list:
    return [pytest.param(to_check(c), id=c["id"], marks=[pytest.mark.gpu] if c["tier"] == "gpu" else [])
            for c in checks]


def facts_for(host, request) -> dict:
    """Probe ``host`` once for every selected check of this module; cached per session."""
    prefix = request.node.nodeid + "::"
    selected = {}
    for item in request.session.items:
        check = getattr(item, "callspec", None) and item.callspec.params.get("check")
        if item.nodeid.startswith(prefix) and isinstance(check, Check):
            selected[check.id] = check
    cache = request.config.stash.setdefault(_CACHE, {})
    key = (host.backend.get_pytest_id(), tuple(sorted(selected)))
    if key not in cache:
        cache[key] = factmod.gather(host, list(selected.values()))
    return cache[key]


def run_check(check: Check, facts: dict, request) -> Result:
    result = evaluate(check, facts, require_gpu=require_gpu(request.config))
    request.node.user_properties.append((RESULT_PROPERTY, json.dumps(result.to_dict(), sort_keys=True)))
    if result.status == SKIPPED:
        pytest.skip(f"{result.found}: {result.hint}")
    if result.status == FAILED:
        lines = [f"{check.id}: {check.description}", f"  expected: {result.expected}", f"  found:    {result.found}"]
        if result.hint:
            lines.append(f"  hint:     {result.hint}")
        pytest.fail("\n".join(lines), pytrace=False)
    return result
