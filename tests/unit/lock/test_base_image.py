"""Naming the base image by digest (toolkit/lock/base_image.py) from what `docker image inspect` says;
the engine itself is exercised in tests/integration/test_lock_apt.py."""

from __future__ import annotations

import pytest

from toolkit.lock import base_image as bi
from toolkit.lock.model import BaseImage

ID = "sha256:" + "a" * 64
HUB = "sha256:" + "b" * 64
OTHER = "sha256:" + "c" * 64


@pytest.mark.parametrize(("ref", "repo"), [
    ("debian:12", "debian"), ("debian", "debian"), ("docker.io/library/debian:12", "debian"),
    ("nvidia/cuda:12.4.1-runtime-ubuntu22.04", "nvidia/cuda"), ("registry:5000/ns/img:tag", "registry:5000/ns/img"),
    (f"debian@{HUB}", "debian"), ("local/debian:12", "local/debian"),
])
def test_repository(ref, repo):
    assert bi.repository(ref) == repo


def test_a_registry_image_is_named_by_the_digest_of_its_own_repository():
    attrs = {"Id": ID, "RepoDigests": [f"ghcr.io/x/y@{OTHER}", f"debian@{HUB}"]}
    got = bi._pinned("debian:12", attrs)
    assert got == BaseImage("debian:12", HUB, "repo-digest")
    assert got.pinned == f"debian@{HUB}"
    assert bi._pinned("docker.io/library/debian:12", attrs).digest == HUB


def test_the_digest_a_ref_names_wins():
    attrs = {"Id": ID, "RepoDigests": [f"debian@{OTHER}", f"debian@{HUB}"]}
    assert bi._pinned(f"debian@{HUB}", attrs).digest == HUB
    assert bi._pinned("debian:12", attrs).digest == OTHER


@pytest.mark.parametrize("digests", [[], None, [f"debian@{HUB}"]])
def test_a_local_image_or_a_retag_is_named_by_its_id(digests):
    got = bi._pinned("local/debian:12", {"Id": ID, "RepoDigests": digests})
    assert got == BaseImage("local/debian:12", ID, "image-id") and got.pinned == "local/debian:12"
