"""Run the generated testinfra suite with pytest, in this process, and collect the results.

The suite is rendered into a temporary folder (with a pytest.ini so the caller's own pytest
configuration does not leak in; the --require-gpu option comes from the suite plugin), extra user test paths are added beside
it, and ``pytest.main`` runs with ``--hosts=<target>``. A small plugin gathers one result
per test: the toolkit Result a generated test recorded, or a generic one for user tests.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from toolkit.model.checks import HOSTS_ONLY_KINDS
from toolkit.model.plan import Plan
from toolkit.outputs.atomic import write_file
from toolkit.render.testinfra import render, suite_path
from toolkit.verify import suite
from toolkit.verify.evaluate import FAILED, PASSED, SKIPPED, Result
from toolkit.verify.suite import RESULT_PROPERTY

PYTEST_INI = "[pytest]\naddopts =\nmarkers =\n    gpu: needs a visible NVIDIA GPU\n"


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    exit_code: int = 0                 # pytest's
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)   # collection/internal errors, for people

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.status == FAILED]

    def counts(self) -> dict:
        return {s: sum(r.status == s for r in self.results) for s in (PASSED, FAILED, SKIPPED)}


def target_label(address) -> str:
    """What test names say about the target: its kind (and an ssh host's name), never a container id,
    so that CI keeps one history per check across runs."""
    return f"ssh:{address.name}" if address.kind == "ssh" else address.kind


class StableNames:
    """pytest plugin, before JUnit XML and the Collector see a report: the host part of a test id
    (testinfra's, e.g. docker://<container id>) becomes the target label, and tests from --tests
    files (outside the suite's folder: no path in their id) get user.<file> as their class."""

    def __init__(self, host_id: str, label: str, suite: str = "tests/") -> None:
        self.host_id, self.label, self.suite = host_id, label, suite

    def rename(self, nodeid: str, location_path: str) -> str:
        path, sep, rest = nodeid.partition("::")
        rest = rest.replace(f"[{self.host_id}-", f"[{self.label}-").replace(f"[{self.host_id}]", f"[{self.label}]")
        rest = rest.replace(f"-{self.host_id}]", f"-{self.label}]")
        if not path.startswith(self.suite):     # a --tests file: its id has no path, or one relative to its folder
            stem = Path(path or location_path).stem if (path or location_path) else ""
            path = f"user/{stem or 'tests'}.py"
        return f"{path}{sep}{rest}"

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report) -> None:
        report.nodeid = self.rename(report.nodeid, str(report.location[0]) if report.location else "")


class Collector:
    """pytest plugin: one Result per test item (setup errors and user tests included)."""

    def __init__(self) -> None:
        self.by_node: dict[str, Result] = {}
        self.errors: list[str] = []

    def pytest_runtest_logreport(self, report) -> None:
        props = dict(report.user_properties)
        if RESULT_PROPERTY in props:
            self.by_node[report.nodeid] = Result(**json.loads(props[RESULT_PROPERTY]))
            return
        if report.when == "call" or report.outcome != "passed":   # user tests and setup errors
            status = {"passed": PASSED, "skipped": SKIPPED}.get(report.outcome, FAILED)
            self.by_node[report.nodeid] = Result(
                id=report.nodeid, kind="pytest", tier="cpu", status=status,
                found=_longrepr(report) if status != PASSED else "", duration=round(report.duration, 3),
                description=report.head_line or report.nodeid)

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.errors.append(f"collecting {report.nodeid or 'tests'}: {_longrepr(report)}")


def _longrepr(report) -> str:
    if isinstance(report.longrepr, tuple):      # skip: (path, line, reason)
        return str(report.longrepr[2])
    text = str(report.longrepr or "").strip()
    return text[-1500:]


def run(plan: Plan, hostspec: str, *, keyword: str | None = None, junit: str | None = None,
        require_gpu: bool = False, extra_tests: tuple[str, ...] = (), pytest_args: tuple[str, ...] = (),
        junit_force: bool = False, target_label: str | None = None) -> Run:
    """Run the plan's suite against hostspec. The JUnit report is written by pytest into the run's
    own folder, then put at `junit` whole (toolkit.outputs: a file toolkit did not write is kept
    unless junit_force). On a container or image (docker://) the checks of what images leave out (accounts,
    mounts: HOSTS_ONLY_KINDS) are not run."""
    plan = for_target(plan, hostspec)
    with tempfile.TemporaryDirectory(prefix="toolkit-verify-") as tmp:
        root = Path(tmp)
        rendered = render(plan)
        rendered.files.pop("tests/conftest.py")     # its hooks come from the suite plugin below
        rendered.write(root)
        (root / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
        args = [str(root / suite_path(plan)), *[str(Path(p).resolve()) for p in extra_tests],
                f"--hosts={hostspec}", "-c", str(root / "pytest.ini"), "--rootdir", str(root),
                "-p", "no:cacheprovider", "-p", "no:terminal", "--import-mode=importlib"]
        if keyword:
            args += ["-k", keyword]
        if junit:
            args += [f"--junit-xml={root / 'junit.xml'}", "-o", f"junit_suite_name=toolkit-{plan.name}"]
        if require_gpu:
            args.append("--require-gpu")
        args += list(pytest_args)
        collector = Collector()
        plugins: list = [collector, suite]
        if target_label:
            plugins.insert(0, StableNames(_host_id(hostspec), target_label, suite_path(plan)))
        started = time.perf_counter()
        try:
            code = pytest.main(args, plugins=plugins)
        finally:
            _forget_modules(root)
        seconds = time.perf_counter() - started
        if junit and (root / "junit.xml").is_file():
            write_file(junit, (root / "junit.xml").read_bytes(), force=junit_force, option="--junit")
    return Run(results=list(collector.by_node.values()), exit_code=int(code), seconds=round(seconds, 3),
               errors=collector.errors)


def for_target(plan: Plan, hostspec: str) -> Plan:
    """The plan whose checks apply to this target: on docker:// no host-only kinds, and no check marked
    hosts_only (a run step as an account only hosts have)."""
    if not hostspec.startswith(("docker://", "podman://")):
        return plan
    return dataclasses.replace(plan, checks=tuple(c for c in plan.checks if c.kind not in HOSTS_ONLY_KINDS
                                                  and not c.p.get("hosts_only")))


def _host_id(hostspec: str) -> str:
    """The id testinfra gives this host in test names (pytest --hosts)."""
    import testinfra

    return testinfra.get_host(hostspec).backend.get_pytest_id()


def _forget_modules(root: Path) -> None:
    """pytest's importlib mode reuses a module of the same name from sys.modules: a later run in
    this process (another plan, same profile name) must import its own suite, not this one."""
    prefix = str(root)
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(prefix):
            del sys.modules[name]
