"""toolkit's NVML GPU exporter (toolkit/components/nvml_exporter.py) on recorded NVML values: the metrics
Prometheus reads, in its text format (prometheus-client's own encoder), for a data-centre GPU, a consumer card
without ECC or a power reading, XID events and a GPU fallen off the bus."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from toolkit.components import monitoring

from . import fake_nvml


def exporter(monkeypatch, nvml):
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    spec = importlib.util.spec_from_file_location("toolkit_gpu_exporter", monitoring.SOURCE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scrape(module, collector) -> dict[tuple[str, tuple], float]:
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def labels(i: int, gpu: dict, **more) -> tuple:
    return tuple(sorted({"gpu": str(i), "uuid": gpu["uuid"], "name": gpu["name"], **more}.items()))


def test_per_gpu_metrics_from_recorded_values(monkeypatch):
    gpus = [fake_nvml.H200, fake_nvml.CONSUMER]
    m = exporter(monkeypatch, fake_nvml.module(gpus))
    got = scrape(m, m.GpuCollector())
    h200, rtx = labels(0, fake_nvml.H200), labels(1, fake_nvml.CONSUMER)
    assert got[("toolkit_gpu_count", ())] == 2
    assert got[("toolkit_gpu_driver_info", (("version", "570.124.06"),))] == 1
    assert got[("toolkit_gpu_up", h200)] == 1 and got[("toolkit_gpu_up", rtx)] == 1
    assert got[("toolkit_gpu_memory_total_bytes", h200)] == 150_754_820_096
    assert got[("toolkit_gpu_memory_used_bytes", h200)] == 4_718_592
    assert got[("toolkit_gpu_temperature_celsius", h200)] == 27
    assert got[("toolkit_gpu_power_watts", h200)] == pytest.approx(76.512)
    assert got[("toolkit_gpu_utilization_percent", rtx)] == 37
    assert got[("toolkit_gpu_memory_utilization_percent", rtx)] == 12
    assert got[("toolkit_gpu_ecc_errors_total", labels(0, fake_nvml.H200, type="uncorrected"))] == 0
    assert got[("toolkit_gpu_ecc_errors_total", labels(0, fake_nvml.H200, type="corrected"))] == 0
    # What the consumer card cannot tell is left out, never reported as 0.
    assert ("toolkit_gpu_power_watts", rtx) not in got
    assert not any(name == "toolkit_gpu_ecc_errors_total" and dict(lab)["gpu"] == "1" for name, lab in got)


def test_xid_events_are_counted_per_gpu_and_code(monkeypatch):
    nvml = fake_nvml.module([fake_nvml.H200, fake_nvml.H200], events=[(1, 79), (1, 79), (0, 48)])
    m = exporter(monkeypatch, nvml)
    collector = m.GpuCollector()
    collector.xid = m.XidWatcher(collector.handles)
    while collector.xid.poll_once(timeout_ms=1):
        pass
    got = scrape(m, collector)
    assert got[("toolkit_gpu_xid_errors_total", (("gpu", "1"), ("xid", "79")))] == 2
    assert got[("toolkit_gpu_xid_errors_total", (("gpu", "0"), ("xid", "48")))] == 1


def test_a_gpu_fallen_off_the_bus_reports_up_0_and_the_others_keep_reporting(monkeypatch):
    m = exporter(monkeypatch, fake_nvml.module([fake_nvml.H200, fake_nvml.H200], lost=frozenset({1})))
    got = scrape(m, m.GpuCollector())
    assert got[("toolkit_gpu_up", labels(1, fake_nvml.H200))] == 0
    assert got[("toolkit_gpu_up", labels(0, fake_nvml.H200))] == 1
    assert ("toolkit_gpu_temperature_celsius", labels(1, fake_nvml.H200)) not in got
    assert got[("toolkit_gpu_temperature_celsius", labels(0, fake_nvml.H200))] == 27


def test_the_exporter_serves_http(monkeypatch):
    """serve() as the unit's main() calls it: /metrics over HTTP on the address and port given."""
    import socket
    import urllib.request

    m = exporter(monkeypatch, fake_nvml.module([fake_nvml.H200]))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server, _ = m.serve("127.0.0.1", port)
    try:
        body = urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
            f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    finally:
        server.shutdown()
    assert 'toolkit_gpu_up{gpu="0",name="NVIDIA H200",uuid="GPU-6f1f3c52' in body
    assert "toolkit_gpu_power_watts" in body and "python_gc" not in body
