"""Profile -> Plan: step order, checks from the same components, CLI output."""

from __future__ import annotations

import json

import pytest

from tests.unit.certs import ca_pair
from toolkit.cli import main
from toolkit.model.steps import CopyTree, Environment, OsPackages, PipInstall, TrustCA, Venv
from toolkit.plan.builder import build_plan
from toolkit.profile.bundled import list_bundled
from toolkit.profile.loader import load_profile

BUNDLED = [n for n, _, _ in list_bundled()]


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_profile_plans(name):
    plan = build_plan(load_profile(name))
    assert plan.steps and plan.checks
    assert len({c.id for c in plan.checks}) == len(plan.checks)


def test_layers_are_ordered_by_how_often_they_change(tmp_path):
    prof = tmp_path / "p.yaml"
    prof.write_text("name: p\nextends: datascience-cpu\npackages:\n  pip: [six]\n")
    plan = build_plan(load_profile(prof))
    titles = [f"{s.component}:{s.title}" for s in plan.steps]
    order = ["os:OS packages", "git:Git", "user:user dev", "python:virtual environment /opt/venv",
             "packages:pip base packages", "jupyter:Jupyter lab", "packages:pip packages",
             "env:profile environment", "metadata:provenance"]
    positions = [titles.index(t) for t in order]
    assert positions == sorted(positions), titles


def test_the_users_pip_list_is_the_last_pip_step(tmp_path):
    prof = tmp_path / "p.yaml"
    prof.write_text("name: p\nextends: pytorch-cuda\npackages:\n  pip: [six]\n")
    pips = [s for s in build_plan(load_profile(prof)).steps if isinstance(s, PipInstall)]
    assert [(s.component, s.title) for s in pips] == [
        ("pytorch", "PyTorch (cu126)"), ("packages", "pip base packages"), ("jupyter", "Jupyter lab"),
        ("packages", "pip packages")]
    assert pips[1].requirements == ("numpy>=1.26,<3", "pandas>=2.1,<3") and pips[-1].requirements == ("six",)
    torch = pips[0]
    assert torch.index_url and torch.index_url.startswith("https://download.pytorch.org/whl/cu")
    assert not torch.extra_index_urls


def test_every_installed_pip_package_has_a_check():
    plan = build_plan(load_profile("datascience-cpu"))
    checked = {c.p["name"].lower() for c in plan.checks if c.kind == "pip_package"}
    for step in plan.steps:
        if isinstance(step, PipInstall):
            for req in step.requirements:
                assert req.split("[")[0].split("=")[0].split(">")[0].split("<")[0].lower() in checked


def test_gpu_checks_are_gpu_tier_and_only_with_a_gpu():
    gpu = build_plan(load_profile("pytorch-cuda"))
    cpu = build_plan(load_profile("datascience-cpu"))
    assert {c.kind for c in gpu.checks if c.tier == "gpu"} >= {"gpu_driver", "torch_gpu", "torch_matmul"}
    assert not [c for c in cpu.checks if c.tier == "gpu"]


def test_ca_proxy_and_wheelhouse(tmp_path):
    (tmp_path / "ca.pem").write_text("# corporate CA\n" + ca_pair()[0])
    (tmp_path / "wheels").mkdir()
    prof = tmp_path / "p.yaml"
    prof.write_text(
        "name: p\nextends: datascience-cpu\nnetwork:\n  ca_certificates: [ca.pem]\n  wheelhouse: wheels\n"
        "  proxy:\n    http: http://proxy.example:3128\n    no_proxy: [localhost, .corp.example]\n"
    )
    plan = build_plan(load_profile(prof))
    kinds = [type(s) for s in plan.steps]
    assert kinds.index(Environment) < kinds.index(TrustCA) < kinds.index(Venv)
    proxy = plan.steps[0]
    assert isinstance(proxy, Environment) and proxy.build_only
    assert ("no_proxy", "localhost,.corp.example") in proxy.variables
    trust = next(s for s in plan.steps if isinstance(s, TrustCA))
    assert trust.files[0].content == ca_pair()[0]
    tree = next(s for s in plan.steps if isinstance(s, CopyTree))
    assert tree.source == str((tmp_path / "wheels").resolve())
    assert all(s.find_links == tree.dest for s in plan.steps if isinstance(s, PipInstall))
    assert any(isinstance(s, OsPackages) and "ca-certificates" in s.packages for s in plan.steps)


def test_plan_json_and_explain(capsys):
    code, out, _ = run(["plan", "pytorch-cuda", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["name"] == "pytorch-cuda" and doc["steps"][0]["kind"]
    assert all("probe" in s for s in doc["steps"])
    code, out, _ = run(["plan", "pytorch-cuda", "--explain"], capsys)
    assert code == 0 and "rule:" in out and "gpu.cuda" in out


def test_validate_all_bundled(capsys):
    paths = [str(p) for _, _, p in list_bundled()]
    code, out, err = run(["validate", *paths], capsys)
    assert code == 0, err
    assert out.count("ok") == len(paths)


def test_profiles_lists_descriptions(capsys):
    code, out, _ = run(["profiles"], capsys)
    assert code == 0 and "datascience-cpu" in out and "Debian 12" in out


def test_jupyter_binds_all_interfaces_in_images_and_loopback_on_hosts(tmp_path):
    from toolkit.model.steps import Service
    from toolkit.render.script import unit_text

    plan = build_plan(load_profile("datascience-cpu"))
    service = next(s for s in plan.steps if isinstance(s, Service))
    assert "--ip=0.0.0.0" in service.command and "--ip=127.0.0.1" in service.host_command
    assert "--ip=127.0.0.1" in unit_text(plan, service)


def test_jupyter_password_auth_reads_the_hash_at_run_time(tmp_path):
    from toolkit.model.steps import WriteFile

    prof = tmp_path / "p.yaml"
    prof.write_text("name: p\nextends: datascience-cpu\njupyter:\n  auth: password\n")
    plan = build_plan(load_profile(prof))
    config = next(s for s in plan.steps if isinstance(s, WriteFile) and s.path.endswith("jupyter_server_config.py"))
    assert 'os.environ.get("JUPYTER_PASSWORD_HASH"' in config.content
    assert "token" not in config.content.split("\n", 3)[-1].split("#")[0]   # never disables the token
    default = build_plan(load_profile("datascience-cpu"))
    assert not [s for s in default.steps if isinstance(s, WriteFile) and "jupyter" in s.path]


def test_jupyter_service_on_hosts_gets_its_secret_file_env_and_check(tmp_path):
    from toolkit.model.steps import Service
    from toolkit.render.host_files import unit_name

    prof = tmp_path / "p.yaml"
    prof.write_text("name: p\nextends: datascience-cpu\njupyter:\n  service: true\n  ip: 10.0.0.5\n")
    plan = build_plan(load_profile(prof))
    service = next(s for s in plan.steps if isinstance(s, Service))
    assert service.enable_on_host and service.user == "dev"
    assert (service.secret_file, service.secret_variable) == ("/etc/toolkit/jupyter.env", "JUPYTER_TOKEN")
    assert ("VIRTUAL_ENV", "/opt/venv") in service.environment
    assert not any("TOKEN" in a for a in service.host_command)              # no secret on the command line
    check = next(c for c in plan.checks if c.kind == "jupyter_service")
    assert check.p == {"unit": unit_name(service), "user": "dev", "ip": "10.0.0.5", "port": 8888,
                       "env_file": "/etc/toolkit/jupyter.env"}
    # without the service: no unit settings, no unit check (images keep their token at run time)
    default = build_plan(load_profile("datascience-cpu"))
    plain = next(s for s in default.steps if isinstance(s, Service))
    assert (plain.environment, plain.secret_file) == ((), "")
    assert not [c for c in default.checks if c.kind == "jupyter_service"]


def test_jupyter_service_without_a_user_is_refused_where_it_is_set(tmp_path, capsys):
    prof = tmp_path / "p.yaml"
    prof.write_text("name: p\nextends: datascience-cpu\nuser:\n  create: false\njupyter:\n  service: true\n")
    code, out, err = run(["validate", str(prof)], capsys)
    assert code == 2, err
    assert "p.yaml:6:" in err and "jupyter.service" in err and "as root" in err and "user.create: true" in err
