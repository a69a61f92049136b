"""Hostile and careless input around built images: `build -t` names, plans that want two CMDs, a GPU
profile's devcontainer on a machine without a GPU. One case or more per class; each fails on the old code."""

from __future__ import annotations

import dataclasses
import json

import pytest

from toolkit.cli import main
from toolkit.errors import EXIT_INVALID
from toolkit.executors.image_tag import tag_problem
from toolkit.model.steps import Service
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import devcontainer, dockerfile

# ------------------------------------------------------------------ build -t: Docker's reference grammar
BAD_TAGS = {
    "upper-case repository": ("MyTeam/datascience:1", "must be lowercase"),
    "upper-case single name": ("DataScience", "must be lowercase"),
    "empty": ("", "empty"),
    "space": ("my image:1", "spaces or control characters"),
    "newline": ("img:1\nFROM evil", "spaces or control characters"),
    "escape sequence": ("img\x1b[2J:1", "spaces or control characters"),
    "right-to-left override": ("img\u202e:1", "spaces or control characters"),
    "digest": ("img@sha256:" + "a" * 64, "digest"),
    "empty tag": ("img:", "tag '' is not valid"),
    "tag starting with a dash": ("img:-rc1", "tag '-rc1' is not valid"),
    "tag starting with a dot": ("img:.1", "tag '.1' is not valid"),
    "tag too long": ("img:" + "t" * 129, "is not valid"),
    "two colons": ("img:1:2", "is not valid"),
    "double slash": ("team//img", "empty path component"),
    "leading slash": ("/img", "empty path component"),
    "trailing slash": ("img/", "empty path component"),
    "three underscores": ("a___b", "is not valid"),
    "leading separator": ("-img", "is not valid"),
    "trailing dot": ("img.", "is not valid"),
    "shell text": ("img;rm -rf /", "spaces or control characters"),
    "quote": ("img'x", "is not valid"),
    "non-numeric port": ("registry.local:http/img", "port 'http' is not a number"),
    "bad registry host": ("-registry.local/img", "not a host name part"),
    "name too long": ("a" * 256, "at most 255"),
    "name too long once docker.io/library/ is added": ("a" * 238, "at most 255"),
    "tag without name": (":1", "no repository name"),
}
GOOD_TAGS = ["img", "img:1", "team/img:1.0", "registry.example.com:5000/ns/img:tag", "localhost/img",
             "localhost:5000/a__b--c.d:v_1", "Registry.Example.COM/img:Latest", "[::1]:5000/img:1", "a" * 237,
             "x/" + "a" * 243]


@pytest.mark.parametrize("case", sorted(BAD_TAGS))
def test_bad_tag_is_refused_with_what_is_wrong(case, capsys):
    tag, why = BAD_TAGS[case]
    assert why in (tag_problem(tag) or "")
    with pytest.raises(SystemExit) as exc:
        main(["build", "datascience-cpu", "-t", tag])
    err = capsys.readouterr().err
    assert exc.value.code == EXIT_INVALID, err
    assert "-t/--tag: " in err and why in err and "Traceback" not in err
    assert "\x1b" not in err and "\u202e" not in err and "\nFROM evil" not in err   # shown escaped


@pytest.mark.parametrize("tag", GOOD_TAGS)
def test_good_tags_pass(tag):
    assert tag_problem(tag) is None


# ------------------------------------------------------------------ two services, one CMD
def test_two_services_never_render_two_cmds():
    plan = build_plan(load_profile("datascience-cpu"))
    service = next(s for s in plan.steps if isinstance(s, Service))
    second = dataclasses.replace(service, component="tensorboard", title="TensorBoard", name="tensorboard")
    doubled = dataclasses.replace(plan, steps=plan.steps + (second,))
    with pytest.raises(ValueError, match=r"\[jupyter\] Jupyter server and \[tensorboard\] TensorBoard"):
        dockerfile.render(doubled)
    text = dockerfile.render(plan).files["Dockerfile"]
    assert sum(line.startswith("CMD ") for line in text.splitlines()) == 1


def test_two_services_plan_exits_2(monkeypatch, capsys):
    from toolkit.components import tools

    original = tools.jupyter

    def twice(ctx):
        out = original(ctx)
        out.steps += [s for s in out.steps if isinstance(s, Service)]
        return out

    monkeypatch.setattr(tools, "jupyter", twice)
    with pytest.raises(SystemExit) as exc:
        main(["plan", "datascience-cpu"])
    assert exc.value.code == EXIT_INVALID
    assert "2 services would each own the image's CMD" in capsys.readouterr().err


# ------------------------------------------------------------------ a GPU devcontainer on a laptop without a GPU
@pytest.mark.parametrize("profile", ["pytorch-cuda", "tensorflow-cuda"])
def test_gpu_devcontainer_opens_without_a_gpu(profile):
    doc = json.loads(devcontainer.render(build_plan(load_profile(profile))).files[".devcontainer/devcontainer.json"])
    assert doc["hostRequirements"]["gpu"] == "optional"
    assert "--gpus" not in doc.get("runArgs", []) and not any("gpus" in a for a in doc.get("runArgs", []))
    assert doc["runArgs"] == ["--shm-size", "1g"]


# ------------------------------------------------------------------ the image's user owns its home and caches
@pytest.mark.parametrize("buildkit", [True, False], ids=["buildkit", "legacy"])
@pytest.mark.parametrize("profile", ["datascience-cpu", "pytorch-cuda"])
def test_no_mount_or_step_leaves_root_in_the_users_home(profile, buildkit):
    plan = build_plan(load_profile(profile))
    text = dockerfile.render(plan, buildkit=buildkit).files["Dockerfile"]
    home = plan.target.home
    assert f"target={home}" not in text                      # no cache mount under the home
    assert f"chown -- 1000:1000 {home} {home}/.cache" in text  # home and ~/.cache given to the user
    if buildkit:
        assert "id=toolkit-pip-1000,target=/var/cache/toolkit-pip,uid=1000,gid=1000" in text
        assert "--cache-dir /var/cache/toolkit-pip" in text
    else:
        assert "--mount" not in text and "--no-cache-dir" in text
    ids = {c.id for c in plan.checks}
    assert {"writable:dev", "writable:/opt/venv"} <= ids
