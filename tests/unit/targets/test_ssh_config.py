"""The one ssh config writer (toolkit.verify.ssh_config), read back by OpenSSH itself (`ssh -G`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from toolkit.errors import UsageError
from toolkit.targets import reach as targets
from toolkit.targets import ssh_config
from toolkit.targets.ssh_config import HostEntry, config_line

needs_ssh = pytest.mark.skipif(shutil.which("ssh") is None, reason="no OpenSSH client (ssh -G reads the config)")
INJECT = "\nProxyCommand touch /tmp/toolkit-pwned"


def resolved(config: Path, alias: str) -> dict[str, str]:
    """What OpenSSH makes of `alias` in `config` (no connection: ssh -G only prints)."""
    out = subprocess.run(["ssh", "-G", "-F", str(config), alias], capture_output=True, text=True, check=True).stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


@pytest.mark.parametrize("keyword, value", [
    ("HostName", "10.0.0.5" + INJECT), ("HostName", "h\rProxyCommand x"), ("HostName", "-oProxyCommand=x"),
    ("User", "deploy" + INJECT), ("User", 'deploy" ProxyCommand x'), ("User", "%u"),
    ("Port", "22" + INJECT), ("Port", 0), ("Port", 65536), ("Port", True), ("Port", "x"),
    ("IdentityFile", '/k/id"' + INJECT), ("IdentityFile", "/k/%d"), ("IdentityFile", "/k/${HOME}"),
    ("IdentityFile", "/k/\\\"x"), ("UserKnownHostsFile", "/kh" + INJECT), ("Include", "/c/*"),
    ("ProxyJump", "j1" + INJECT), ("ProxyJump", "u@h,x"), ("Host", "a b"), ("Host", "*"),
    ("StrictHostKeyChecking", "no"), ("BatchMode", "yes\nProxyCommand x"),
])
def test_a_value_that_does_not_fit_its_keyword_is_refused(keyword, value):
    with pytest.raises(UsageError) as info:
        config_line(keyword, value)
    assert info.value.exit_code == 2 and "\n" not in info.value.message and "\r" not in info.value.message


def test_unknown_keywords_are_a_bug_not_input():
    with pytest.raises(ValueError):
        config_line("ProxyCommand", "nc %h %p")


def test_paths_are_quoted_and_names_bare():
    assert config_line("IdentityFile", "/keys/with space/id", indent=True) == '    IdentityFile "/keys/with space/id"'
    assert config_line("Port", 2222) == "Port 2222" and config_line("HostName", "::1") == "HostName ::1"


@needs_ssh
def test_a_chain_of_entries_reads_back_as_written(tmp_path):
    entries = [HostEntry("t-0", "10.0.0.9", 2222, "deploy", "/kh/run", "/k/id", proxy_jump="t-0-jump1"),
               HostEntry("t-0-jump1", "::1", 2200, "ops", "/kh/with space", "/k/j 2")]
    include = tmp_path / "user config"
    include.write_text("Host *\n    ServerAliveInterval 7\n")
    path = ssh_config.write(tmp_path / "cfg", ssh_config.render(entries, includes=[include]))
    main, jump = resolved(path, "t-0"), resolved(path, "t-0-jump1")
    assert (main["hostname"], main["port"], main["user"], main["proxyjump"]) == ("10.0.0.9", "2222", "deploy", "t-0-jump1")
    assert main["identityfile"] == "/k/id" and main["userknownhostsfile"] == "/kh/run"
    assert (jump["hostname"], jump["identityfile"], jump["userknownhostsfile"]) == ("::1", "/k/j 2", "/kh/with space")
    assert main["serveraliveinterval"] == "7" and "proxycommand" not in main     # the Include applies to all
    assert oct(path.stat().st_mode & 0o777) == "0o600"


@needs_ssh
def test_strict_config_of_verify_includes_the_users_config(tmp_path):
    user = tmp_path / "user_config"
    user.write_text("Host gpu\n    HostName 10.1.1.1\n")
    cfg = targets.strict_ssh_config(tmp_path / "strict", str(user))
    got = resolved(cfg, "gpu")
    assert (got["hostname"], got["stricthostkeychecking"], got["batchmode"]) == ("10.1.1.1", "true", "yes")


def test_strict_config_refuses_a_user_config_path_ssh_would_misread(tmp_path):
    user = tmp_path / "cfg#1"
    user.write_text("")
    with pytest.raises(UsageError, match="would read as syntax"):
        targets.strict_ssh_config(tmp_path / "strict", str(user))
