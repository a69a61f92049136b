"""Free text reaches image labels exactly as written: the rendered LABEL instruction built by the
real engine (BuildKit and the legacy builder) gives back the description character for character,
non-ASCII letters, quotes, `$` and backslashes included, and nothing in it expands."""

from __future__ import annotations

import uuid

import pytest

from toolkit.executors import docker_build as db
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import dockerfile

from . import harness

pytestmark = pytest.mark.docker

DESCRIPTION = "Alice's café: \"NumPy\" & $HOME ${PATH:-x} `id` \\ {{ lookup('pipe', 'id') }} 100% naïve — 数据"


@pytest.mark.parametrize("buildkit", [True, False], ids=["buildkit", "legacy"])
def test_description_label_round_trips(docker_engine, base_image, tmp_path, buildkit):
    yaml_text = "name: labels\ndescription: '" + DESCRIPTION.replace("'", "''") + "'\n"
    (tmp_path / "p.yaml").write_text(yaml_text, encoding="utf-8")
    plan = build_plan(load_profile(tmp_path / "p.yaml"))
    assert plan.description == DESCRIPTION
    rendered = dockerfile.render(plan, buildkit=buildkit).files["Dockerfile"]
    label = rendered[rendered.index("LABEL "):].split("\nCOPY", 1)[0]     # the whole LABEL instruction
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {base_image}\n{label}\n", encoding="utf-8")
    cli = db.buildkit_client() if buildkit else None
    if buildkit and cli is None:
        harness.skip_or_fail("no docker CLI with BuildKit on this machine")
    tag = f"toolkit-test/labels:{uuid.uuid4().hex[:12]}"
    result = db.build(db.BuildRequest(context=context, tag=tag, labels={harness.TEST_LABEL: "1"}), buildkit=cli)
    try:
        labels = docker_engine.images.get(result.image_id).labels
        assert labels["org.opencontainers.image.description"] == DESCRIPTION
        assert labels["org.opencontainers.image.title"] == "labels"
    finally:
        docker_engine.images.remove(tag, force=True)
