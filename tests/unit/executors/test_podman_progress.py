"""The podman build parser on output recorded from Debian 12's podman 4.3.1 (Buildah 1.28)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from toolkit.cli import main
from toolkit.executors import docker_build as db
from toolkit.executors import podman_build
from toolkit.executors.build_progress import BuildLog
from toolkit.executors.podman_progress import PodmanParser

# podman build --format docker --layers (the first RUN from the cache, the second failing)
FAILED = """\
STEP 1/3: FROM local/debian:12
STEP 2/3: RUN echo building && echo two
--> Using cache 232aee922ba4ec0c92b1b18bfeef90ff41dc35af3c2700853dfa37c58884bc56
--> 232aee922ba
STEP 3/3: RUN echo bad >&2 && exit 3
bad
Error: building at STEP "RUN echo bad >&2 && exit 3": while running runtime: exit status 3
"""
# a cold build that succeeds
BUILT = """\
STEP 1/3: FROM local/debian:12
STEP 2/3: RUN echo building && echo two
building
two
--> 232aee922ba
STEP 3/3: COPY --chmod=0644 ["files/profile.json", "/etc/toolkit/profile.json"]
COMMIT tk-k8s-probe:1
--> 19b56fdf014
Successfully tagged localhost/tk-k8s-probe:1
19b56fdf0145c7ace28fefcf476586a388a458ea387eb7c607d73f91047398e5
"""


def parse(text: str) -> tuple[BuildLog, list]:
    log, events = BuildLog(), []
    clock = itertools.count(0.0, 0.5)
    parser = PodmanParser(log, events.append, clock=lambda: next(clock))
    for line in text.splitlines(keepends=True):
        parser.feed(line)
    parser.close()
    return log, events


def test_cold_build_steps_and_output():
    log, events = parse(BUILT)
    assert [(s.number, s.total, s.cached, s.done) for s in log.steps] == [(1, 3, False, True), (2, 3, False, True),
                                                                        (3, 3, False, True)]
    assert list(log.steps[1].output) == ["building", "two"]
    assert log.total == 2 and log.cached == 0 and log.error is None
    assert "Successfully tagged localhost/tk-k8s-probe:1" not in log.tail     # noise stays out
    assert [e.kind for e in events if e.step is log.steps[1]] == ["start", "output", "output", "done"]


def test_cached_step_and_failure_name_the_step():
    log, _ = parse(FAILED)
    assert log.steps[1].cached and not log.steps[1].failed
    failed = log.failed_step
    assert failed is not None and failed.label == "3/3" and list(failed.output) == ["bad"]
    assert "exit status 3" in (log.error or "")
    error = db.failure(db.BuildRequest(context=Path("."), tag="t:1"), log, "Podman")
    assert "building t:1 with Podman failed at step 3/3: RUN echo bad >&2 && exit 3" in error.render()
    assert "| bad" in error.render()


def test_build_without_podman_says_how_to_get_it(monkeypatch, capsys):
    """`build --engine podman` where podman is not installed: exit 1 with the install hint, nothing built."""
    monkeypatch.setattr(podman_build.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit) as exc:
        main(["build", "datascience-cpu", "--engine", "podman", "-t", "toolkit-test/none:1"])
    err = capsys.readouterr().err
    assert exc.value.code == 1, err
    assert "podman not found on PATH" in err and "apt-get install podman" in err and "Traceback" not in err


def test_no_buildkit_is_refused_with_podman(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["build", "datascience-cpu", "--engine", "podman", "--no-buildkit", "-t", "toolkit-test/none:1"])
    assert exc.value.code == 2 and "not with --engine podman" in capsys.readouterr().err
