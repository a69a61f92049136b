"""The Apptainer definition's shell sections run in the real image they bootstrap from: %environment
sourced, then %test, by /bin/sh inside the datascience-cpu image (as `apptainer test` runs them in the
container it built from that image). Every check passes there, and a broken one fails. Apptainer itself is
not in Debian 12: the definition's header and build are still untested on a real Apptainer."""

from __future__ import annotations

import dataclasses

import pytest

from toolkit.model.checks import Check
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import apptainer

from .harness import TEST_LABEL


def section(text: str, name: str) -> str:
    body, inside = [], False
    for line in text.splitlines():
        if line.startswith("%"):
            inside = line.strip() == name
        elif inside and line:
            body.append(line[len(apptainer.INDENT):])
    return "\n".join(body) + "\n"


def run_sections(client, image: str, plan) -> tuple[int, str]:
    text = apptainer.definition(plan, image=image)
    script = section(text, "%environment") + section(text, "%test")
    container = client.containers.run(image, ["/bin/sh", "-c", script], detach=True, labels={TEST_LABEL: "1"})
    try:
        code = container.wait(timeout=300)["StatusCode"]
        return code, container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


@pytest.mark.docker
def test_environment_and_test_sections_pass_in_the_image(docker_engine, datascience_image):
    plan = build_plan(load_profile("datascience-cpu"))
    code, output = run_sections(docker_engine, datascience_image, plan)
    lines = output.splitlines()
    assert code == 0, output
    assert lines and all(line.startswith("ok    ") for line in lines), output
    assert any("jupyterlab" in line for line in lines) and any("pip check" in line for line in lines)


@pytest.mark.docker
def test_a_failing_check_fails_the_test_section(docker_engine, datascience_image):
    plan = build_plan(load_profile("datascience-cpu"))
    broken = Check("command:broken", "command", "checks", "numpy is 0.0", params=(
        ("argv", ("/opt/venv/bin/python", "-c", "import numpy; print(numpy.__version__)")), ("expect", "0.0.0-no")))
    code, output = run_sections(docker_engine, datascience_image, dataclasses.replace(plan, checks=(*plan.checks, broken)))
    assert code == 1 and "FAIL  numpy is 0.0" in output, output
