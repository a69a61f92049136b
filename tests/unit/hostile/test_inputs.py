"""Hostile input files, through the real CLI: every YAML input (profile, extends target, inventory,
--compat-data) against alias bombs, deep nesting and non-text keys; every file input (those, ssh
config, known_hosts, CA files) against devices, FIFOs, folders, symlink loops, non-UTF-8 and
oversized files; secrets in files that are not profiles; private keys in CA files.

Each run must end with exit 2, name the file (and the line where there is one), print no
traceback and no raw control character, and not hang: a SIGALRM guard fails the test after
GUARD_S seconds (a hang guard, not a benchmark)."""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
from pathlib import Path

import pytest

from tests.unit.certs import ca_pair
from toolkit.cli import main

CASES = Path(__file__).parent / "cases" / "inputs"
GUARD_S = 10
NO_HOST = "ssh://u@127.0.0.1:1"       # never reached: every case is refused before connecting


def bomb() -> str:
    lines = ["name: t", "a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


YAML_PAYLOADS = {
    "alias-bomb": (bomb, "alias bomb"),
    "deep-flow": (lambda: "name: t\nx: " + "[" * 20000 + "]" * 20000 + "\n", "nesting deeper"),
    "deep-flow-maps": (lambda: "name: t\nx: " + "{a: " * 20000 + "1" + "}" * 20000 + "\n", "nesting deeper"),
    "deep-block": (lambda: "name: t\n" + "".join(" " * i + f"k{i}:\n" for i in range(1000)), "nesting deeper"),
    "deep-block-lists": (lambda: "name: t\nx:\n" + "- " * 20000 + "1\n", "nesting deeper"),
    "null-key": (lambda: "name: t\nhosts:\n  ~: x\n", "read as null"),
    "list-key": (lambda: "name: t\n[a, b]: x\n", "found a list"),
}


def argv_for(kind: str, target: str, tmp: Path) -> list[str]:
    """The command that hands `target` to toolkit as `kind`."""
    empty = tmp / "empty_ssh_config"
    empty.touch()
    if kind == "profile":
        return ["validate", target]
    if kind == "extends":
        (tmp / "child.yaml").write_text(f"name: child\nextends: ./{target}\n")
        return ["validate", "child.yaml"]
    if kind == "inventory":
        return ["apply", "datascience-cpu", "--inventory", target, "--ssh-config", str(empty)]
    if kind == "compat-data":
        return ["validate", "datascience-cpu", "--compat-data", target]
    if kind == "ssh-config":
        return ["apply", "datascience-cpu", "--host", NO_HOST, "--ssh-config", target]
    if kind == "verify-ssh-config":
        return ["verify", "datascience-cpu", "-t", NO_HOST, "--ssh-config", target]
    if kind == "known-hosts":
        return ["apply", "datascience-cpu", "--host", NO_HOST, "--ssh-config", str(empty), "--known-hosts", target]
    if kind == "known-hosts-ansible":
        return ["apply", "datascience-cpu", "--engine", "ansible", "--host", NO_HOST, "--ssh-config", str(empty),
                "--known-hosts", target]
    if kind == "ssh-config-known-hosts":
        (tmp / "cfg").write_text(f"Host *\n  UserKnownHostsFile {tmp / target}\n")
        return ["apply", "datascience-cpu", "--host", NO_HOST, "--ssh-config", str(tmp / "cfg")]
    if kind == "ca-file":
        (tmp / "ca-profile.yaml").write_text(f"name: t\nextends: datascience-cpu\nnetwork:\n  ca_certificates: [{target}]\n")
        return ["validate", "ca-profile.yaml"]
    raise AssertionError(kind)


def run(argv: list[str], capsys) -> tuple[int, str]:
    def hung(*_):
        raise TimeoutError(f"toolkit {' '.join(argv)[:200]} still running after {GUARD_S}s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(GUARD_S)
    try:
        with pytest.raises(SystemExit) as exc:
            main(argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    captured = capsys.readouterr()
    return exc.value.code, captured.out + captured.err


def assert_refused(code: int, text: str, needle: str, *, file: str, line: bool) -> None:
    assert code == 2, text
    assert "Traceback" not in text, text
    assert re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]", text) is None, repr(text)
    assert needle.lower() in text.lower(), text
    assert file in text, text
    if line:
        assert re.search(re.escape(file) + r":\d+(:\d+)?: ", text), text


# ---- YAML bombs, deep nesting and non-text keys, in each YAML input -----------------------------

@pytest.mark.parametrize("payload", YAML_PAYLOADS)
@pytest.mark.parametrize("kind", ["profile", "extends", "inventory", "compat-data"])
def test_hostile_yaml_in_every_yaml_input(kind, payload, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    make, needle = YAML_PAYLOADS[payload]
    (tmp_path / "payload.yaml").write_text(make())
    code, text = run(argv_for(kind, "payload.yaml", tmp_path), capsys)
    assert_refused(code, text, needle, file="payload.yaml", line=True)


# ---- file-type abuse, in each file input --------------------------------------------------------

def _symlink(target: str):
    return lambda p: p.symlink_to(target)


def _sparse(size: int):
    def make(p: Path) -> None:
        with open(p, "wb") as fh:
            fh.truncate(size)
    return make


FILE_KINDS = {
    "dev-zero": (_symlink("/dev/zero"), "character device"),
    "dev-urandom": (_symlink("/dev/urandom"), "character device"),
    "fifo": (lambda p: os.mkfifo(p), "FIFO"),
    "directory": (lambda p: p.mkdir(), "directory"),
    "symlink-loop": (_symlink("x.yaml"), "symlink loop"),
    "dangling-symlink": (_symlink("nowhere.yaml"), "not found"),
    "non-utf8": (lambda p: p.write_bytes(b"name: t\nhosts: {}\n# caf\xe9\n"), "not UTF-8"),
    "oversized": (_sparse(20 * 1024 * 1024), "more than"),
    "missing": (lambda p: None, "not found"),
}
FILE_INPUTS = ["profile", "extends", "inventory", "compat-data", "ssh-config", "verify-ssh-config", "known-hosts",
               "known-hosts-ansible", "ssh-config-known-hosts", "ca-file"]


@pytest.mark.parametrize("what", FILE_KINDS)
@pytest.mark.parametrize("kind", FILE_INPUTS)
def test_file_type_abuse_in_every_file_input(kind, what, tmp_path, monkeypatch, capsys):
    if kind.startswith(("known-hosts", "ssh-config-known")) and what == "missing":
        pytest.skip("a missing known_hosts file is created on first use, as ssh does")
    monkeypatch.chdir(tmp_path)
    make, needle = FILE_KINDS[what]
    make(tmp_path / "x.yaml")
    code, text = run(argv_for(kind, "x.yaml", tmp_path), capsys)
    if kind in ("known-hosts", "known-hosts-ansible", "ssh-config", "verify-ssh-config") and what == "directory":
        needle = "is a directory"          # click's own check (dir_okay=False) comes first; still exit 2
    if kind == "ca-file" and what == "non-utf8":
        needle = "holds no PEM certificate"   # a CA file is read as bytes: only its PEM blocks matter
    # errors about the file itself are located where another file names it (extends, a CA path)
    named_in = {"extends": "child.yaml", "ca-file": "ca-profile.yaml"}.get(kind)
    if kind == "extends" and what == "non-utf8":
        named_in = None                    # read fine as a file: the problem is in its text, at its line
    assert_refused(code, text, needle, file=named_in or "x.yaml",
                   line=bool(named_in) or (what == "non-utf8" and kind != "ca-file"))


# ---- secrets in files that are not profiles -----------------------------------------------------

SECRET_PARTS = ("$6$", "HOSTILE", "SECRET", "$y$", "19700")


def test_extends_refuses_a_file_that_is_not_yaml(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copy(CASES / "shadow", "shadow")
    shutil.copy(CASES / "extends-shadow.yaml", "child.yaml")
    code, text = run(["validate", "child.yaml"], capsys)
    assert_refused(code, text, "can only extend a .yaml or .yml profile", file="child.yaml", line=True)
    assert not [s for s in SECRET_PARTS if s in text], text


@pytest.mark.parametrize("kind", ["extends", "profile", "inventory", "compat-data"])
def test_secret_lines_read_as_keys_are_never_echoed(kind, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copy(CASES / "shadow", "shadow.yaml")         # renamed: it now passes the .yaml rule
    code, text = run(argv_for(kind, "shadow.yaml", tmp_path), capsys)
    assert code == 2 and "Traceback" not in text, text
    assert "shadow.yaml" in text, text
    assert not [s for s in SECRET_PARTS if s in text], text


# ---- keys that are not text, or not printable ---------------------------------------------------

@pytest.mark.parametrize("case, needle", [
    ("null-env-key.yaml", "read as null"),
    ("list-key.yaml", "found a list"),
    ("paren-key.yaml", "(x): unknown key"),
    ("escape-key.yaml", "unknown key"),
])
def test_odd_keys_are_located_errors(case, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copy(CASES / case, case)
    code, text = run(["validate", case], capsys)
    assert_refused(code, text, needle, file=case, line=True)
    if case == "paren-key.yaml":
        assert "a[b]: unknown key" in text
    if case == "escape-key.yaml":
        assert "\\x1b]0;pwned\\x07" in text and "\\u202e" in text


@pytest.mark.parametrize("name", ["a" * 5000, "x" * 300 + "/y.yaml", "../" * 2000 + "etc/passwd"])
def test_overlong_and_odd_profile_names(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, text = run(["validate", name], capsys)
    assert code == 2 and "Traceback" not in text, text
    assert len(text) < 2000, text


def test_extends_an_overlong_bundled_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("child.yaml").write_text("name: c\nextends: " + "b" * 5000 + "\n")
    code, text = run(["validate", "child.yaml"], capsys)
    assert_refused(code, text, "not found", file="child.yaml", line=True)
    assert len(text) < 2000


# ---- --compat-data mistakes ---------------------------------------------------------------------

@pytest.mark.parametrize("body, needle", [
    ("pytorch: [1\n", "not valid YAML"),
    ("cuda: {families: {x: 1}}\n", "cuda.families.x"),
    ("schema_version: 99\n", "schema_version"),
    ("- a list\n", "top level must be a mapping"),
    ("cuda:\n  minors:\n    12.10: {}\n", "quoted strings"),
])
def test_compat_data_errors_name_file_and_line(body, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("overlay.yaml").write_text(body)
    code, text = run(["plan", "datascience-cpu", "--compat-data", "overlay.yaml"], capsys)
    assert_refused(code, text, needle, file="overlay.yaml", line=True)


# ---- CA files -----------------------------------------------------------------------------------

def _rendered_text(folder: Path) -> str:
    """Every rendered file, with setup.sh's base64 heredocs decoded too."""
    parts = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", errors="replace")
        parts.append(text)
        for block in re.findall(r"<<'TOOLKIT_BASE64'\n(.*?)\nTOOLKIT_BASE64", text, flags=re.S):
            parts.append(base64.b64decode(block).decode("utf-8", errors="replace"))
    return "\n".join(parts)


def test_ca_file_with_a_private_key_renders_only_the_certificate(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cert, key = ca_pair()
    Path("corp-ca.pem").write_text("# our proxy\n" + cert + "\n" + key)
    Path("p.yaml").write_text("name: t\nextends: datascience-cpu\nnetwork:\n  ca_certificates: [corp-ca.pem]\n")
    key_lines = [ln for ln in key.splitlines() if "-----" not in ln]
    code, text = run(["validate", "p.yaml"], capsys)
    assert code == 0 and "private key" in text and "left out" in text, text
    assert not [ln for ln in key_lines if ln in text]
    for out, extra in (("out", []), ("out-legacy", ["--no-buildkit"])):
        code, text = run(["render", "p.yaml", "-o", out, *extra], capsys)
        assert code == 0, text
        rendered = _rendered_text(tmp_path / out)
        assert "PRIVATE KEY" not in rendered
        assert not [ln for ln in key_lines if ln in rendered]
        assert cert.strip() in rendered                    # the certificate itself is installed
        assert "our proxy" not in rendered                 # nothing but certificate blocks survives


@pytest.mark.parametrize("content, needle", [
    (lambda: ca_pair()[1], "holds no PEM certificate"),
    (lambda: (CASES / "ca-garbage.pem").read_text(), "not valid X.509"),
    (lambda: "-----BEGIN CERTIFICATE-----\n" * 30000, "not valid X.509"),
    (lambda: "just text\n", "holds no PEM certificate"),
], ids=["key-only", "garbage-block", "many-begins", "no-pem"])
def test_ca_files_without_certificates_are_refused(content, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("ca.pem").write_text(content())
    Path("p.yaml").write_text("name: t\nnetwork:\n  ca_certificates: [ca.pem]\n")
    code, text = run(["validate", "p.yaml"], capsys)
    assert_refused(code, text, needle, file="p.yaml", line=True)
    assert "PRIVATE" not in text and "MIG" not in text


@pytest.mark.parametrize("device", ["/dev/urandom", "/dev/zero"])
def test_ca_file_that_is_a_device(device, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("p.yaml").write_text(f"name: t\nnetwork:\n  ca_certificates: [{device}]\n")
    code, text = run(["validate", "p.yaml"], capsys)
    assert_refused(code, text, "character device", file="p.yaml", line=True)
