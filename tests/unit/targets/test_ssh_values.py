"""What may go into an ssh address, an ssh config or an Ansible inventory (toolkit.targets.ssh_values)."""

from __future__ import annotations

import pytest

from toolkit.errors import EXIT_INVALID, UsageError
from toolkit.targets.ssh_values import check_path, is_host, is_user, path_problem, shown


@pytest.mark.parametrize("value", ["deploy", "_svc", "a.b-c_1"])
def test_users_that_pass(value):
    assert is_user(value)


@pytest.mark.parametrize("value", ["deploy\n", "de ploy", "-oProxyCommand=x", "{{x}}", "d\x1b[31m", "d\u202e",
                                   "root\nProxyCommand touch /tmp/x", "", "1abc", "a" * 65, 3, None])
def test_users_that_fail(value):
    assert not is_user(value)       # `$` in the old pattern let "deploy\n" through


@pytest.mark.parametrize("value", ["gpu01", "10.0.0.5", "::1", "[::1]", "host.example.com"])
def test_hosts_that_pass(value):
    assert is_host(value)


@pytest.mark.parametrize("value", ["gpu01\n", "-oProxyCommand=x", "h;id", "h%h", "h\r", "[::1]\n", "{{x}}", "",
                                   "a" * 254, "h\u202e", 5])
def test_hosts_that_fail(value):
    assert not is_host(value)


@pytest.mark.parametrize("value", ["/home/me/.ssh/id_ed25519", "~/keys/gpu", "/keys/with space/id", "rel/key",
                                   "/home/josé/.ssh/id", "/k/a+b@c=d,e:f"])
def test_paths_that_pass(value):
    assert path_problem(value) is None and check_path("--identity", value) == value


@pytest.mark.parametrize("value, why", [
    ("/k/{{ lookup('pipe', 'id') }}", "would read as syntax"),
    ("/k/{% if 1 %}x{% endif %}", "would read as syntax"),
    ("/k/{# c #}", "would read as syntax"),
    ("/k/%d", "would read as syntax"),
    ("/k/${HOME}", "would read as syntax"),
    ('/k"\nProxyCommand touch /tmp/x', "control or invisible"),
    ("/k\rx", "control or invisible"),
    ("/k\x1b[2J", "control or invisible"),
    ("/k/\u202egpj.exe", "control or invisible"),
    ('/k/"quoted"', "would read as syntax"),
    ("/k/a'b", "would read as syntax"),
    ("/k/a\\b", "would read as syntax"),
    ("/k/#c", "would read as syntax"),
    ("/k/*", "would read as syntax"),
    ("-oProxyCommand=x", "option"),
    ("", "empty"),
    ("/" + "a" * 5000, "longer"),
    (["/k"], "text"),
])
def test_paths_that_fail_say_why_and_exit_2(value, why):
    assert why in (path_problem(value) or "")
    with pytest.raises(UsageError) as info:
        check_path("--identity", value)
    assert info.value.exit_code == EXIT_INVALID and info.value.message.startswith("--identity: ")
    assert info.value.message.isprintable()


def test_shown_escapes_and_cuts():
    assert shown("a\x1b[2Jb") == "'a\\x1b[2Jb'"
    assert shown("x\u202e") == "'x\\u202e'" and shown("josé") == "'jos\\xe9'"
    assert shown("a" * 100).endswith("...'") and len(shown("a" * 100)) == 48
    assert shown(3) == "3" and shown(None) == "None" and shown(["a"]) == "list"
