"""The bundle folder: taken when new, empty or toolkit's; anything else refused; only toolkit's files pruned."""

from __future__ import annotations

import pytest

from toolkit.bundle import folder, layout
from toolkit.bundle.plan import BundleError


def test_new_and_empty_folders_are_taken_and_marked(tmp_path):
    assert folder.claim(tmp_path / "new") == set()
    assert (tmp_path / "new" / layout.MARKER).is_file()
    (tmp_path / "empty").mkdir()
    assert folder.claim(tmp_path / "empty") == set()


def test_a_folder_toolkit_did_not_make_is_refused_untouched(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(BundleError, match="not made by toolkit bundle"):
        folder.claim(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(BundleError, match="not a folder"):
        folder.claim(tmp_path / "file")
    (tmp_path / "link").symlink_to(tmp_path)
    with pytest.raises(BundleError, match="not a folder"):
        folder.claim(tmp_path / "link")


def test_an_earlier_bundle_is_pruned_of_its_own_files_only(tmp_path):
    root = tmp_path / "b"
    folder.claim(root)
    (root / "wheels").mkdir()
    for name in ("old.whl", "kept.whl", "theirs.whl"):
        (root / "wheels" / name).write_text(name)
    (root / "wheels" / "linked.whl").symlink_to(tmp_path / "outside")
    (tmp_path / "outside").write_text("keep me")
    (root / layout.SUMS).write_text("".join(f"{'0' * 64}  wheels/{n}\n" for n in ("old.whl", "kept.whl", "linked.whl")))
    earlier = folder.claim(root)
    assert earlier == {"wheels/old.whl", "wheels/kept.whl", "wheels/linked.whl"}
    gone = folder.prune(root, earlier, {"wheels/kept.whl"})
    assert gone == ["wheels/old.whl"]
    assert sorted(p.name for p in (root / "wheels").iterdir()) == ["kept.whl", "linked.whl", "theirs.whl"]
    assert (tmp_path / "outside").read_text() == "keep me"
