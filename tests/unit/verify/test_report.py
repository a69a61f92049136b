"""Reports: JSON and human shapes, JUnit from pytest, and GPU skip vs --require-gpu end to end
(the generated suite run by pytest in this process against `local`: no Docker, SSH or GPU)."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET

import pytest

from toolkit.model.checks import check
from toolkit.verify import report, runner
from toolkit.verify.evaluate import Result

from .test_render import plan

LOCAL_CHECKS = (
    check("file", "t", "passwd exists", ident="file:/etc/passwd", path="/etc/passwd"),
    check("file", "t", "a missing file", ident="file:/nonexistent/x", path="/nonexistent/x"),
    check("command", "t", "python prints", ident="command:py", argv=(sys.executable, "-c", "print(42)"), expect="42"),
    check("gpu_inventory", "gpu", "nvidia-smi lists the GPUs", tier="gpu"),
)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    junit = tmp_path_factory.mktemp("junit") / "report.xml"
    run = runner.run(plan("local-demo", LOCAL_CHECKS), "local://", junit=str(junit))
    return run, junit


def no_gpu_here():
    import os
    import shutil
    return not (os.path.exists("/dev/nvidia0") or shutil.which("nvidia-smi"))


def test_run_has_one_result_per_check(local_run):
    run, _ = local_run
    status = {r.id: r.status for r in run.results}
    assert status["file:/etc/passwd"] == "passed"
    assert status["file:/nonexistent/x"] == "failed"
    assert status["command:py"] == "passed"
    if no_gpu_here():
        assert status["gpu_inventory"] == "skipped"
    assert run.exit_code == pytest.ExitCode.TESTS_FAILED


def test_require_gpu_turns_the_skip_into_a_failure():
    if not no_gpu_here():
        pytest.skip("a GPU is visible here")
    only_gpu = plan("gpu-demo", LOCAL_CHECKS[3:])
    assert [r.status for r in runner.run(only_gpu, "local://").results] == ["skipped"]
    strict = runner.run(only_gpu, "local://", require_gpu=True).results
    assert [r.status for r in strict] == ["failed"] and "--require-gpu" in strict[0].expected


def test_keyword_selects_checks():
    run = runner.run(plan("k-demo", LOCAL_CHECKS), "local://", keyword="passwd or command")
    assert sorted(r.id for r in run.results) == ["command:py", "file:/etc/passwd"]


def test_junit_lists_every_check_with_its_result(local_run):
    run, junit = local_run
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("name") == "toolkit-local-demo"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert len(cases) == len(LOCAL_CHECKS)
    missing = next(c for n, c in cases.items() if "file:/nonexistent/x" in n)
    assert missing.find("failure") is not None
    props = {p.get("name"): p.get("value") for p in missing.iter("property")}
    result = json.loads(props["toolkit.result"])
    assert result["status"] == "failed" and "is missing" in result["found"] and result["hint"]


def test_json_report_shape(local_run):
    run, _ = local_run
    doc = json.loads(report.as_json(run, "local-demo", "local"))
    assert doc["profile"] == "local-demo" and doc["ok"] is False
    assert sum(doc["counts"].values()) == len(LOCAL_CHECKS)
    for entry in doc["checks"]:
        assert {"id", "kind", "tier", "status", "duration", "expected", "found", "hint"} <= set(entry)
        assert entry["status"] in ("passed", "failed", "skipped")
        assert isinstance(entry["duration"], float)
    assert {e["tier"] for e in doc["checks"]} == {"cpu", "gpu"}


def test_human_report_lines():
    run = runner.Run(results=[
        Result("os_release", "os_release", "cpu", "passed", "debian 12", "debian 12", duration=0.01, description="OS"),
        Result("shm", "shm", "cpu", "failed", "/dev/shm >= 512 MB", "/dev/shm is 64 MB", "--shm-size=1g", 0.0, "shm"),
        Result("torch_gpu", "torch_gpu", "gpu", "skipped", "a GPU", "no GPU visible", "hint", 0.0, "torch"),
    ], seconds=1.5)
    lines = report.human(run, "image x")
    assert lines[0].startswith("PASS  os_release")
    assert any(line.startswith("FAIL  shm") for line in lines)
    assert "      expected: /dev/shm >= 512 MB" in lines
    assert "      found:    /dev/shm is 64 MB" in lines
    assert "      hint:     --shm-size=1g" in lines
    assert "      skipped:  no GPU visible" in lines
    assert lines[-1] == "image x: 1 passed, 1 failed, 1 skipped in 1.50s"
