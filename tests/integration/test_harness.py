"""The integration harness is real: an engine, a Debian 12 image, sshd hosts."""

from __future__ import annotations

import paramiko
import pytest

from . import harness


@pytest.mark.docker
def test_base_image_is_debian_12(docker_engine, base_image):
    out = docker_engine.containers.run(
        base_image,
        ["cat", "/etc/debian_version"],
        remove=True,
        labels={harness.TEST_LABEL: "1"},
    )
    version = out.decode().strip()
    assert version.split(".")[0] == "12", version


@pytest.mark.docker
@pytest.mark.ssh
def test_sshd_key_auth_strict_host_keys_and_sudo(sshd_container):
    target = sshd_container("harness")
    assert target.host == "127.0.0.1"
    assert f"[127.0.0.1]:{target.port} " in target.known_hosts_path.read_text()

    client = harness.paramiko_connect(target)
    try:
        rc, out, err = harness.run_ssh(client, "id -u")
        assert (rc, out.strip()) == (0, str(harness.DEPLOY_UID)), err

        rc, out, err = harness.run_ssh(
            client, "sudo -S -p '' id -u", stdin_data=target.password + "\n"
        )
        assert (rc, out.strip()) == (0, "0"), err

        # sudo really asks for the password (no NOPASSWD).
        rc, out, _ = harness.run_ssh(client, "sudo -n id -u")
        assert rc != 0 and out.strip() != "0"
    finally:
        client.close()


@pytest.mark.docker
@pytest.mark.ssh
def test_host_key_checking_is_strict(sshd_container, tmp_path):
    target = sshd_container()
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with pytest.raises(paramiko.SSHException):
        harness.paramiko_connect(target, known_hosts=empty)


@pytest.mark.docker
@pytest.mark.ssh
def test_sshd_containers_have_distinct_host_keys(sshd_container):
    a = sshd_container("a")
    b = sshd_container("b")
    assert a.port != b.port

    def keys(target):
        # "[127.0.0.1]:PORT TYPE BLOB" -> {(TYPE, BLOB)}
        return {
            tuple(line.split()[1:3])
            for line in target.known_hosts_path.read_text().splitlines()
            if line.strip()
        }

    ka, kb = keys(a), keys(b)
    assert ka and kb
    assert not ka & kb, "two containers share a host key"

    # b's host key does not verify against a's known_hosts entry (same port swap).
    swapped = a.known_hosts_path.read_text().replace(f"]:{a.port} ", f"]:{b.port} ")
    b.known_hosts_path.write_text(swapped)
    with pytest.raises(paramiko.SSHException):
        harness.paramiko_connect(b).close()
