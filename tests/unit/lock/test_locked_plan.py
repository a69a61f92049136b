"""A plan plus its lock: pinned OS packages, hashed requirement files, FROM by digest, exact-version
checks; a stale lock is refused naming what changed and the command that refreshes it."""

from __future__ import annotations

import dataclasses

import pytest

from toolkit.cli import main
from toolkit.lock import lockfile, requests, stale
from toolkit.lock.apply import LOCK_LABEL, locked_plan
from toolkit.lock.checks import locked_checks
from toolkit.model.steps import Metadata, OsPackages, PipInstall, WriteFile
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile

from .fake_lock import DIGEST, fake_lock


@pytest.fixture(scope="module")
def plan():
    return build_plan(load_profile("datascience-cpu"))


def test_every_package_is_pinned(plan):
    lock = fake_lock(plan)
    locked = locked_plan(plan, lock)
    assert locked.target.base_image.endswith("@" + DIGEST)
    os_steps = [s for s in locked.steps if isinstance(s, OsPackages)]
    assert os_steps and all("=" in p for s in os_steps for p in s.packages)
    assert "libfoo1=2.3-4+deb12u1" in os_steps[0].packages      # a dependency, pinned with its first step
    pips = [s for s in locked.steps if isinstance(s, PipInstall)]
    assert pips and all(s.requirement_file and all("==" in r for r in s.requirements) for s in pips)
    for pip in pips:
        write = locked.steps[locked.steps.index(pip) - 1]
        assert isinstance(write, WriteFile) and write.path == pip.requirement_file
        assert "--hash=sha256:" in write.content
    meta = next(s for s in locked.steps if isinstance(s, Metadata))
    assert dict(meta.labels)[LOCK_LABEL].startswith("sha256:")


def test_a_local_base_image_keeps_its_tag(plan):
    locked = locked_plan(plan, fake_lock(plan, kind="image-id"))
    assert locked.target.base_image == plan.target.base_image


def test_a_step_whose_packages_came_earlier_is_dropped(plan):
    lock = fake_lock(plan)
    last = [p.step for p in lock.pip][-1]
    lock = dataclasses.replace(lock, pip=tuple(p for p in lock.pip if p.step != last))
    locked = locked_plan(plan, lock)
    assert len([s for s in locked.steps if isinstance(s, PipInstall)]) == \
        len([s for s in plan.steps if isinstance(s, PipInstall)]) - 1


def test_exact_version_checks_for_every_locked_package(plan):
    lock = fake_lock(plan)
    checks = locked_checks(plan, lock)
    kinds = [c.kind for c in checks]
    engine = [p for p in lock.os_packages if p.step == requests.ENGINE_STEP]
    assert {p.name for p in engine} == {"python3-apt", "python3-packaging"}
    # the Ansible engine's prerequisites are locked (bundles carry them) but no plan step installs them
    assert kinds.count("os_package_version") == len(lock.os_packages) - len(engine)
    assert kinds.count("pip_version") == len(lock.pip)
    assert len({c.id for c in checks}) == len(checks)


def test_the_engine_prerequisites_are_not_pinned_into_any_step(plan):
    locked = locked_plan(plan, fake_lock(plan))
    assert not [p for s in locked.steps if isinstance(s, OsPackages) for p in s.packages
                if p.startswith(("python3-apt", "python3-packaging"))]
    assert ("os packages / " + requests.ENGINE_STEP, "python3-apt python3-packaging") in requests.summary(plan)


def test_fresh_lock_has_no_changes(plan):
    assert stale.changes(fake_lock(plan), plan) == []


def test_stale_lock_names_what_changed(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text("name: p\nextends: datascience-cpu\npackages:\n  pip: [rich]\n", encoding="utf-8")
    before = build_plan(load_profile(profile))
    lock = fake_lock(before)
    profile.write_text("name: p\nextends: datascience-cpu\npackages:\n  pip: [rich, httpx]\n  apt: [curl]\n",
                       encoding="utf-8")
    after = build_plan(load_profile(profile))
    changed = "\n".join(stale.changes(lock, after))
    assert "+httpx" in changed and "+curl" in changed


def test_a_lock_made_on_the_old_runtime_base_is_stale_and_a_locked_gpu_plan_keeps_the_nvidia_env():
    """GPU profiles moved from nvidia/cuda:*-runtime to the plain OS image (issue 21): a lock that recorded the
    runtime tag names the change; a lock made now pins the plain image by digest and keeps the NVIDIA variables."""
    plan = build_plan(load_profile("pytorch-cuda"))
    old = dataclasses.replace(plan, target=dataclasses.replace(
        plan.target, base_image="nvidia/cuda:12.6.3-runtime-ubuntu22.04", image_env=()))
    changed = "\n".join(stale.changes(fake_lock(old), plan))
    assert "base_image: +ubuntu:22.04, -nvidia/cuda:12.6.3-runtime-ubuntu22.04" in changed
    locked = locked_plan(plan, fake_lock(plan))
    assert locked.target.base_image == f"ubuntu@{DIGEST}" and locked.target.image_env == plan.target.image_env


def test_digest_only_change_is_still_stale(plan):
    lock = dataclasses.replace(fake_lock(plan), profile_digest="sha256:other")
    assert "digest" in stale.changes(lock, plan)[0]


class Result:
    def __init__(self, code, output):
        self.exit_code, self.output = code, output


def run(capsys, *args: str) -> Result:
    """`toolkit ARGS` in this process: exit status and stdout + stderr."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    got = capsys.readouterr()
    return Result(exc.value.code, got.out + got.err)


def _write(tmp_path, text):
    profile = tmp_path / "team.yaml"
    profile.write_text(text, encoding="utf-8")
    return profile


def test_render_locked_refuses_a_missing_or_stale_lock(tmp_path, capsys):
    profile = _write(tmp_path, "name: team\nextends: datascience-cpu\n")
    res = run(capsys, *["render", str(profile), "--locked", "-o", str(tmp_path / "out")])
    assert res.exit_code == 2 and "no lock file" in res.output and "toolkit lock" in res.output
    lockfile.write(tmp_path / "team.lock", fake_lock(build_plan(load_profile(profile))))
    res = run(capsys, *["render", str(profile), "--locked", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "--require-hashes" in (tmp_path / "out" / "Dockerfile").read_text()
    _write(tmp_path, "name: team\nextends: datascience-cpu\npackages:\n  pip: [rich]\n")
    res = run(capsys, *["render", str(profile), "--locked", "-o", str(tmp_path / "out2")])
    assert res.exit_code == 2, res.output
    assert "team.lock no longer matches" in res.output and "new (rich)" in res.output
    assert f"toolkit lock {profile}" in res.output
    assert "Traceback" not in res.output


def test_lock_file_option_names_another_lock(tmp_path, capsys):
    profile = _write(tmp_path, "name: team\nextends: datascience-cpu\n")
    elsewhere = tmp_path / "locks" / "team-2026.lock"
    elsewhere.parent.mkdir()
    lockfile.write(elsewhere, fake_lock(build_plan(load_profile(profile))))
    res = run(capsys, *["render", str(profile), "--lock", str(elsewhere), "--format", "script",
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "--require-hashes" in (tmp_path / "out" / "setup.sh").read_text()


def test_lock_refuses_to_overwrite_a_file_it_did_not_write(tmp_path, capsys):
    profile = _write(tmp_path, "name: team\nextends: datascience-cpu\n")
    (tmp_path / "team.lock").write_text("my notes\n", encoding="utf-8")
    res = run(capsys, *["lock", str(profile)])
    assert res.exit_code == 2 and "team.lock" in res.output
    assert (tmp_path / "team.lock").read_text() == "my notes\n"
