"""monitoring: in a plan: the node exporter's package, the package's own unit stepped aside, toolkit's unit on
monitoring.listen; the GPU exporter on GPU plans only, its service skipped on hosts without a GPU."""

from __future__ import annotations

from toolkit.components import monitoring
from toolkit.model.steps import OsPackages, PipInstall, RunCommand, Service, Venv, WriteFile
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import script

CPU = 'name: mon\nos: {distro: debian, version: "12"}\ngit: {enabled: false}\n'
GPU = 'name: mon\nos: {distro: ubuntu, version: "24.04"}\ngpu: {enabled: true}\ngit: {enabled: false}\n'


def plan_of(tmp_path, text):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return build_plan(load_profile(str(path)))


def mine(plan):
    return [s for s in plan.steps if s.component == "monitoring"]


def test_nothing_without_the_section(tmp_path):
    plan = plan_of(tmp_path, CPU)
    assert mine(plan) == [] and not [c for c in plan.checks if c.component == "monitoring"]


def test_node_exporter_on_the_listen_address(tmp_path):
    plan = plan_of(tmp_path, CPU + "monitoring: {node_exporter: true, listen: 10.1.2.3}\n")
    pkg, disable, unit = mine(plan)
    assert isinstance(pkg, OsPackages) and pkg.packages == ("prometheus-node-exporter",)
    assert isinstance(disable, RunCommand) and disable.argv[-1] == "prometheus-node-exporter.service"
    assert isinstance(unit, Service) and not unit.in_image and unit.enable_on_host and not unit.needs_gpu
    assert unit.command == ("/usr/bin/prometheus-node-exporter", "--web.listen-address=10.1.2.3:9100")
    assert unit.user == "prometheus" and unit.port is None     # the image's `docker run -p` stays Jupyter's
    (c,) = [c for c in plan.checks if c.component == "monitoring"]
    assert c.kind == "metrics_endpoint" and c.tier == "cpu"
    assert c.p == {"unit": "toolkit-node_exporter.service", "ip": "10.1.2.3", "port": 9100,
                   "metric": "node_cpu_seconds_total", "gpu": False}


def test_ipv6_listen_is_bracketed():
    assert monitoring.listen_arg("::1", 9100) == "[::1]:9100"
    assert monitoring.listen_arg("0.0.0.0", 9400) == "0.0.0.0:9400"


def test_gpu_exporter_needs_a_gpu_plan(tmp_path):
    plan = plan_of(tmp_path, CPU + "monitoring: {gpu_exporter: true}\n")
    assert mine(plan) == []
    assert any("monitoring.gpu_exporter" in w and "no GPU" in w for w in plan.warnings)


def test_gpu_exporter_steps_and_its_gpu_tier_check(tmp_path):
    plan = plan_of(tmp_path, GPU + "monitoring: {gpu_exporter: true}\n")
    venv, pip, source, unit = mine(plan)
    assert isinstance(venv, Venv) and venv.path == monitoring.GPU_VENV
    assert isinstance(pip, PipInstall) and all("==" in r for r in pip.requirements)    # pinned
    assert isinstance(source, WriteFile) and source.content == monitoring.SOURCE.read_text()
    assert isinstance(unit, Service) and unit.needs_gpu and unit.command[-4:] == ("--listen", "0.0.0.0", "--port", "9400")
    (c,) = [c for c in plan.checks if c.component == "monitoring"]
    assert c.tier == "gpu" and c.p["port"] == 9400 and c.p["gpu"] is True
    # setup.sh skips the service where the PCI bus shows no NVIDIA GPU, saying so
    text = script.render(plan).files["setup.sh"]
    assert "gpu_service_skip toolkit-gpu_exporter.service" in text
    assert "[skipped] no NVIDIA GPU ($1 not set up)" in text
