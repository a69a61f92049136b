"""`toolkit render --format prometheus --inventory FILE`: the monitoring side of a fleet the profile's
`monitoring:` section set up: a prometheus.yml scraping every inventory host (a node and a GPU job, each host
labelled with its name and inventory groups), alert rules for the failures `toolkit doctor` knows (a GPU fallen
off the bus, XID errors, ECC errors, heat, a full disk, an exporter down) and Grafana provisioning (a Prometheus
datasource, a dashboard provider, a node and a GPU dashboard).

Not a per-step format: it reads the plan's metrics_endpoint checks (which exporters, which ports) and the hosts
of an inventory. Every value reaches YAML through yaml.safe_dump and JSON through json.dumps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import yaml

from toolkit.errors import UsageError
from toolkit.model.plan import Plan
from toolkit.render.common import Rendered, header

DATASOURCE_UID = "toolkit-prometheus"
DASHBOARDS = "/var/lib/grafana/dashboards/toolkit"
RULES = "rules/toolkit-alerts.yml"
SCRAPE_INTERVAL = "15s"


@dataclass(frozen=True)
class ScrapeHost:
    name: str                        # the inventory's name: the `instance` and `host` labels
    address: str                     # where Prometheus connects (the inventory's address; IPv6 without brackets)
    groups: tuple[str, ...] = ()     # its inventory groups: the `groups` label, ",a,b," (match with =~ ".*,a,.*")


def _target(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def exporters(plan: Plan) -> dict[str, int]:
    """job -> port of the exporters the plan sets up ("node", "gpu")."""
    out = {}
    for c in plan.checks:
        if c.kind == "metrics_endpoint":
            out["gpu" if c.p["gpu"] else "node"] = int(c.p["port"])
    return out


def _yaml(plan: Plan, doc: dict) -> str:
    return header(plan) + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, allow_unicode=False)


def prometheus_yml(plan: Plan, hosts: list[ScrapeHost], jobs: dict[str, int]) -> dict:
    def static(port: int) -> list[dict]:
        return [{"targets": [_target(h.address, port)],
                 "labels": {"instance": h.name, "host": h.name, "groups": "," + ",".join(h.groups) + ","}}
                for h in hosts]
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL,
                   "external_labels": {"toolkit_profile": plan.name}},
        "rule_files": [RULES],
        "scrape_configs": [{"job_name": job, "static_configs": static(port)} for job, port in sorted(jobs.items())],
    }


def _alert(name: str, expr: str, duration: str, severity: str, summary: str, action: str) -> dict:
    return {"alert": name, "expr": expr, "for": duration, "labels": {"severity": severity},
            "annotations": {"summary": summary, "description": action}}


NODE_ALERTS = [
    _alert("ExporterDown", "up == 0", "5m", "warning", "{{ $labels.job }} exporter on {{ $labels.host }} is not answering",
           "ssh to the host: systemctl status toolkit-{{ $labels.job }}_exporter.service; toolkit verify"),
    _alert("DiskAlmostFull",
           'node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs|ramfs"} / '
           'node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs|ramfs"} < 0.05',
           "10m", "critical", "{{ $labels.mountpoint }} on {{ $labels.host }} is over 95% full",
           "free space (docker system df, old checkpoints, ~/.cache/pip) or grow the file system"),
    _alert("DiskFillsWithin24h",
           'predict_linear(node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs|ramfs"}[6h], 24 * 3600) < 0',
           "1h", "warning", "{{ $labels.mountpoint }} on {{ $labels.host }} fills within a day at this rate",
           "find what writes (du -xsh /*) before it is full"),
]
GPU_ALERTS = [
    _alert("GpuFallenOffTheBus",
           "toolkit_gpu_up == 0 or toolkit_gpu_count < max_over_time(toolkit_gpu_count[1d])", "1m", "critical",
           "a GPU on {{ $labels.host }} stopped answering NVML (fallen off the bus)",
           "toolkit doctor on the host; dmesg | grep -i xid; a reset or reboot is needed, then check power and seating"),
    _alert("GpuXidErrors", "increase(toolkit_gpu_xid_errors_total[10m]) > 0", "0m", "warning",
           "GPU {{ $labels.gpu }} on {{ $labels.host }} reported XID {{ $labels.xid }}",
           "look the XID up in NVIDIA's XID catalogue; 48/63/64/74/79/94/95 need a reset or service"),
    _alert("GpuEccUncorrected", 'increase(toolkit_gpu_ecc_errors_total{type="uncorrected"}[10m]) > 0', "0m",
           "critical", "uncorrected ECC errors on GPU {{ $labels.gpu }} of {{ $labels.host }}",
           "drain the GPU; nvidia-smi -q -d ECC,PAGE_RETIREMENT; reset it to retire/remap the pages"),
    _alert("GpuEccCorrectedBurst", 'increase(toolkit_gpu_ecc_errors_total{type="corrected"}[1h]) > 100', "0m",
           "warning", "many corrected ECC errors on GPU {{ $labels.gpu }} of {{ $labels.host }}",
           "watch for uncorrected errors; plan a reset to remap rows"),
    _alert("GpuTooHot", "toolkit_gpu_temperature_celsius > 85", "5m", "warning",
           "GPU {{ $labels.gpu }} on {{ $labels.host }} is at {{ $value }} C",
           "check the fans and the airflow of the rack; the GPU will throttle"),
]


def rules(jobs: dict[str, int]) -> dict:
    groups = [{"name": "toolkit-node", "rules": NODE_ALERTS}]
    if "gpu" in jobs:
        groups.append({"name": "toolkit-gpu", "rules": GPU_ALERTS})
    return {"groups": groups}


def _panel(pid: int, title: str, expr: str, unit: str, legend: str, x: int, y: int) -> dict:
    return {"id": pid, "type": "timeseries", "title": title, "gridPos": {"x": x, "y": y, "w": 12, "h": 8},
            "datasource": {"type": "prometheus", "uid": DATASOURCE_UID},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": "A", "expr": expr, "legendFormat": legend,
                         "datasource": {"type": "prometheus", "uid": DATASOURCE_UID}}]}


NODE_PANELS = [
    ("CPU busy", '1 - avg by (host) (rate(node_cpu_seconds_total{mode="idle",host=~"$host"}[5m]))', "percentunit",
     "{{host}}"),
    ("Memory used", '1 - node_memory_MemAvailable_bytes{host=~"$host"} / node_memory_MemTotal_bytes{host=~"$host"}',
     "percentunit", "{{host}}"),
    ("Disk used", '1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs|ramfs",host=~"$host"} / '
     'node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs|ramfs",host=~"$host"}', "percentunit",
     "{{host}} {{mountpoint}}"),
    ("Network received", 'rate(node_network_receive_bytes_total{device!="lo",host=~"$host"}[5m])', "Bps",
     "{{host}} {{device}}"),
    ("Load (1 min)", 'node_load1{host=~"$host"}', "short", "{{host}}"),
    ("Exporters up", 'up{host=~"$host"}', "short", "{{host}} {{job}}"),
]
GPU_PANELS = [
    ("GPU utilisation", 'toolkit_gpu_utilization_percent{host=~"$host"}', "percent", "{{host}} GPU {{gpu}}"),
    ("GPU memory used", 'toolkit_gpu_memory_used_bytes{host=~"$host"}', "bytes", "{{host}} GPU {{gpu}}"),
    ("Temperature", 'toolkit_gpu_temperature_celsius{host=~"$host"}', "celsius", "{{host}} GPU {{gpu}}"),
    ("Power", 'toolkit_gpu_power_watts{host=~"$host"}', "watt", "{{host}} GPU {{gpu}}"),
    ("ECC errors (uncorrected)", 'toolkit_gpu_ecc_errors_total{type="uncorrected",host=~"$host"}', "short",
     "{{host}} GPU {{gpu}}"),
    ("XID errors (10 min)", 'increase(toolkit_gpu_xid_errors_total{host=~"$host"}[10m])', "short",
     "{{host}} GPU {{gpu}} XID {{xid}}"),
    ("GPUs answering", 'toolkit_gpu_up{host=~"$host"}', "short", "{{host}} GPU {{gpu}}"),
]


def dashboard(plan: Plan, uid: str, title: str, panels: list[tuple[str, str, str, str]]) -> dict:
    return {
        "uid": uid, "title": title, "description": header(plan, "").strip(), "tags": ["toolkit"],
        "schemaVersion": 39, "version": 1, "editable": False, "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "templating": {"list": [{
            "name": "host", "label": "Host", "type": "query", "multi": True, "includeAll": True, "allValue": ".*",
            "datasource": {"type": "prometheus", "uid": DATASOURCE_UID},
            "query": {"query": "label_values(up, host)", "refId": "host"}, "refresh": 2}]},
        "panels": [_panel(i + 1, t, e, u, legend, 12 * (i % 2), 8 * (i // 2)) for i, (t, e, u, legend) in enumerate(panels)],
    }


def render(plan: Plan, hosts: list[ScrapeHost], prometheus_url: str = "http://127.0.0.1:9090") -> Rendered:
    jobs = exporters(plan)
    if not jobs:
        raise UsageError(f"profile {plan.name} sets up no exporter: nothing for Prometheus to scrape",
                           "add monitoring: {node_exporter: true} (and gpu_exporter: true on GPU profiles)")
    if not hosts:
        raise UsageError("the inventory has no hosts", "list the hosts the profile is applied to")
    datasources = {"apiVersion": 1, "datasources": [{
        "name": "Prometheus", "uid": DATASOURCE_UID, "type": "prometheus", "access": "proxy", "url": prometheus_url,
        "isDefault": True, "editable": False}]}
    providers = {"apiVersion": 1, "providers": [{
        "name": "toolkit", "folder": "toolkit", "type": "file", "disableDeletion": True, "allowUiUpdates": False,
        "options": {"path": DASHBOARDS}}]}
    files = {
        "prometheus/prometheus.yml": _yaml(plan, prometheus_yml(plan, hosts, jobs)),
        f"prometheus/{RULES}": _yaml(plan, rules(jobs)),
        "grafana/provisioning/datasources/toolkit.yml": _yaml(plan, datasources),
        "grafana/provisioning/dashboards/toolkit.yml": _yaml(plan, providers),
        "grafana/dashboards/toolkit-node.json": json.dumps(
            dashboard(plan, "toolkit-node", f"{plan.name}: hosts", NODE_PANELS), indent=2) + "\n",
    }
    if "gpu" in jobs:
        files["grafana/dashboards/toolkit-gpu.json"] = json.dumps(
            dashboard(plan, "toolkit-gpu", f"{plan.name}: GPUs", GPU_PANELS), indent=2) + "\n"
    return Rendered(files)
