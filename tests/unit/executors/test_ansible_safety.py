"""What the Ansible engine writes for Ansible to read: checked first (exit 2 before ansible-playbook
starts), then tagged !unsafe so Ansible never templates it. The verify ssh config of apply likewise."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from toolkit.commands.targeting import inventory_ssh_config as ssh_verify_config
from toolkit.errors import UsageError
from toolkit.executors import ansible_engine as engine
from toolkit.executors.inventory import Host
from toolkit.model.plan import Plan

JINJA = "{{ lookup('pipe', 'touch /tmp/toolkit-pwned') }}"
NEWLINE = '"\nProxyCommand touch /tmp/toolkit-pwned'
OK = Host(name="gpu01", hostname="10.0.0.5", port=22, user="deploy", identity="/k/id")


def bad_hosts() -> list[tuple[str, Host]]:
    from dataclasses import replace
    return [
        ("identity jinja", replace(OK, identity=f"/k/{JINJA}")),
        ("identity statement", replace(OK, identity="/k/{% for x in range(9) %}x{% endfor %}")),
        ("identity comment", replace(OK, identity="/k/{# x #}")),
        ("identity newline", replace(OK, identity="/k/id" + NEWLINE)),
        ("known_hosts jinja", replace(OK, known_hosts=f"/kh/{JINJA}")),
        ("known_hosts newline", replace(OK, known_hosts="/kh" + NEWLINE)),
        ("user", replace(OK, user=JINJA)),
        ("user newline", replace(OK, user="deploy\n")),
        ("address", replace(OK, hostname=JINJA)),
        ("port", replace(OK, port=0)),
        ("jump identity", replace(OK, jump=replace(OK, name="b", identity=f"/k/{JINJA}"))),
        ("jump user", replace(OK, jump=replace(OK, name="b", user="a\x1b[2J"))),
    ]


@pytest.mark.parametrize("case, host", bad_hosts(), ids=[c for c, _ in bad_hosts()])
def test_bad_host_values_never_reach_the_inventory(tmp_path, case, host):
    with pytest.raises(UsageError) as info:
        engine.write_inventory(tmp_path / "inv.yml", [host])
    assert info.value.exit_code == 2 and info.value.message.isprintable()
    assert not (tmp_path / "inv.yml").exists() or "pwned" not in (tmp_path / "inv.yml").read_text()


@pytest.mark.parametrize("known", [f"/kh/{JINJA}", "/kh/%h", "/kh\nx", "/kh/'x'"])
def test_known_hosts_option_is_refused_before_ansible_starts(monkeypatch, known):
    def never(*a, **kw):
        raise AssertionError("ansible-playbook was looked for: the check came too late")
    monkeypatch.setattr(engine, "find_ansible_playbook", never)
    with pytest.raises(UsageError, match="--known-hosts: "):
        engine.run_ansible(Plan.__new__(Plan), [OK], known_hosts=known)


def test_a_temporary_folder_ansible_would_misread_is_refused(tmp_path):
    with pytest.raises(UsageError, match="TMPDIR"):
        engine.ansible_cfg(4, tmp_path / "{{x}}" / "cp")
    with pytest.raises(UsageError, match="TMPDIR"):
        engine.ansible_cfg(4, tmp_path / "a\nforks = 1" / "cp")


def test_every_string_is_written_unsafe(tmp_path):
    engine.write_inventory(tmp_path / "inv.yml", [OK], known_hosts="/kh/run")
    text = (tmp_path / "inv.yml").read_text()
    assert text.count("!unsafe") == 4, text     # host, user, key file, ssh args (the port is a number)


@pytest.mark.process
@pytest.mark.skipif(shutil.which("ansible-inventory") is None, reason="ansible-core is not installed")
def test_ansible_keeps_unsafe_text_untemplated(tmp_path):
    """The second layer alone: a Jinja path that skipped the checks stays literal text in Ansible."""
    vars_ = {"ansible_host": engine.Unsafe("127.0.0.1"),
             "ansible_ssh_private_key_file": engine.Unsafe(f"/k/{JINJA}")}
    (tmp_path / "inv.yml").write_text(yaml.dump({"all": {"hosts": {"h": vars_}}}, Dumper=engine._InventoryDumper))
    out = subprocess.run(["ansible-inventory", "-i", str(tmp_path / "inv.yml"), "--host", "h"],
                         capture_output=True, text=True, check=True).stdout
    assert JINJA in out


@pytest.mark.parametrize("case, host", bad_hosts(), ids=[c for c, _ in bad_hosts()])
def test_the_verify_ssh_config_of_apply_refuses_the_same_values(tmp_path, case, host):
    with pytest.raises(UsageError):
        ssh_verify_config(tmp_path, 0, host, None)
    assert not list(tmp_path.iterdir())


def test_the_verify_ssh_config_refuses_a_known_hosts_or_config_path_with_a_newline(tmp_path):
    with pytest.raises(UsageError):
        ssh_verify_config(tmp_path, 0, OK, "/kh" + NEWLINE)
    cfg = tmp_path / 'c"x'
    cfg.write_text("")
    with pytest.raises(UsageError):
        ssh_verify_config(tmp_path, 1, OK, None, str(cfg))


def test_apply_verify_config_keeps_a_plain_host_as_is(tmp_path):
    alias, path = ssh_verify_config(tmp_path, 2, OK, "/kh/run")
    assert alias == "toolkit-apply-2" and Path(path).read_text().splitlines() == [
        "Host toolkit-apply-2", "    HostName 10.0.0.5", "    Port 22", "    User deploy",
        '    UserKnownHostsFile "/kh/run"', '    IdentityFile "/k/id"', "    IdentitiesOnly yes"]


def test_the_bundle_folder_of_each_host_is_written_unsafe(tmp_path):
    """apply --bundle --engine ansible: the folder a host's copy is in (from the host's own home) is never templated."""
    engine.write_inventory(tmp_path / "inv.yml", [OK], extra={OK.name: {"toolkit_bundle_dir": f"/home/x/{JINJA}"}})
    text = (tmp_path / "inv.yml").read_text()
    assert text.count("!unsafe") == 5 and "toolkit_bundle_dir: !unsafe '/home/x/{{ lookup(" in text, text


def test_hosts_whose_bundle_transfer_failed_keep_their_result_and_nothing_runs(tmp_path, monkeypatch):
    from toolkit.executors.ansible_bundle import Staged
    from toolkit.executors.results import failure

    def never(*a, **kw):
        raise AssertionError("ansible-playbook was started for no host")
    monkeypatch.setattr(engine, "find_ansible_playbook", never)
    staged = Staged("/b", failed={OK.name: failure(OK.name, "unreachable", "connect", ["refused"])},
                    lines=[f"{OK.name}: connection refused"])
    [result] = engine.run_ansible(Plan.__new__(Plan), [OK], log_dir=str(tmp_path), bundle=staged)
    assert result.status == "unreachable" and result.failed_step == "connect"
    assert f"{OK.name}: connection refused" in (tmp_path / engine.LOG_NAME).read_text()
