"""Loading, extends merging and the resolved profile."""

from __future__ import annotations

import pytest

from toolkit.errors import ProfileError
from toolkit.profile.bundled import list_bundled
from toolkit.profile.loader import load_profile


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_extends_merges_mappings_deeply_and_child_wins(tmp_path):
    write(tmp_path, "parent.yaml", "name: parent\nuser:\n  name: alice\n  uid: 2000\ngit:\n  config:\n    a.b: one\n")
    child = write(tmp_path, "child.yaml", "name: child\nextends: ./parent.yaml\nuser:\n  uid: 3000\ngit:\n  config:\n    c.d: two\n")
    p = load_profile(child).profile
    assert p.name == "child" and p.user.name == "alice" and p.user.uid == 3000
    assert p.git.config == {"a.b": "one", "c.d": "two"}


def test_extends_appends_lists_without_duplicates(tmp_path):
    write(tmp_path, "parent.yaml", "name: parent\npackages:\n  apt: [git, curl]\n")
    child = write(tmp_path, "child.yaml", "name: child\nextends: parent.yaml\npackages:\n  apt: [curl, jq]\n")
    assert load_profile(child).profile.packages.apt == ["git", "curl", "jq"]


def test_extends_a_bundled_profile_by_name(tmp_path):
    child = write(tmp_path, "c.yaml", "name: c\nextends: base\n")
    loaded = load_profile(child)
    assert loaded.profile.git.config["init.defaultBranch"] == "main"
    assert loaded.chain[1].endswith("base.yaml")


def test_cycle_names_the_chain(tmp_path):
    write(tmp_path, "a.yaml", "name: a\nextends: ./b.yaml\n")
    write(tmp_path, "b.yaml", "name: b\nextends: ./a.yaml\n")
    with pytest.raises(ProfileError) as exc:
        load_profile(tmp_path / "a.yaml")
    msg = exc.value.problems[0].message
    assert "a.yaml -> " in msg and "b.yaml" in msg


def test_digest_is_stable_and_changes_with_content(tmp_path):
    a = write(tmp_path, "a.yaml", "name: a\n")
    b = write(tmp_path, "b.yaml", "name: a\npackages:\n  apt: [jq]\n")
    assert load_profile(a).digest == load_profile(a).digest != load_profile(b).digest


@pytest.mark.parametrize("name", [n for n, _, _ in list_bundled()])
def test_bundled_profiles_load(name):
    assert load_profile(name).profile.name == name


def test_bundled_profiles_exist():
    names = {n for n, _, _ in list_bundled()}
    assert {"base", "pytorch-cuda", "tensorflow-cuda", "datascience-cpu"} <= names
