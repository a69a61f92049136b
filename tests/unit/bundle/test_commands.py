"""`toolkit bundle`, `apply --bundle` and `build --bundle` refuse what they cannot do with exit 2, before any
engine, index or host is asked anything."""

from __future__ import annotations

import pytest

from tests.unit.lock.fake_lock import fake_lock
from toolkit.cli import main
from toolkit.lock import lockfile
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile


def run(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    got = capsys.readouterr()
    return exc.value.code, got.out + got.err


def test_a_gpu_host_profile_is_refused_naming_what_is_missing(tmp_path, capsys):
    code, output = run(capsys, "bundle", "pytorch-cuda", "-o", str(tmp_path / "b"))
    assert code == 2 and "NVIDIA driver" in output and "cannot carry" in output
    assert "Traceback" not in output and not (tmp_path / "b").exists()


def test_missing_and_stale_locks_are_refused(tmp_path, capsys):
    profile = tmp_path / "team.yaml"
    profile.write_text("name: team\nextends: datascience-cpu\n")
    code, output = run(capsys, "bundle", str(profile), "-o", str(tmp_path / "b"))
    assert code == 2 and "no lock file" in output
    lockfile.write(tmp_path / "team.lock", fake_lock(build_plan(load_profile(profile))))
    profile.write_text("name: team\nextends: datascience-cpu\npackages:\n  pip: [rich]\n")
    code, output = run(capsys, "bundle", str(profile), "-o", str(tmp_path / "b"))
    assert code == 2 and "no longer matches" in output and "rich" in output
    assert not (tmp_path / "b").exists()


def test_bad_with_image_tag_is_refused(tmp_path, capsys):
    code, output = run(capsys, "bundle", "datascience-cpu", "-o", str(tmp_path / "b"), "--with-image", "Bad Tag;rm")
    assert code == 2 and "--with-image" in output


@pytest.mark.parametrize("command", [
    ("apply", "datascience-cpu", "--host", "root@127.0.0.1:1"),
    ("build", "datascience-cpu", "-t", "x/y:1"),
])
def test_a_folder_that_is_no_bundle_is_refused(tmp_path, capsys, command):
    (tmp_path / "notabundle").mkdir()
    code, output = run(capsys, *command, "--bundle", str(tmp_path / "notabundle"))
    assert code == 2 and "no bundle there" in output


def test_build_bundle_needs_buildkit_and_its_own_network(tmp_path, capsys):
    for extra in (("--no-buildkit",), ("--network", "host"), ("--base-image", "debian:12")):
        code, output = run(capsys, "build", "datascience-cpu", "-t", "x/y:1", "--bundle", str(tmp_path), *extra)
        assert code == 2, output


def test_ansible_engine_with_a_bundle_refuses_dry_run_and_a_bundle_without_its_playbook(tmp_path, capsys):
    code, output = run(capsys, "apply", "datascience-cpu", "--host", "root@127.0.0.1:1", "--engine", "ansible",
                       "--bundle", str(tmp_path), "--dry-run")
    assert code == 2 and "native engine only" in output
    (tmp_path / "SHA256SUMS").write_text("")
    (tmp_path / "manifest.json").write_text("{}")
    code, output = run(capsys, "apply", "datascience-cpu", "--host", "root@127.0.0.1:1", "--engine", "ansible",
                       "--bundle", str(tmp_path))
    assert code == 2 and "no Ansible playbook (ansible/playbook.yml)" in output and "Traceback" not in output
