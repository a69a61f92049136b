"""The probe's writable gatherer on this machine's file system (as whoever runs the tests); the
as-another-user paths run for real in tests/integration/test_verify.py (root dropping to the image's user)."""

from __future__ import annotations

import os
import pwd

from toolkit.verify import probe


def me() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def test_a_missing_folder_is_made_tested_and_removed_again(tmp_path):
    target = tmp_path / "cache" / "huggingface" / "hub"
    assert probe.try_write(str(target)) is None
    assert not (tmp_path / "cache").exists()          # the test leaves the target as it found it
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_keeps_only_what_it_had(tmp_path):
    (tmp_path / "kept").write_text("x")
    assert probe.try_write(str(tmp_path)) is None
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]


def test_a_file_where_a_folder_should_be(tmp_path):
    (tmp_path / ".cache").write_text("not a folder")
    assert probe.try_write(str(tmp_path / ".cache")) == f"{tmp_path / '.cache'} is not a folder"
    assert "cannot create a folder in" in probe.try_write(str(tmp_path / ".cache" / "torch"))


def test_tree_scan_stops_at_its_depth_and_skips_symlinks(tmp_path):
    (tmp_path / "a" / "b" / "c" / "d").mkdir(parents=True)
    (tmp_path / "link").symlink_to("/")
    out = probe.unwritable_under(str(tmp_path))
    assert out == {"missing": False, "unwritable": [], "truncated": False}
    assert probe.unwritable_under(str(tmp_path / "nope"))["missing"] is True


def test_owner_of_names_owner_group_and_mode(tmp_path):
    os.chmod(tmp_path, 0o750)
    text = probe.owner_of(str(tmp_path))
    assert text.startswith(f"{tmp_path} is owned by {me()}:") and text.endswith("mode 0750")


def test_as_the_probes_own_user_and_an_unknown_user(tmp_path):
    req = {"user": me(), "dirs": [str(tmp_path), str(tmp_path / "new")], "trees": [str(tmp_path)]}
    out = probe.writable(req)
    assert out["dirs"] == {str(tmp_path): None, str(tmp_path / "new"): None}
    assert out["trees"][str(tmp_path)]["unwritable"] == []
    assert probe.writable({"user": "toolkit-no-such-user", "dirs": [], "trees": []})["no_user"] is True


def test_the_request_and_the_fact_key_agree():
    from toolkit.model.checks import check
    from toolkit.verify import facts

    c = check("writable", "user", "x", user="dev", dirs=("/home/dev", "/tmp"), trees=("/home/dev",))
    req = facts.request_for([c])
    assert req["writable"] == [{"user": "dev", "dirs": ["/home/dev", "/tmp"], "trees": ["/home/dev"]}]
    assert facts.sections(c) == [probe.writable_key(req["writable"][0])] == [facts.writable_key(c.p)]


def test_permission_bits_when_the_probe_cannot_become_the_user(tmp_path):
    """Over SSH as a user whose sudo wants a password: owner and mode decide (here for `nobody`)."""
    nobody = pwd.getpwnam("nobody")
    if os.geteuid() == nobody.pw_uid:
        return
    open_dir, closed = tmp_path / "open", tmp_path / "closed"
    open_dir.mkdir()
    closed.mkdir()
    os.chmod(open_dir, 0o777)
    os.chmod(closed, 0o755)
    out = probe.bits_test({"dirs": [str(open_dir / "new"), str(closed / "new")], "trees": [str(open_dir)]}, nobody)
    assert out["dirs"][str(open_dir / "new")] is None
    assert out["dirs"][str(closed / "new")].startswith(f"nobody cannot write {closed} (")
    assert out["trees"][str(open_dir)]["unwritable"] == [] and "judged by owner and mode" in out["how"]


def test_evaluating_permission_bits_and_what_they_cannot_see():
    from toolkit.verify.eval_system import writable

    from .recorded import CHECKS, WRITABLE_KEY

    p = CHECKS["writable"].p
    base = {"dirs": {d: None for d in p["dirs"]}, "trees": {"/home/dev": {"unwritable": []}}, "how": "judged"}
    own = dict(base, hidden=["/home/dev is owned by dev:dev, mode 0750"], hidden_by_user=True)
    assert writable(p, {WRITABLE_KEY: own}).ok and "not seen: inside /home/dev" in writable(p, {WRITABLE_KEY: own}).found
    other = dict(base, hidden=["/home/dev is owned by root:root, mode 0700"], hidden_by_user=False)
    assert not writable(p, {WRITABLE_KEY: other}).ok
