"""Suite-wide options: slow suites are opt-in."""

from __future__ import annotations

import pytest


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run tests marked slow (full builds of large images, benchmarks)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow suite: opt in with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_user_compat_overlay(monkeypatch, tmp_path_factory):
    """Commands read $XDG_CONFIG_HOME/toolkit/compat.yaml without a flag: tests must not see the user's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
