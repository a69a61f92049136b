"""Shared command options (toolkit.commands.options) and what --target/--inventory/--limit choose
(toolkit.commands.targeting): the same in apply, verify and doctor."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from toolkit.cli import cli, main
from toolkit.commands import options, targeting
from toolkit.errors import EXIT_INVALID, UsageError
from toolkit.targets.address import Address

INVENTORY = """\
hosts:
  gpu01: {address: 127.0.0.1, port: 2201, user: deploy}
  gpu02: {address: 127.0.0.1, port: 2202, user: deploy}
  cpu01: {address: 127.0.0.1, port: 2203, user: deploy}
groups:
  a100: {hosts: [gpu01, gpu02]}
  empty: {hosts: []}
"""


@pytest.fixture
def inventory_file(tmp_path):
    path = tmp_path / "hosts.yaml"
    path.write_text(INVENTORY)
    return str(path)


def command(name: str) -> click.Command:
    return cli.get_command(click.Context(cli), name)


def toolkit(capsys, *args: str) -> tuple[int, str]:
    """Exit status and stderr of `toolkit ARGS` run in this process."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    return exc.value.code, capsys.readouterr().err


def names_of(command: click.Command) -> set[str]:
    return {o for p in command.params for o in p.opts}


@pytest.mark.parametrize("name", ["apply", "verify", "doctor"])
def test_apply_verify_and_doctor_take_the_same_target_and_ssh_options(name):
    cmd = command(name)
    assert {"--target", "--inventory", "--limit", "--known-hosts", "--ssh-config", "--identity",
            "--accept-new-host-keys", "--json"} <= names_of(cmd)
    assert "-t" not in {o for p in cmd.params if p.name == "targets" for o in p.opts}


@pytest.mark.parametrize("name", ["validate", "plan", "render", "build", "apply", "verify"])
def test_compat_data_is_the_one_shared_option(name):
    (param,) = [p for p in command(name).params if "--compat-data" in p.opts]
    assert param.help == "Extra compatibility data (YAML) overlaid on toolkit's own."


def test_minus_t_means_tag_in_build_only():
    assert "-t" in {o for p in command("build").params if p.name == "tag" for o in p.opts}
    (old,) = [p for p in command("verify").params if "-t" in p.opts]
    assert old.hidden and old.name == "old_targets"


def test_a_deprecated_alias_says_what_to_use_on_stderr():
    @click.command("demo")
    @options.deprecated_alias("-x", dest="xs", use="--target")
    def demo(xs):
        click.echo(",".join(xs))

    res = CliRunner().invoke(demo, ["-x", "a", "-x", "b"])
    assert res.exit_code == 0 and res.stdout == "a,b\n"
    assert "-x is deprecated: use --target" in res.stderr
    quiet = CliRunner().invoke(demo, [])
    assert quiet.exit_code == 0 and quiet.stderr == ""


@pytest.mark.parametrize("text, names", [(None, ()), ("a", ("a",)), (" a, b ,,c ", ("a", "b", "c"))])
def test_limit_names(text, names):
    assert options.limit_names(text) == names


def test_choose_parses_every_target_and_drops_repeats():
    chosen = targeting.choose(("local", "ssh://u@h:22", "docker://c", "img:1", "ssh://u@h:22"), None, None)
    assert [c.address for c in chosen] == [Address("local"), Address("ssh", "h", "u", 22), Address("docker", "c"),
                                           Address("docker-image", "img:1")]
    assert [c.label for c in chosen] == ["local", "ssh://u@h:22", "docker://c", "img:1"]


def test_choose_defaults_only_where_the_command_has_one():
    assert targeting.choose((), None, None, default="local")[0].address == Address("local")
    with pytest.raises(UsageError, match="give --target"):
        targeting.choose((), None, None)


def test_inventory_and_limit_pick_hosts_and_groups(inventory_file):
    every = targeting.choose((), inventory_file, None)
    assert [c.label for c in every] == ["gpu01", "gpu02", "cpu01"]
    assert all(c.host is not None and c.kind == "ssh" for c in every)
    group = targeting.choose((), inventory_file, "a100")
    assert [c.label for c in group] == ["gpu01", "gpu02"]
    mixed = targeting.choose((), inventory_file, "cpu01, a100")
    assert [c.label for c in mixed] == ["gpu01", "gpu02", "cpu01"]
    assert mixed[0].address == Address("ssh", "127.0.0.1", "deploy", 2201)


@pytest.mark.parametrize("limit, words", [("gpu1", "did you mean 'gpu01'?"), ("a10", "did you mean 'a100'?"),
                                          ("empty", "no hosts"), (",", "empty")])
def test_a_limit_that_names_nothing_is_a_usage_error(inventory_file, limit, words):
    with pytest.raises(UsageError) as exc:
        targeting.choose((), inventory_file, limit)
    assert words in exc.value.message + (exc.value.hint or "")


def test_target_and_inventory_together_and_limit_alone_are_refused(inventory_file):
    with pytest.raises(UsageError, match="not both"):
        targeting.choose(("local",), inventory_file, None)
    with pytest.raises(UsageError, match="--inventory"):
        targeting.choose(("local",), None, "gpu01")


def test_old_host_values_are_ssh_addresses():
    assert targeting.as_ssh(("u@h:2", "ssh://h", "docker://c")) == ("ssh://u@h:2", "ssh://h", "docker://c")


@pytest.mark.parametrize("args, words", [
    (["--target", "docker://c1"], "apply provisions hosts"),
    (["--target", "gpu01"], "ssh://gpu01"),
    (["--target", "local", "--target", "ssh://u@h"], "local cannot be combined"),
    (["--host", "u@h", "--inventory", "x.yaml"], "not both"),
    ([], "give --target"),
    (["--limit", "a"], "--inventory"),
])
def test_apply_refuses_targets_it_cannot_provision(capsys, args, words):
    code, stderr = toolkit(capsys, "apply", "base", *args)
    assert code == EXIT_INVALID, stderr
    assert words in stderr


def test_verify_minus_t_still_works_with_a_deprecation_note(capsys):
    code, stderr = toolkit(capsys, "verify", "base", "-t", "docker://-bad")
    assert code == EXIT_INVALID
    assert "-t is deprecated: use --target" in stderr and "invalid container name" in stderr


def test_verify_limit_with_an_unknown_name_is_exit_2_with_did_you_mean(capsys, inventory_file):
    code, stderr = toolkit(capsys, "verify", "base", "--inventory", inventory_file, "--limit", "gpu03")
    assert code == EXIT_INVALID
    assert "gpu03" in stderr and "did you mean" in stderr


def test_doctor_ssh_options_need_an_ssh_target(capsys, tmp_path):
    key = tmp_path / "key"
    key.write_text("x")
    code, stderr = toolkit(capsys, "doctor", "--target", "docker://c", "--identity", str(key))
    assert code == EXIT_INVALID and "only apply to SSH targets" in stderr
