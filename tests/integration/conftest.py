"""Session fixtures for integration tests against a real Docker engine.

Fixtures (helpers live in harness.py):

- ``docker_engine``  -> docker.DockerClient that answered ping()
- ``base_image``     -> str, the Debian 12 base image (TOOLKIT_BASE_IMAGE, default local/debian:12)
- ``host_ca_bundle`` -> Path | None, the host CA bundle (trusts the TLS-intercepting proxy)
- ``ssh_keypair``    -> (private_key_path: Path, public_key: str), one ed25519 pair per session
- ``sshd_image``     -> str, tag of the sshd test image (built once, cached by content hash)
- ``sshd_container`` -> start(name_suffix=None, **docker_run_options) -> harness.SshTarget;
                        containers are removed at the end of the test

Without an engine or the base image these skip, except under CI=true/1 where they fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from . import harness
from .harness import SshTarget


@pytest.fixture(scope="session")
def docker_engine():
    client, why = harness.connect_engine()
    if client is None:
        harness.skip_or_fail(f"no Docker engine: {why}; run {harness.ENSURE_DOCKER}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def base_image(docker_engine) -> str:
    name = harness.base_image_name()
    if harness.image_id(docker_engine, name) is None:
        harness.skip_or_fail(
            f"base image {name} not found; run {harness.ENSURE_BASE_IMAGE} "
            "(builds it with debootstrap + docker import)"
        )
    return name


@pytest.fixture(scope="session")
def host_ca_bundle() -> Path | None:
    """The host's CA bundle if present, else None (no extra CA needed then)."""
    return harness.host_ca_bundle()


@pytest.fixture(scope="session")
def ssh_keypair(tmp_path_factory) -> tuple[Path, str]:
    return harness.generate_keypair(tmp_path_factory.mktemp("ssh-keys"))


@pytest.fixture(scope="session")
def sshd_image(docker_engine, base_image) -> str:
    return harness.ensure_sshd_image(docker_engine, base_image)


@pytest.fixture(scope="session")
def _test_session_id(docker_engine) -> Iterator[str]:
    session_id = uuid.uuid4().hex
    yield session_id
    # Safety net: anything of this session that a test leaked.
    harness.remove_leftover_containers(docker_engine, session_id)


@pytest.fixture
def sshd_container(
    docker_engine, sshd_image, ssh_keypair, tmp_path_factory, _test_session_id
) -> Iterator[Callable[..., SshTarget]]:
    key_path, public_key = ssh_keypair
    workdir = tmp_path_factory.mktemp("sshd-targets")
    started: list[SshTarget] = []

    def start(name_suffix: str | None = None, **run_options) -> SshTarget:
        target = harness.start_sshd_container(
            docker_engine,
            sshd_image,
            public_key,
            key_path,
            workdir,
            _test_session_id,
            name_suffix=name_suffix,
            **run_options,
        )
        started.append(target)
        return target

    yield start
    for target in started:
        harness.remove_container(target.container)


@pytest.fixture(scope="session")
def datascience_image(docker_engine, base_image, host_ca_bundle, tmp_path_factory) -> str:
    """Tag of the bundled datascience-cpu profile built for real (BuildKit) on the local base image,
    trusting the host CA; reused across sessions while its rendered context and base image are unchanged."""
    from toolkit.errors import ToolkitError

    from . import images

    workdir = tmp_path_factory.mktemp("datascience-image")
    profile = images.datascience_profile(workdir, base_image, host_ca_bundle)
    try:
        return images.build_profile_image(docker_engine, profile, workdir, base_image).tag
    except ToolkitError as exc:
        pytest.fail(f"building the datascience-cpu test image failed:\n{exc.render()}", pytrace=False)


@pytest.fixture(scope="session")
def systemd_image(docker_engine, base_image, host_ca_bundle) -> str:
    """The systemd host image of tests/integration/systemd_host.py (built once, cached by content)."""
    from . import systemd_host

    return systemd_host.ensure_image(docker_engine, base_image, host_ca_bundle)


@pytest.fixture
def systemd_target(docker_engine, systemd_image, ssh_keypair, tmp_path, _test_session_id
                   ) -> Iterator[Callable[..., SshTarget]]:
    """start(**options) -> a systemd host (tests/integration/systemd_host.py; options: address, publish),
    removed after the test; a skip (a failure under CI=true) where the engine cannot run one."""
    from . import systemd_host

    started: list[SshTarget] = []

    def start(**options) -> SshTarget:
        try:
            target = systemd_host.start(docker_engine, systemd_image, ssh_keypair[1], ssh_keypair[0], tmp_path,
                                        _test_session_id, **options)
        except RuntimeError as exc:
            harness.skip_or_fail(f"no systemd container on this engine: {exc}")
        started.append(target)
        return target
    yield start
    for target in started:
        harness.remove_container(target.container)
