"""A GPU stack on the plain OS image: the NVIDIA container runtime's variables that the rendered Dockerfile
sets right after FROM reach the built image's config exactly (the real engine, BuildKit and the legacy
builder). The bundled pytorch-cuda profile, built from the local Debian base (no CUDA image can be pulled)."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from toolkit.executors import docker_build as db
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import dockerfile

from . import harness

pytestmark = pytest.mark.docker


@pytest.mark.parametrize("buildkit", [True, False], ids=["buildkit", "legacy"])
def test_nvidia_variables_reach_the_image(docker_engine, base_image, tmp_path, buildkit):
    plan = build_plan(load_profile("pytorch-cuda"))
    assert plan.target.base_image == "ubuntu:22.04"
    plan = dataclasses.replace(plan, target=dataclasses.replace(plan.target, base_image=base_image))
    rendered = dockerfile.render(plan, buildkit=buildkit).files["Dockerfile"]
    head = rendered.split("\nRUN ", 1)[0]            # FROM, SHELL, the ENV block: everything before the first RUN
    assert "ENV NVIDIA_VISIBLE_DEVICES=" in head
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(head + "\n", encoding="utf-8")
    cli = db.buildkit_client() if buildkit else None
    if buildkit and cli is None:
        harness.skip_or_fail("no docker CLI with BuildKit on this machine")
    tag = f"toolkit-test/gpubase-env:{uuid.uuid4().hex[:12]}"
    result = db.build(db.BuildRequest(context=context, tag=tag, labels={harness.TEST_LABEL: "1"}), buildkit=cli)
    try:
        env = dict(e.split("=", 1) for e in docker_engine.images.get(result.image_id).attrs["Config"]["Env"])
        assert {k: env.get(k) for k in dict(plan.target.image_env)} == {
            "NVIDIA_VISIBLE_DEVICES": "all", "NVIDIA_DRIVER_CAPABILITIES": "compute,utility",
            "NVIDIA_REQUIRE_CUDA": "cuda>=12.0"}
    finally:
        docker_engine.images.remove(tag, force=True)
