"""Ansible inventories (INI and YAML) as toolkit hosts: groups, children, ranges, variable precedence,
--limit patterns and located mistakes; the same files are read by real Ansible (ansible-inventory,
`ansible --list-hosts`) and both must agree."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.errors import EXIT_INVALID, UsageError
from toolkit.executors import inventory_ansible
from toolkit.executors.inventory import Host, resolve

INI = """\
# before any section: ungrouped hosts
bastion ansible_host=127.0.0.9 ansible_user=ops
; a comment too
[a100]
gpu[01:03] ansible_user=ubuntu      # a range, and a comment
gpu04:2201 ansible_host=127.0.0.4

[a100:vars]
ansible_port=2222
ansible_ssh_private_key_file=/keys/a100
ansible_become_password=not-used

[h100]
hgpu1 ansible_host=127.0.0.5 ansible_ssh_common_args='-o ProxyJump=ops@127.0.0.9:2022 -o ControlPersist=60s'

[gpu:children]
a100
h100

[gpu:vars]
ansible_user=gpuuser
ansible_port=2000

[all:vars]
ansible_user=everyone
ansible_python_interpreter=/usr/bin/python3
"""

YAML = """\
all:
  vars:
    ansible_user: everyone
    ansible_python_interpreter: /usr/bin/python3
  hosts:
    bastion: {ansible_host: 127.0.0.9, ansible_user: ops}
  children:
    gpu:
      vars: {ansible_user: gpuuser, ansible_port: 2000}
      children:
        a100:
          hosts:
            gpu[01:03]: {ansible_user: ubuntu}
            gpu04:2201: {ansible_host: 127.0.0.4}
          vars:
            ansible_port: 2222
            ansible_ssh_private_key_file: /keys/a100
            ansible_become_password: not-used
        h100:
          hosts:
            hgpu1:
              ansible_host: 127.0.0.5
              ansible_ssh_common_args: -J ops@127.0.0.9:2022 -o ControlPersist=60s
"""

EXPECTED = [   # name, address, port, user, identity
    ("bastion", "127.0.0.9", 22, "ops", None),
    ("gpu01", "gpu01", 2222, "ubuntu", "/keys/a100"),
    ("gpu02", "gpu02", 2222, "ubuntu", "/keys/a100"),
    ("gpu03", "gpu03", 2222, "ubuntu", "/keys/a100"),
    ("gpu04", "127.0.0.4", 2201, "gpuuser", "/keys/a100"),    # a100 sets no user: its parent gpu's beats all's
    ("hgpu1", "127.0.0.5", 2000, "gpuuser", None),
]


def write(tmp_path: Path, text: str, name: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    (tmp_path / "empty_config").touch()
    return str(path)


def hosts(tmp_path: Path, text: str, name: str = "hosts.ini", limit: tuple[str, ...] = ()) -> list[Host]:
    path = write(tmp_path, text, name)
    return resolve((), path, False, ssh_config=str(tmp_path / "empty_config"), limit=limit)


def refused(tmp_path: Path, text: str, name: str = "hosts.ini", limit: tuple[str, ...] = ()) -> str:
    with pytest.raises(UsageError) as info:
        hosts(tmp_path, text, name, limit)
    assert info.value.exit_code == EXIT_INVALID
    msg = info.value.render()
    assert all(c.isprintable() or c == "\n" for c in msg), msg
    return msg


def facts(found: list[Host]) -> list[tuple]:
    return [(h.name, h.hostname, h.port, h.user, h.identity) for h in found]


@pytest.mark.parametrize("text, name", [(INI, "hosts.ini"), (YAML, "hosts.yml"), (YAML, "inventory"),
                                        (INI, "hosts.yaml")], ids=["ini", "yaml", "yaml-no-suffix", "ini-yaml-suffix"])
def test_both_formats_give_the_same_hosts_whatever_the_file_name(tmp_path, text, name):
    found = hosts(tmp_path, text, name)
    assert facts(found) == EXPECTED
    jump = found[-1].jump
    assert jump is not None and (jump.hostname, jump.port, jump.user) == ("127.0.0.9", 2022, "ops")


@pytest.mark.parametrize("text, kind", [
    (INI, "ini"), (YAML, "yaml"), ("hosts:\n  a:\n", "yaml"), ("gpu01\n", "ini"), ("# only\n\n[a]\n", "ini"),
    ("gpu01 ansible_host=h\n", "ini"), ("---\nall:\n", "yaml"), ("{all: {}}\n", "yaml"), ("", "yaml"),
    ("root:$6$x:19700:0:::\n", "yaml"), ("- a\n", "yaml"), ("[a, b]\n", "yaml"),
])
def test_the_format_is_told_by_content(text, kind):
    assert inventory_ansible.looks_like_ini(text) == (kind == "ini")


def test_toolkit_format_is_told_from_ansible_yaml():
    assert inventory_ansible.is_ansible_yaml({"all": None})
    assert inventory_ansible.is_ansible_yaml({"gpu": {"hosts": {"a": None}}})
    assert not inventory_ansible.is_ansible_yaml({"hosts": {"a": None}})
    assert not inventory_ansible.is_ansible_yaml({"hostz": {}})       # toolkit's "did you mean 'hosts'"


@pytest.mark.parametrize("pattern, names, port", [
    ("gpu[01:04]", ["gpu01", "gpu02", "gpu03", "gpu04"], None),
    ("gpu[1:3]x", ["gpu1x", "gpu2x", "gpu3x"], None),
    ("n[a:c]", ["na", "nb", "nc"], None),
    ("n[0:6:3]", ["n0", "n3", "n6"], None),
    ("r[1:2]c[1:2]", ["r1c1", "r1c2", "r2c1", "r2c2"], None),
    ("gpu[8:10]:2222", ["gpu8", "gpu9", "gpu10"], 2222),
    ("10.0.0.5:22", ["10.0.0.5"], 22),
    ("[2001:db8::1]:2200", ["2001:db8::1"], 2200),
    ("[2001:db8::1]", ["2001:db8::1"], None),
    ("::1", ["::1"], None),
])
def test_host_patterns(pattern, names, port):
    assert inventory_ansible.host_pattern(pattern) == (names, port)


@pytest.mark.parametrize("pattern", ["gpu[01:4]", "gpu[4:1]", "gpu[1]", "gpu[0:10:0]", "gpu[c:a]", "g[0:99999999]",
                                     "g[0:200]h[0:200]", "gpu:0", "gpu:70000"])
def test_bad_host_patterns(pattern):
    with pytest.raises(ValueError):
        inventory_ansible.host_pattern(pattern)


def test_precedence_same_depth_by_name_and_priority_host_over_groups(tmp_path):
    text = ("[b]\nh1\n[a]\nh1\n[b:vars]\nansible_user=from_b\n[a:vars]\nansible_user=from_a\n"
            "[c]\nh2 ansible_user=own\n[c:vars]\nansible_user=from_c\n"
            "[d]\nh3\n[e]\nh3\n[d:vars]\nansible_user=from_d\nansible_group_priority=10\n[e:vars]\nansible_user=from_e\n"
            "[all:vars]\nansible_ssh_user=beats_ansible_user\n[x]\nh4 ansible_user=plain\n")
    found = {h.name: h.user for h in hosts(tmp_path, text)}
    # same depth: the later name (b) wins; a priority beats names; the host beats its group;
    # ansible_ssh_user beats ansible_user wherever each is set, as in Ansible
    assert found == {"h1": "beats_ansible_user", "h2": "beats_ansible_user", "h3": "beats_ansible_user",
                     "h4": "beats_ansible_user"}
    text = text.replace("[all:vars]\nansible_ssh_user=beats_ansible_user\n", "")
    found = {h.name: h.user for h in hosts(tmp_path, text)}
    assert found == {"h1": "from_b", "h2": "own", "h3": "from_d", "h4": "plain"}


def test_a_host_in_several_places_merges_and_groups_may_come_later(tmp_path):
    text = "[top:children]\nmid\n[mid:children]\nlow\n[low]\nh1 ansible_port=2201\n[mid]\nh1 ansible_host=127.0.0.1\n" \
           "[top:vars]\nansible_user=t\n[mid:vars]\nansible_user=m\n"
    (h,) = hosts(tmp_path, text)
    assert (h.hostname, h.port, h.user) == ("127.0.0.1", 2201, "m")


def test_ignored_variables_are_not_checked_and_passwords_are_noted(tmp_path, capsys):
    text = "[g]\nh1 ansible_password=secret-Zq9 ansible_become_pass='{{ vault }}' my_var='{{ lookup(\"pipe\",\"id\") }}'\n"
    (h,) = hosts(tmp_path, text)
    assert h.name == "h1"
    err = capsys.readouterr().err
    assert "ansible_password ignored" in err and "secret-Zq9" not in err


LIMITS = [
    ("a100", ["gpu01", "gpu02", "gpu03", "gpu04"]),
    ("gpu:!gpu02", ["gpu01", "gpu03", "gpu04", "hgpu1"]),
    ("gpu,!a100", ["hgpu1"]),
    ("all:&h100", ["hgpu1"]),
    ("!a100", ["bastion", "hgpu1"]),
    ("gpu0*", ["gpu01", "gpu02", "gpu03", "gpu04"]),
    ("bastion,gpu03", ["bastion", "gpu03"]),
    ("*", [e[0] for e in EXPECTED]),
    ("ungrouped", ["bastion"]),
]


@pytest.mark.parametrize("limit, names", LIMITS, ids=[x for x, _ in LIMITS])
def test_limit_patterns_as_ansible_reads_them(tmp_path, limit, names):
    from toolkit.commands.options import limit_names

    assert [h.name for h in hosts(tmp_path, INI, limit=limit_names(limit))] == names


@pytest.mark.parametrize("limit, words", [
    (("a10",), "did you mean 'a100'? groups: a100, h100, gpu"),
    (("gpu", "!nope"), "'!nope': "),
    (("a100", "&h100"), "no hosts in"),
    (("!",), "'!' without a name"),
])
def test_a_limit_that_matches_nothing_names_the_groups(tmp_path, limit, words):
    assert words in refused(tmp_path, INI, limit=limit)


@pytest.mark.parametrize("text, where", [
    ("[g]\nh1 ansible_port=70000\n", "hosts.ini:2: h1 ansible_port: port must be a number from 1 to 65535"),
    ("[g]\nh1\n[g:vars]\nansible_port=abc\n", "hosts.ini:4: [g:vars] ansible_port: port must be a number"),
    ("[g]\nh1\n[g:vars]\nansible_user=a b\n", "hosts.ini:4: [g:vars] ansible_user: invalid user name 'a b'"),
    ("[g]\nh1 ansible_host='x;y'\n", "hosts.ini:2: h1 ansible_host: invalid address"),
    ("[g]\nh1 ansible_ssh_private_key_file=/k/$x\n", "h1 ansible_ssh_private_key_file: '/k/$x' contains '$'"),
    ("[g]\nh1 ansible_user='{{ u }}'\n", "hosts.ini:2: h1 ansible_user: toolkit does not evaluate Jinja"),
    ("[g]\nh1 nokey\n", "hosts.ini:2: [g] h1: expected key=value after the host: word 2 has no '='"),
    ("[g]\nh1 ansible_user='x\n", "hosts.ini:2: [g]: cannot split the line: no closing quotation"),
    ("[g:vars]\nansible_user=x\n", "hosts.ini:1: [g:vars]: group g is not defined"),
    ("[g:children]\nmissing\n", "hosts.ini:2: [g:children]: group missing is not defined"),
    ("[g:host]\n", "hosts.ini:1: [g:host]: unknown section type 'host'"),
    ("[g:childs]\n", "unknown section type 'childs'"),
    ("[g x]\n", "hosts.ini:1: invalid section"),
    ("[g]\n[g:vars]\nnovalue\n", "hosts.ini:3: [g:vars]: expected key=value"),
    ("[a:children]\nb\n[b:children]\na\n[c]\nh\n", "child groups form a loop: a -> b -> a"),
    ("[all:children]\nall\n[x]\nh\n", "`all` cannot be a child group"),
    ("[g]\nh1 ansible_host=127.0.0.1\nh2 ansible_host=127.0.0.1\n", "hosts 'h1' and 'h2' are the same target"),
    ("[g]\ngpu[1:0]\n", "hosts.ini:2: [g] gpu[1:0]: host range [1:0] is empty"),
    ("[g]\n# nothing\n", "the inventory has no hosts"),
    ("[g]\nh1 ansible_connection=local\n", "hosts.ini:2: h1 ansible_connection (host h1): connection 'local' is not"),
    ("[g]\nh1 ansible_connection=docker\n", "connection 'docker' is not supported: toolkit reaches hosts over SSH"),
])
def test_ini_mistakes_are_located(tmp_path, text, where):
    assert where in refused(tmp_path, text)


@pytest.mark.parametrize("args, words", [
    ("-o ProxyCommand='ssh -W %h:%p bastion'", "'proxycommand' is not supported"),
    ("-o StrictHostKeyChecking=no", "--accept-new-host-keys"),
    ("-o UserKnownHostsFile=/dev/null", "--known-hosts"),
    ("-o SendEnv=X", "'sendenv' is not supported"),
    ("-F /etc/other", "ssh argument '-F' is not supported"),
    ("-J a@b -J c@d", "two different ProxyJump values"),
    ("-J 'a@b:0'", "invalid ssh port"),
    ("-J ,", "empty hop"),
])
def test_ssh_arguments_other_than_a_simple_proxy_jump_are_refused(tmp_path, args, words):
    text = f'[g]\nh1\n[g:vars]\nansible_ssh_common_args="{args}"\n' if "'" in args else \
           f"[g]\nh1\n[g:vars]\nansible_ssh_common_args={args}\n"
    msg = refused(tmp_path, text)
    assert "hosts.ini:4: [g:vars] ansible_ssh_common_args: " in msg and words in msg, msg


def test_tuning_options_and_quiet_flags_are_ignored(tmp_path):
    (h,) = hosts(tmp_path, "h1 ansible_host=127.0.0.1 ansible_ssh_extra_args='-q -C -o ControlMaster=auto "
                           "-o ServerAliveInterval=30 -oProxyJump=j@127.0.0.2'\n")
    assert h.jump is not None and h.jump.hostname == "127.0.0.2"


@pytest.mark.parametrize("text, where", [
    ("all:\n  hosts: [a, b]\n", "hosts.yml:2: all.hosts: must be a mapping, got list"),
    ("all:\n  host:\n    a:\n", "hosts.yml:2: all.host: unknown key 'host'"),
    ("all:\n  children:\n    g:\n      hots: {a: }\n", "hosts.yml:4: all.children.g.hots: unknown key 'hots'"),
    ("all:\n  hosts:\n    a: {ansible_port: '22x'}\n", "hosts.yml:3: all.hosts.a.ansible_port: port must be"),
    ("all:\n  hosts:\n    a: {ansible_port: true}\n", "all.hosts.a.ansible_port: port must be a number"),
    ("all:\n  hosts:\n    a: {ansible_host: [1]}\n", "all.hosts.a.ansible_host: address must be text, got list"),
    ("all:\n  vars:\n    ansible_user: 'x\\ny'\n  hosts: {a: }\n", "hosts.yml:3: all.vars.ansible_user: invalid user"),
    ("all:\n  children:\n    'g;x': {hosts: {a: }}\n", "hosts.yml:3: all.children.g;x: invalid group name"),
    ("all:\n  hosts:\n    'a b': \n", "all.hosts.a b: invalid host name 'a b'"),
    ("all:\n  children:\n    g: [a]\n", "hosts.yml:3: all.children.g: a group must be a mapping"),
    ("all:\n  hosts:\n    a: 5\n", "hosts.yml:3: all.hosts.a: must be a mapping, got int"),
    ("g:\n  hosts:\n    a:\n  vars: x\n", "hosts.yml:4: g.vars: must be a mapping, got str"),
    ("all:\n", "the inventory has no hosts"),
])
def test_yaml_mistakes_are_located(tmp_path, text, where):
    assert where in refused(tmp_path, text, "hosts.yml")


def test_yaml_plain_names_and_groups_outside_all(tmp_path):
    text = "gpu:\n  hosts: h1\n  children: sub\nsub:\n  hosts:\n    h2: {ansible_port: 2200}\n  vars: {ansible_user: s}\n"
    found = hosts(tmp_path, text, "hosts.yml", limit=("gpu",))
    assert [(h.name, h.port, h.user) for h in found][1:] == [("h2", 2200, "s")] and found[0].name == "h1"


def test_the_readme_examples_read_as_documented(tmp_path):
    import re

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    section = readme[readme.index("### Inventories"):]
    blocks = re.findall(r"```(ini|yaml)\n(.*?)```", section[:section.index("\n## ")], re.S)
    assert [k for k, _ in blocks] == ["ini", "yaml", "yaml"]
    ini, ansible_yaml, own = (hosts(tmp_path, text, f"example{n}.{kind}") for n, (kind, text) in enumerate(blocks))
    assert facts(ini) == facts(ansible_yaml) and [h.name for h in ini] == ["gpu01", "gpu02", "gpu03"]
    assert (ini[2].hostname, ini[2].port, ini[2].user) == ("10.0.0.13", 2222, "ubuntu")
    assert str(ini[0].jump) == "ops@bastion.example.com:22"
    assert [(h.name, h.user) for h in own] == [("gpu01", "ubuntu"), ("gpu02", "ubuntu"), ("edge", "deploy")]


# ---- the same files read by real Ansible --------------------------------------------------------

ANSIBLE_BIN = Path(sys.executable).parent


def ansible(tool: str, *args: str) -> str:
    exe = ANSIBLE_BIN / tool
    if not exe.exists() and shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed (pip install ansible-core)")
    proc = subprocess.run([str(exe) if exe.exists() else tool, *args], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "ANSIBLE_LOCAL_TEMP": "/tmp", "HOME": "/tmp"})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.process
@pytest.mark.parametrize("text, name", [(INI, "hosts.ini"), (YAML, "hosts.yml")], ids=["ini", "yaml"])
def test_real_ansible_reads_the_same_connection_values(tmp_path, text, name):
    path = write(tmp_path, text, name)
    listed = json.loads(ansible("ansible-inventory", "-i", path, "--list"))["_meta"]["hostvars"]
    theirs = [(h, v.get("ansible_host", h), int(v.get("ansible_port", 22)), v.get("ansible_user"),
               v.get("ansible_ssh_private_key_file")) for h, v in listed.items()]
    assert sorted(theirs) == sorted(EXPECTED)


@pytest.mark.process
def test_real_ansible_limits_the_same_way(tmp_path):
    from toolkit.commands.options import limit_names

    path = write(tmp_path, INI, "hosts.ini")
    for limit, names in LIMITS:
        out = ansible("ansible", "all", "-i", path, "--list-hosts", "--limit", limit)
        theirs = [line.strip() for line in out.splitlines()[1:] if line.strip()]
        ours = [h.name for h in hosts(tmp_path, INI, limit=limit_names(limit))]
        assert sorted(theirs) == sorted(ours) == sorted(names), limit
