"""`toolkit doctor --save-facts`: the raw probe output saved for a bug report, without credentials."""

from __future__ import annotations

import json
import stat

import pytest

from toolkit.commands.doctor_cmd import write_facts
from toolkit.errors import UsageError


def test_saved_facts_mask_url_credentials_and_are_private(tmp_path):
    raw = {"files": {"/etc/docker/daemon.json": '{"proxies": {"http-proxy": "http://bob:s3cr3t@proxy:3128"}}'},
           "env": {"X": "https://tok@host/path@x"}, "lspci": "https://example.com/a@b"}
    path = tmp_path / "facts.json"
    write_facts(raw, str(path))
    text = path.read_text()
    assert "s3cr3t" not in text and "bob" not in text and "tok@" not in text
    saved = json.loads(text)
    assert "http://***@proxy:3128" in saved["files"]["/etc/docker/daemon.json"]
    assert saved["lspci"] == "https://example.com/a@b"  # an @ in a path is not a credential
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_unwritable_path_is_a_usage_error(tmp_path):
    (tmp_path / "plain").write_text("a file, not a folder")
    with pytest.raises(UsageError, match="cannot write --save-facts"):
        write_facts({}, str(tmp_path / "plain" / "facts.json"))


def test_a_file_toolkit_did_not_write_is_kept_unless_force(tmp_path):
    path = tmp_path / "facts.json"
    path.write_text("mine")
    with pytest.raises(UsageError, match="--force"):
        write_facts({}, str(path))
    assert path.read_text() == "mine"
    write_facts({"a": 1}, str(path), force=True)
    write_facts({"a": 2}, str(path))          # toolkit's own file now: replaced without --force
    assert json.loads(path.read_text()) == {"a": 2}
