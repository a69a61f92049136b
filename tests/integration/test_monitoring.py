"""monitoring: for real: a profile with the node exporter applied over SSH (an Ansible INI inventory, both hosts in
one run) to two systemd hosts (tests/integration/systemd_host.py), then a Prometheus server from Debian's package
(scripts/ensure-prometheus.sh) started here on 127.0.0.1 with the prometheus.yml toolkit rendered from the same
inventory: its HTTP API reports every target up, every alert rule loaded and healthy, and every dashboard
query valid.

Each host publishes sshd and :9100 on its own loopback address (127.x.y.z), so the rendered targets
(address:9100, as on a real fleet) are what Prometheus scrapes. The GPU exporter needs a GPU: these hosts have
none (its skip is rendered and unit-tested; the exporter itself is tested on recorded NVML values).
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.unit.monitoring.prometheus_tools import binary

from . import systemd_host
from .harness import DEPLOY_PASSWORD

pytestmark = [pytest.mark.docker, pytest.mark.ssh]

REPO = Path(__file__).resolve().parents[2]
PROFILE = """\
name: fleet-monitoring
description: node metrics of every host
os: {distro: debian, version: "12"}
git: {enabled: false}
monitoring: {node_exporter: true, listen: 0.0.0.0}
"""
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def fleet(systemd_target):
    """Two systemd hosts, each on its own loopback address, :22 and :9100 published there."""
    base = f"127.{random.randint(10, 250)}.{random.randint(0, 250)}"
    return [systemd_target(address=f"{base}.{i}", publish=(9100,)) for i in (11, 12)]


def toolkit(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO), TOOLKIT_SUDO_PASSWORD=DEPLOY_PASSWORD)
    return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, env=env,
                          timeout=900, check=False)


def api(base: str, path: str, **query: str) -> dict:
    url = f"{base}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    with DIRECT.open(url, timeout=10) as resp:
        return json.loads(resp.read())


def test_node_exporters_applied_over_ssh_and_scraped_by_prometheus(fleet, tmp_path):
    prometheus = binary("prometheus")
    promtool = binary("promtool")
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE)
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[gpu]\n" + "".join(
        f"node{i} ansible_host={t.host} ansible_port={t.port} ansible_user=deploy "
        f"ansible_ssh_private_key_file={t.key_path}\n" for i, t in enumerate(fleet, 1)) + "[lab:children]\ngpu\n")
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("".join(t.known_hosts_path.read_text() for t in fleet))
    (tmp_path / "ssh_config").touch()
    ssh = ["--inventory", str(inventory), "--known-hosts", str(known_hosts), "--ssh-config", str(tmp_path / "ssh_config")]

    started = time.monotonic()
    first = toolkit("apply", str(profile), *ssh, "--log-dir", str(tmp_path / "logs"))
    apply_seconds = time.monotonic() - started
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.count("passed") >= 2, first.stdout          # verify ran on both hosts after apply
    for t in fleet:
        state = systemd_host.run_as_root(t.container, "systemctl is-enabled toolkit-node_exporter.service; "
                                         "systemctl is-active toolkit-node_exporter.service; "
                                         "systemctl is-enabled prometheus-node-exporter.service; "
                                         "ps -o user= -C prometheus-node")[1].split()
        assert state == ["enabled", "active", "disabled", "prometheus"], state
        with DIRECT.open(f"http://{t.host}:9100/metrics", timeout=10) as resp:
            assert b"node_cpu_seconds_total" in resp.read()

    # idempotent: a second apply changes nothing on either host
    second = toolkit("apply", str(profile), *ssh, "--log-dir", str(tmp_path / "logs2"))
    assert second.returncode == 0, second.stdout + second.stderr
    assert len(re.findall(r"unchanged\s+0/\d+", second.stdout)) == 2, second.stdout

    # verify's metrics_endpoint check, as root: passes, then fails once the exporter is stopped
    as_root = ["--target", f"ssh://root@{fleet[0].host}:{fleet[0].port}", "--known-hosts", str(known_hosts),
               "--ssh-config", str(tmp_path / "ssh_config"), "--identity", str(fleet[0].key_path)]
    ok = toolkit("verify", str(profile), *as_root, "--json", "-k", "metrics_endpoint")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    systemd_host.run_as_root(fleet[0].container, "systemctl stop toolkit-node_exporter.service")
    broken = toolkit("verify", str(profile), *as_root, "--json", "-k", "metrics_endpoint")
    assert broken.returncode == 3 and "inactive" in json.loads(broken.stdout)["checks"][0]["found"], broken.stdout
    systemd_host.run_as_root(fleet[0].container, "systemctl start toolkit-node_exporter.service")

    # Prometheus from Debian's package, with the rendered config and rules, scrapes both hosts
    out = tmp_path / "monitoring"
    rendered = toolkit("render", str(profile), "--format", "prometheus", "--inventory", str(inventory), "-o", str(out))
    assert rendered.returncode == 0, rendered.stderr
    check = subprocess.run([promtool, "check", "config", "prometheus.yml"], cwd=out / "prometheus",
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([prometheus, "--config.file=prometheus.yml", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                               f"--web.listen-address=127.0.0.1:{port}"], cwd=out / "prometheus",
                              stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "w"))
    try:
        deadline, targets = time.monotonic() + 90, []
        while time.monotonic() < deadline:
            try:
                targets = api(base, "/api/v1/targets")["data"]["activeTargets"]
            except OSError:
                targets = []
            if len(targets) == 2 and all(t["health"] == "up" for t in targets):
                break
            time.sleep(1)
        assert len(targets) == 2 and all(t["health"] == "up" for t in targets), (
            targets, (tmp_path / "prometheus.log").read_text()[-2000:])
        assert {(t["labels"]["host"], t["labels"]["groups"], t["scrapeUrl"]) for t in targets} == {
            (f"node{i}", ",gpu,lab,", f"http://{t.host}:9100/metrics") for i, t in enumerate(fleet, 1)}
        up = api(base, "/api/v1/query", query='up{job="node"}')["data"]["result"]
        assert sorted(r["metric"]["instance"] for r in up) == ["node1", "node2"] and all(r["value"][1] == "1" for r in up)

        rules = [r for g in api(base, "/api/v1/rules")["data"]["groups"] for r in g["rules"]]
        assert {r["name"] for r in rules} >= {"ExporterDown", "DiskAlmostFull"}
        assert all(r["health"] == "ok" for r in rules), rules
        # every dashboard query is one Prometheus accepts ($host as Grafana's "All" sends it)
        for board in (out / "grafana/dashboards").glob("*.json"):
            for panel in json.loads(board.read_text())["panels"]:
                for target in panel["targets"]:
                    answer = api(base, "/api/v1/query", query=target["expr"].replace("$host", ".*"))
                    assert answer["status"] == "success", (panel["title"], answer)
        (load,) = [p for p in json.loads((out / "grafana/dashboards/toolkit-node.json").read_text())["panels"]
                   if p["title"] == "Load (1 min)"]
        answer = api(base, "/api/v1/query", query=load["targets"][0]["expr"].replace("$host", ".*"))["data"]["result"]
        assert sorted(r["metric"]["host"] for r in answer) == ["node1", "node2"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"apply of the node exporter to 2 hosts: {apply_seconds:.1f}s")
