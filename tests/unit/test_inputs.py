"""toolkit.inputs: the one path every user file takes (reading limits, YAML limits, safe echoes)."""

from __future__ import annotations

import os
import socket

import pytest
import yaml

from toolkit import inputs
from toolkit.errors import EXIT_INVALID


def bomb(levels: int = 9, width: int = 10) -> str:
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def reason(exc_info) -> str:
    return exc_info.value.message


# ---- reading ------------------------------------------------------------------------------------

def test_reads_a_regular_file_and_a_symlink_to_one(tmp_path):
    (tmp_path / "a.yaml").write_text("name: t\n")
    (tmp_path / "link.yaml").symlink_to("a.yaml")
    assert inputs.read_text(tmp_path / "a.yaml", what="profile") == "name: t\n"
    assert inputs.read_bytes(tmp_path / "link.yaml", what="profile") == b"name: t\n"


@pytest.mark.parametrize("make, needle", [
    (lambda d: d, "is a directory"),
    (lambda d: (os.mkfifo(d / "fifo"), d / "fifo")[1], "is a FIFO"),
    (lambda d: "/dev/zero", "is a character device"),
    (lambda d: "/dev/urandom", "is a character device"),
    (lambda d: ((d / "loop").symlink_to("loop"), d / "loop")[1], "symlink loop"),
    (lambda d: d / "missing", "no such file"),
    (lambda d: d / ("x" * 5000), "file name too long"),
    (lambda d: ((d / "f").write_text(""), d / "f" / "below")[1], "not a folder"),
], ids=["directory", "fifo", "dev-zero", "dev-urandom", "symlink-loop", "missing", "long-name", "under-a-file"])
def test_refuses_what_is_not_a_readable_regular_file(tmp_path, make, needle):
    path = make(tmp_path)
    with pytest.raises(inputs.InputError) as exc:
        inputs.read_bytes(path, what="profile")
    assert needle in reason(exc)
    assert exc.value.exit_code == EXIT_INVALID
    assert reason(exc).startswith("profile ")


def test_refuses_a_socket(tmp_path):
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "s"))
        with pytest.raises(inputs.InputError, match="is a socket"):
            inputs.read_bytes(tmp_path / "s", what="inventory")
    finally:
        sock.close()


def test_size_cap_is_checked_before_reading(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(10 * inputs.MiB)       # sparse: costs no disk, would cost memory if read
    with pytest.raises(inputs.InputError, match="more than the 1048576 allowed"):
        inputs.read_bytes(big, what="profile")
    exact = tmp_path / "exact"
    exact.write_bytes(b"x" * 100)
    assert len(inputs.read_bytes(exact, what="CA file", limit=100)) == 100
    with pytest.raises(inputs.InputError, match="more than the 99 allowed"):
        inputs.read_bytes(exact, what="CA file", limit=99)


def test_not_utf8_names_line_and_byte(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: t\nuser:\n  name: \xff\n")
    with pytest.raises(inputs.InputError) as exc:
        inputs.read_text(bad, what="inventory", display="bad.yaml")
    assert reason(exc).startswith("inventory bad.yaml:3: is not UTF-8 text (byte 22)")
    assert exc.value.line == 3


def test_display_name_of_a_hostile_path_is_escaped(tmp_path):
    with pytest.raises(inputs.InputError) as exc:
        inputs.read_bytes(tmp_path / "a\x1b[2Jb", what="profile")
    assert "\x1b" not in reason(exc) and "\\x1b[2Jb" in reason(exc)


# ---- what errors may echo -----------------------------------------------------------------------

def test_shown_escapes_control_and_bidi_characters_and_caps_length():
    assert inputs.shown("a\x1b[31m\x07\r\u202eb") == "a\\x1b[31m\\x07\\r\\u202eb"
    long = inputs.shown("k" * 500, 10)
    assert long.startswith("k" * 10 + "...") and "500 characters" in long and len(long) < 40


@pytest.mark.parametrize("key, shown", [
    ("pyton", "pyton"), ("user.name; id", "user.name; id"), ("e\x1bx", "e\\x1bx"),
    ("root:$6$salt$hash:19000:0:99999:7:::", "<a key of 36 characters>"),
    ("API_TOKEN=abc", "<a key of 13 characters>"), ("k" * 41, "<a key of 41 characters>"),
])
def test_key_names_are_short_and_never_secret_looking(key, shown):
    assert inputs.key_name(key) == shown


# ---- YAML ---------------------------------------------------------------------------------------

def test_anchors_aliases_and_merge_keys_still_work():
    doc = inputs.parse_yaml("base: &b {user: dev, port: 22}\nhost: {<<: *b, port: 2222}\nlist: [*b, *b]\n", "f")
    assert doc.data["host"] == {"user": "dev", "port": 2222}
    assert doc.data["list"] == [{"user": "dev", "port": 22}] * 2


def test_alias_bomb_is_refused_at_its_line():
    with pytest.raises(inputs.InputError) as exc:
        inputs.parse_yaml("name: t\n" + bomb(), "bomb.yaml", "inventory")
    assert "alias bomb" in reason(exc)
    assert exc.value.file == "bomb.yaml" and exc.value.line is not None and exc.value.line > 1


def test_node_limit_counts_expansion_not_text():
    small = bomb(levels=3)                       # 10**4 leaves: fine
    assert len(inputs.parse_yaml(small, "f").data["a3"]) == 10

    class Tight(inputs.SafeLimitedLoader):
        max_nodes = 1000
    with pytest.raises(yaml.YAMLError, match="more than 1000 nodes"):
        yaml.load(small, Loader=Tight)  # noqa: S506 - a SafeLoader subclass


@pytest.mark.parametrize("text", [
    "x: " + "[" * 20000 + "]" * 20000 + "\n",
    "x: " + "{a: " * 20000 + "1" + "}" * 20000 + "\n",
    "".join(" " * i + f"k{i}:\n" for i in range(200)),
    "x:\n" + "- " * 5000 + "1\n",
], ids=["flow-lists", "flow-maps", "block-maps", "block-lists"])
def test_deep_nesting_is_refused_without_recursion_error(text):
    with pytest.raises(inputs.InputError) as exc:
        inputs.parse_yaml(text, "deep.yaml")
    assert "nesting deeper than 64 levels" in reason(exc) and exc.value.line is not None


def test_recursive_alias_is_refused():
    with pytest.raises(inputs.InputError, match="contains it"):
        inputs.parse_yaml("a: &a [1, *a]\n", "f")


@pytest.mark.parametrize("text, needle", [
    ("env: {~: x}\n", "key ~ is read as null"),
    ("env: {null: x}\n", "key null is read as null"),
    ("12.10: x\n", 'write "12.10"'),
    ("on: x\n", "key on is read as bool"),
    ("1: x\n", "read as int"),
    ("[a]: x\n", "found a list"),
    ("{a: 1}: x\n", "found a mapping"),
    ("? [a, b]\n: x\n", "found a list"),
])
def test_keys_must_be_text(text, needle):
    with pytest.raises(inputs.InputError) as exc:
        inputs.parse_yaml(text, "keys.yaml")
    assert needle in reason(exc) and "quoted strings" in reason(exc)
    assert exc.value.line is not None


def test_quoted_keys_and_strings_that_look_odd_are_fine():
    assert inputs.parse_yaml('"12.10": x\n"~": y\n"(x)": z\n', "f").data == {"12.10": "x", "~": "y", "(x)": "z"}


def test_yaml_errors_never_echo_the_line():
    secret = "hunter2-SECRET"
    with pytest.raises(inputs.InputError) as exc:
        inputs.parse_yaml(f"password: {secret}\n  bad: [\n", "f.yaml")
    assert secret not in reason(exc) and exc.value.line == 2


def test_control_character_in_file_is_located():
    with pytest.raises(inputs.InputError) as exc:
        inputs.parse_yaml("a: 1\nb: x\x07y\n", "f.yaml")
    assert exc.value.line == 2 and "#x0007" in reason(exc)


def test_position_of_a_path():
    doc = inputs.parse_yaml("a:\n  b:\n    - x\n    - y\n", "f")
    assert doc.position(("a", "b", 1)) == (4, 7)
    assert doc.position(("a", "nope")) == (1, 1)
    assert doc.position(()) == (1, 1)
    assert inputs.parse_yaml("", "f").position(("a",)) is None


def test_load_yaml_reads_through_the_same_checks(tmp_path):
    os.mkfifo(tmp_path / "inv.yaml")
    with pytest.raises(inputs.InputError, match="FIFO"):
        inputs.load_yaml(tmp_path / "inv.yaml", what="inventory")
    (tmp_path / "ok.yaml").write_text("hosts: {a: {}}\n")
    assert inputs.load_yaml(tmp_path / "ok.yaml", what="inventory").data == {"hosts": {"a": {}}}
