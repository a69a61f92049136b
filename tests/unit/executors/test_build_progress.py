"""The build progress parsers on outputs recorded from a real engine (Docker 20.10)."""

from __future__ import annotations

import itertools

from toolkit.executors import docker_build as db
from toolkit.executors.build_progress import BuildKitParser, BuildLog, LegacyParser

# DOCKER_BUILDKIT=1 docker build --progress=plain (first build, nothing cached)
BUILDKIT_COLD = """\
#1 [internal] load build definition from Dockerfile
#1 sha256:f92d9ec0f32e6560afc65f2d0281093078ef547b35133ff555092685fa347472
#1 transferring dockerfile: 171B done
#1 DONE 0.0s

#3 [internal] load metadata for docker.io/local/debian:12
#3 DONE 0.0s

#4 [1/4] FROM docker.io/local/debian:12
#4 sha256:ecc89c1dcb30d9d9a13c9a3318b0c012004dc46f0e6d86271684ca19826add4e
#4 DONE 0.0s

#5 [internal] load build context
#5 transferring context: 39B done
#5 DONE 0.0s

#6 [2/4] COPY hello.txt /hello.txt
#6 sha256:310c0906bdc3c2d1cf0800cb1323cd141cc02b294935d517eed3b36c41d9932f
#6 DONE 0.0s

#7 [3/4] RUN echo building && sleep 1 && echo two
#7 sha256:fb58447b0fccea105b9ddf3834abc6f3e12ff10b6083c536d1be278de7d54ee1
#7 0.102 building
#7 1.103 two
#7 DONE 1.1s

#8 [4/4] RUN echo second
#8 0.323 second
#8 DONE 0.3s

#9 exporting to image
#9 exporting layers done
#9 writing image sha256:e034f314f6cd91690dc01576a2629e69c3dbb62eccd5e3f4e8d69e3fb37ab75b done
#9 naming to docker.io/library/rec:1 done
#9 DONE 0.0s
"""

# the same build again after changing the last RUN
BUILDKIT_PARTLY_CACHED = """\
#4 [1/4] FROM docker.io/local/debian:12
#4 DONE 0.0s

#6 [2/4] COPY hello.txt /hello.txt
#6 sha256:13fb0485aab630f786a5eae63b4aa2d0e5ac8f76f6979415d72417c163294b72
#6 CACHED

#7 [3/4] RUN echo building && sleep 1 && echo two
#7 CACHED

#8 [4/4] RUN echo third
#8 0.301 third
#8 DONE 0.3s
"""

BUILDKIT_FAILED = """\
#4 [1/4] FROM docker.io/local/debian:12
#4 DONE 0.0s

#6 [2/4] COPY hello.txt /hello.txt
#6 CACHED

#7 [3/4] RUN echo building && sleep 1 && echo two
#7 CACHED

#8 [4/4] RUN echo second && ls /nonexistent
#8 sha256:e93e0ffa487e45b88a18e0869f824b01b3786a514b0c6cdd6ea5a1646a1d20d2
#8 0.101 second
#8 0.102 ls: cannot access '/nonexistent': No such file or directory
#8 ERROR: executor failed running [/bin/sh -c echo second && ls /nonexistent]: exit code: 2
------
 > [4/4] RUN echo second && ls /nonexistent:
------
executor failed running [/bin/sh -c echo second && ls /nonexistent]: exit code: 2
"""

# a Dockerfile the frontend refuses: no step ever starts
BUILDKIT_FRONTEND_ERROR = """\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
failed to solve with frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error line 3: unknown instruction: RUNN
"""

# docker SDK APIClient.build(decode=True): first build, a rebuild, a failure
LEGACY_COLD = [
    {"stream": "Step 1/4 : FROM local/debian:12"}, {"stream": "\n"}, {"stream": " ---> 5113c4e40253\n"},
    {"stream": "Step 2/4 : ENV A=1"}, {"stream": "\n"}, {"stream": " ---> Running in b2d123c42e71\n"},
    {"stream": "Removing intermediate container b2d123c42e71\n"}, {"stream": " ---> 93468053bc25\n"},
    {"stream": "Step 3/4 : RUN echo building && sleep 1 && echo two"}, {"stream": "\n"},
    {"stream": " ---> Running in ef23062743ff\n"}, {"stream": "building\n"}, {"stream": "two\n"},
    {"stream": "Removing intermediate container ef23062743ff\n"}, {"stream": " ---> f631e648a93e\n"},
    {"stream": "Step 4/4 : USER 1000"}, {"stream": "\n"}, {"stream": " ---> Running in 1cca8cb05ae8\n"},
    {"stream": "Removing intermediate container 1cca8cb05ae8\n"}, {"stream": " ---> b3af3868b88b\n"},
    {"aux": {"ID": "sha256:b3af3868b88bb0df3a8215a2256559c7421a456b56b1f67d9dd02d50b89d3d62"}},
    {"stream": "Successfully built b3af3868b88b\n"}, {"stream": "Successfully tagged recl:1\n"},
]

LEGACY_CACHED = [
    {"stream": "Step 1/3 : FROM local/debian:12"}, {"stream": "\n"}, {"stream": " ---> 5113c4e40253\n"},
    {"stream": "Step 2/3 : ENV A=1"}, {"stream": "\n"}, {"stream": " ---> Using cache\n"},
    {"stream": " ---> 93468053bc25\n"},
    {"stream": "Step 3/3 : RUN echo building && sleep 1 && echo two"}, {"stream": "\n"},
    {"stream": " ---> Using cache\n"}, {"stream": " ---> f631e648a93e\n"},
    {"aux": {"ID": "sha256:f631e648a93e0df3a8215a2256559c7421a456b56b1f67d9dd02d50b89d3d62"}},
    {"stream": "Successfully built f631e648a93e\n"},
]

LEGACY_FAILED = [
    {"stream": "Step 1/3 : FROM local/debian:12"}, {"stream": "\n"}, {"stream": " ---> 5113c4e40253\n"},
    {"stream": "Step 2/3 : ENV A=1"}, {"stream": "\n"}, {"stream": " ---> Using cache\n"},
    {"stream": " ---> 93468053bc25\n"},
    {"stream": "Step 3/3 : RUN echo second && ls /nonexistent"}, {"stream": "\n"},
    {"stream": " ---> Running in 39593dd127d0\n"}, {"stream": "second\n"},
    {"stream": "\u001b[91mls: cannot access '/nonexistent': No such file or directory\n\u001b[0m"},
    {"errorDetail": {"code": 2, "message": "The command '/bin/sh -c echo second && ls /nonexistent' returned a "
                                           "non-zero code: 2"},
     "error": "The command '/bin/sh -c echo second && ls /nonexistent' returned a non-zero code: 2"},
]


def ticking_clock():
    counter = itertools.count()
    return lambda: float(next(counter))


def parse_buildkit(text: str):
    log, events = BuildLog(), []
    parser = BuildKitParser(log, events.append, clock=ticking_clock())
    for line in text.splitlines(keepends=True):
        parser.feed(line)
    return log, events


def parse_legacy(chunks: list[dict], close: bool = True):
    log, events = BuildLog(), []
    parser = LegacyParser(log, events.append, clock=ticking_clock())
    for chunk in chunks:
        parser.feed(chunk)
    if close:
        parser.close()
    return log, events


def test_buildkit_steps_instructions_and_times():
    log, events = parse_buildkit(BUILDKIT_COLD)
    assert [(s.label, s.instruction) for s in log.steps] == [
        ("1/4", "FROM docker.io/local/debian:12"), ("2/4", "COPY hello.txt /hello.txt"),
        ("3/4", "RUN echo building && sleep 1 && echo two"), ("4/4", "RUN echo second")]
    assert [s.elapsed for s in log.steps] == [0.0, 0.0, 1.1, 0.3]
    assert all(s.done and not s.cached and not s.failed for s in log.steps)
    assert list(log.steps[2].output) == ["building", "two"]
    assert (log.cached, log.total) == (0, 3)          # FROM is not counted
    assert [e.kind for e in events if e.step is log.steps[2]] == ["start", "output", "output", "done"]
    assert log.error is None and log.failed_step is None


def test_buildkit_cached_steps_are_counted():
    log, events = parse_buildkit(BUILDKIT_PARTLY_CACHED)
    assert [s.cached for s in log.steps] == [False, True, True, False]
    assert (log.cached, log.total) == (2, 3)
    assert [e.kind for e in events].count("cached") == 2


def test_buildkit_failure_names_the_step_and_keeps_its_output():
    log, events = parse_buildkit(BUILDKIT_FAILED)
    step = log.failed_step
    assert step is not None and step.label == "4/4"
    assert step.instruction == "RUN echo second && ls /nonexistent"
    assert log.error == "executor failed running [/bin/sh -c echo second && ls /nonexistent]: exit code: 2"
    assert log.failure_lines() == [
        "second", "ls: cannot access '/nonexistent': No such file or directory", log.error]
    assert [e.kind for e in events].count("error") == 1


def test_buildkit_frontend_error_has_no_step():
    log, events = parse_buildkit(BUILDKIT_FRONTEND_ERROR)
    assert log.steps == [] and log.failed_step is None
    assert "unknown instruction: RUNN" in log.error
    assert events[-1].kind == "error" and events[-1].step is None
    assert log.failure_lines()[-1] == log.error


def test_buildkit_stages_and_padded_numbers():
    log, _ = parse_buildkit("#9 [builder 2/5] RUN make\n#9 CACHED\n"
                            "#4 [stage-0  1/13] FROM docker.io/local/debian:12\n"
                            "#14 [stage-0 10/13] RUN --mount=type=cache,target=/root/.cache/pip     pip install six\n")
    assert [(s.stage, s.label) for s in log.steps] == [("builder", "builder 2/5"), ("stage-0", "1/13"),
                                                        ("stage-0", "10/13")]
    assert log.steps[2].instruction.endswith("pip install six")


def test_legacy_steps_split_chunks_and_image_id():
    log, events = parse_legacy(LEGACY_COLD)
    assert [(s.label, s.instruction) for s in log.steps] == [
        ("1/4", "FROM local/debian:12"), ("2/4", "ENV A=1"),
        ("3/4", "RUN echo building && sleep 1 && echo two"), ("4/4", "USER 1000")]
    assert list(log.steps[2].output) == ["building", "two"]       # container ids and ---> lines dropped
    assert all(s.done and not s.cached for s in log.steps)
    assert log.image_id == "sha256:b3af3868b88bb0df3a8215a2256559c7421a456b56b1f67d9dd02d50b89d3d62"
    assert (log.cached, log.total) == (0, 3)
    assert log.steps[2].elapsed > 0


def test_legacy_using_cache():
    log, events = parse_legacy(LEGACY_CACHED)
    assert [s.cached for s in log.steps] == [False, True, True]
    assert (log.cached, log.total) == (2, 2)
    assert [e.kind for e in events].count("cached") == 2


def test_legacy_failure_strips_colour_and_names_the_step():
    log, events = parse_legacy(LEGACY_FAILED, close=False)
    step = log.failed_step
    assert step is not None and step.label == "3/3" and step.instruction.startswith("RUN echo second")
    assert log.failure_lines() == [
        "second", "ls: cannot access '/nonexistent': No such file or directory",
        "The command '/bin/sh -c echo second && ls /nonexistent' returned a non-zero code: 2"]
    assert events[-1].kind == "error" and events[-1].step is step


def test_failure_message_names_step_without_traceback(tmp_path):
    log, _ = parse_buildkit(BUILDKIT_FAILED)
    error = db.failure(db.BuildRequest(context=tmp_path, tag="t:1"), log, db.BUILDKIT)
    text = error.render()
    assert error.exit_code == 1
    assert "failed at step 4/4: RUN echo second && ls /nonexistent" in text
    assert "| ls: cannot access '/nonexistent'" in text
    assert "Traceback" not in text


def test_secret_build_args_are_redacted():
    args = {"HF_TOKEN": "hf_abc123", "DB_PASSWORD": "pw", "API_KEY": "k3y", "client_secret": "s3cr3t", "MODE": "fast"}
    assert db.redacted(args) == {"HF_TOKEN": "***", "DB_PASSWORD": "***", "API_KEY": "***",
                                 "client_secret": "***", "MODE": "fast"}
    assert db.scrub("#8 [2/2] RUN login hf_abc123 s3cr3t --mode fast", args) == "#8 [2/2] RUN login *** *** --mode fast"
