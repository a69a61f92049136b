"""Build images from profiles for integration tests, once per content.

An image is tagged by a hash of its rendered build context (Dockerfile, CA files, profile json)
and the base image id, and labelled with the plan digest; a later session finds it by tag and
reuses it when the labels match, so only a change to the profile, the renderer or the base
image rebuilds it. Built images carry the label toolkit-test=1 (harness.TEST_LABEL).
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from toolkit.executors import docker_build as db
from toolkit.model.plan import Plan
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile

from .harness import TEST_LABEL, image_id

IMAGE_REPO = "toolkit-test"
DIGEST_LABEL = "dev.toolkit.profile.digest"
KEY_LABEL = "toolkit-test.context"


@dataclass(frozen=True)
class ProfileImage:
    tag: str
    image_id: str
    plan: Plan
    context: Path
    result: db.BuildResult | None      # None: an existing image was reused


def child_profile(directory: Path, name: str, parent: str | None, base_image: str | None,
                  ca_bundle: Path | None, **overrides: Any) -> Path:
    """Write `name.yaml` extending parent (if any), with the base image and (a copy of) the host CA bundle."""
    directory.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"name": name, "extends": parent} if parent else {"name": name}
    if base_image:
        doc["os"] = {"base_image": base_image}
    if ca_bundle is not None:
        shutil.copyfile(ca_bundle, directory / "host-ca.crt")
        doc["network"] = {"ca_certificates": ["host-ca.crt"]}
    for key, value in overrides.items():
        section = doc.setdefault(key, {})
        if isinstance(section, dict) and isinstance(value, dict):
            section.update(value)
        else:
            doc[key] = value
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def context_key(context: Path, base_image_id: str) -> str:
    digest = hashlib.sha256(base_image_id.encode())
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(context)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _reusable(client: Any, tag: str, plan: Plan, key: str) -> str | None:
    if image_id(client, tag) is None:
        return None
    image = client.images.get(tag)
    labels = image.labels or {}
    if labels.get(KEY_LABEL) == key and labels.get(DIGEST_LABEL, plan.digest) == plan.digest:
        return image.id
    return None


def build_profile_image(client: Any, profile: Path, workdir: Path, base_image: str, *, reuse: bool = True,
                        buildkit: bool = True, sink: db.Sink | None = None) -> ProfileImage:
    """Render profile into workdir/context and build it (BuildKit by default), or reuse its image."""
    plan = build_plan(load_profile(profile))
    cli = db.buildkit_client() if buildkit else None
    if buildkit and cli is None:
        raise RuntimeError("no docker CLI with BuildKit on this machine (need /usr/bin/docker 20.10 or buildx)")
    context = workdir / "context"
    if context.exists():
        shutil.rmtree(context)
    db.prepare_context(plan, context, buildkit=buildkit)
    base_id = image_id(client, base_image)
    if base_id is None:
        raise RuntimeError(f"base image {base_image} is missing")
    key = context_key(context, base_id)
    tag = f"{IMAGE_REPO}/{plan.name}:{key[:16]}"
    existing = _reusable(client, tag, plan, key) if reuse else None
    if existing:
        return ProfileImage(tag, existing, plan, context, None)
    request = db.BuildRequest(context=context, tag=tag, labels={TEST_LABEL: "1", KEY_LABEL: key})
    result = db.build(request, sink, buildkit=cli)
    return ProfileImage(tag, result.image_id, plan, context, result)


def datascience_profile(directory: Path, base_image: str, ca_bundle: Path | None, name: str = "datascience-test",
                        **overrides: Any) -> Path:
    """The bundled datascience-cpu profile on the local base image, trusting the host CA."""
    return child_profile(directory, name, "datascience-cpu", base_image, ca_bundle, **overrides)


def run_in_image(client: Any, tag: str, script: str, user: str | None = None) -> str:
    """`docker run --rm TAG sh -c SCRIPT`; returns stdout+stderr (ContainerError on failure)."""
    output = client.containers.run(tag, ["sh", "-c", script], remove=True, user=user, labels={TEST_LABEL: "1"})
    return output.decode(errors="replace")
