"""What a new user meets in the first hour, against real sshd containers (Debian 12 hosts):

- an Ubuntu profile applied to a Debian host is refused before anything changes (exit 2), allowed with
  --allow-os-mismatch, and only warned about when just the release differs;
- `apply --dry-run` on a terminal (a pty) lists the steps that would change, and --json carries them.
"""

from __future__ import annotations

import json
import os

import pytest

from .test_apply import REPO, Apply, row, sh
from .test_script_idempotent import PROFILE
from ..tty import run_in_pty

pytestmark = [pytest.mark.docker, pytest.mark.ssh]

UBUNTU = PROFILE.replace('distro: debian\n  version: "12"', 'distro: ubuntu\n  version: "22.04"')
DEBIAN_11 = PROFILE.replace('version: "12"', 'version: "11"')


def make(tmp_path, ssh_keypair, text: str) -> Apply:
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return Apply(path, tmp_path, ssh_keypair[0])


def untouched(host) -> bool:
    return "/usr/bin/jq" not in sh(host, "command -v jq || true") and "no such" in sh(
        host, "id alice 2>&1; ls /var/lib/toolkit 2>&1").lower()


def test_ubuntu_profile_on_a_debian_host_is_refused_before_any_change(tmp_path, ssh_keypair, sshd_container):
    assert UBUNTU != PROFILE
    host = sshd_container("osmismatch")
    apply = make(tmp_path, ssh_keypair, UBUNTU)
    apply.trust(host)
    for extra in ((), ("--dry-run",)):
        res = apply.run(host, extra=extra)
        assert res.returncode == 2, res.stdout + res.stderr
        text = res.stdout + res.stderr
        assert "runs debian 12, but the profile is for ubuntu 22.04" in text
        assert "--allow-os-mismatch" in res.stderr
        assert "Traceback" not in text
    assert untouched(host)
    res = apply.run(host, extra=("--dry-run", "--allow-os-mismatch"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "would-change" in row(res.stdout, host)
    assert "warning: deploy@127.0.0.1" in res.stderr and "applying anyway (--allow-os-mismatch)" in res.stderr


def test_another_release_of_the_same_family_is_a_warning(tmp_path, ssh_keypair, sshd_container):
    host = sshd_container("osrelease")
    apply = make(tmp_path, ssh_keypair, DEBIAN_11)
    apply.trust(host)
    res = apply.run(host, extra=("--dry-run", "--json"))
    assert res.returncode == 0, res.stdout + res.stderr
    (result,) = json.loads(res.stdout)
    assert result["warnings"] == [f"deploy@127.0.0.1:{host.port} runs debian 12, the profile is for debian 11; "
                                  "applying anyway"]
    assert "warning:" in res.stderr
    assert any(step.endswith("os: OS packages") for step in result["would_change"]), result
    assert untouched(host)


def test_dry_run_on_a_terminal_lists_the_steps_that_would_change(tmp_path, ssh_keypair, sshd_container):
    host = sshd_container("drytty")
    apply = make(tmp_path, ssh_keypair, PROFILE)
    apply.trust(host)
    env = {k: v for k, v in apply.env().items() if k != "NO_COLOR"}
    env.update(TERM="xterm", COLUMNS="200")
    rc, text = run_in_pty(apply.argv(host, extra=("--dry-run",)), env)
    assert rc == 0, text
    assert "step(s) would change" in text, text
    for title in ("os: OS packages", "user: user alice", "python: virtual environment /opt/venv"):
        assert f"would change  step " in text and title in text, text
    assert "\x1b[" in text              # a terminal: the live display and colour
    assert untouched(host)
