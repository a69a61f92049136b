"""Fixtures for the lock tests: a PEP 503 index on 127.0.0.1 and an environment for uv."""

from __future__ import annotations

import os

import pytest

from tests.indexserver import serve_index


@pytest.fixture
def index(tmp_path):
    """An empty index (tests.indexserver.Index): add packages with index.add(name, version, requires=...)."""
    with serve_index(tmp_path / "index") as served:
        yield served


@pytest.fixture
def uv_env(tmp_path):
    """This process's environment with a cache of the test's own and no retries (a refused
    connection fails at once)."""
    return dict(os.environ, UV_CACHE_DIR=str(tmp_path / "uv-cache"), UV_HTTP_RETRIES="0")
