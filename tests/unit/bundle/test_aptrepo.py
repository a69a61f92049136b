"""The bundle's apt index: stanzas from dpkg-deb's fields, deterministic Packages/Release, hostile names refused."""

from __future__ import annotations

import gzip
import hashlib

import pytest

from toolkit.bundle import aptrepo

FIELDS = """@@toolkit-deb git_1%3a2.39.5-0+deb12u3_amd64.deb
Package: git
Version: 1:2.39.5-0+deb12u3
Architecture: amd64
Description: fast, scalable, distributed revision control system
 Git is popular.
 .
 More text.
@@toolkit-deb libfoo1_2.3-4_amd64.deb
Package: libfoo1
Version: 2.3-4
Architecture: amd64
"""


def test_fields_split_per_file_and_stanza_adds_where_and_what():
    found = aptrepo.split_fields(FIELDS)
    assert sorted(found) == ["git_1%3a2.39.5-0+deb12u3_amd64.deb", "libfoo1_2.3-4_amd64.deb"]
    text = aptrepo.stanza(found["libfoo1_2.3-4_amd64.deb"], "libfoo1_2.3-4_amd64.deb", b"data")
    assert text.startswith("Package: libfoo1\n")
    assert "Filename: ./libfoo1_2.3-4_amd64.deb\nSize: 4\nSHA256: " + hashlib.sha256(b"data").hexdigest() in text
    git = aptrepo.stanza(found["git_1%3a2.39.5-0+deb12u3_amd64.deb"], "g.deb", b"x")
    assert " Git is popular.\n .\n More text.\n" in git      # continuation lines kept as they are


@pytest.mark.parametrize("name", ["../evil.deb", "a/b.deb", "x y.deb", "evil.sh", ".hidden.deb", ""])
def test_hostile_file_names_are_refused(name):
    with pytest.raises(aptrepo.IndexError_):
        aptrepo.split_fields(f"@@toolkit-deb {name}\nPackage: x\nVersion: 1\n")


def test_a_stanza_without_package_or_version_is_refused():
    with pytest.raises(aptrepo.IndexError_):
        aptrepo.stanza(["Architecture: amd64"], "x.deb", b"")
    with pytest.raises(aptrepo.IndexError_):
        aptrepo.stanza([], "x.deb", b"")


def test_index_files_are_reproducible_and_release_lists_their_hashes():
    found = aptrepo.split_fields(FIELDS)
    stanzas = {n: aptrepo.stanza(lines, n, n.encode()) for n, lines in found.items()}
    one = aptrepo.index_files(stanzas, "toolkit", 1767225600)
    two = aptrepo.index_files(dict(reversed(list(stanzas.items()))), "toolkit", 1767225600)
    assert one == two
    assert gzip.decompress(one["Packages.gz"]) == one["Packages"]
    release = one["Release"].decode()
    assert "Date: Thu, 01 Jan 2026 00:00:00 UTC" in release
    for name in ("Packages", "Packages.gz"):
        assert f" {hashlib.sha256(one[name]).hexdigest()} {len(one[name])} {name}\n" in release
    assert one["Packages"].decode().index("Package: git\n") < one["Packages"].decode().index("Package: libfoo1\n")
