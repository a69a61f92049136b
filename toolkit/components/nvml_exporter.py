"""toolkit's NVML GPU exporter: Prometheus metrics per GPU from NVIDIA's management library.

Shipped to GPU hosts as a file (components/monitoring.py writes this module's text into the exporter's
venv) and run by toolkit-gpu_exporter.service: `python toolkit_gpu_exporter.py --listen ADDR --port 9400`.
It needs nvidia-ml-py (imported as pynvml) and prometheus-client, nothing of toolkit.

Per GPU (labels gpu = index, uuid, name): utilisation (GPU and memory, %), memory used/total (bytes),
temperature (C), power draw (W), ECC errors since the last driver load (corrected/uncorrected), XID
errors counted from NVML's critical-error events (label xid), and toolkit_gpu_up: 0 when a GPU the
exporter found at start stops answering (fallen off the bus: NVML_ERROR_GPU_IS_LOST). A value the GPU does
not support (ECC on consumer cards, power on some boards) is left out, never reported as 0.
"""

from __future__ import annotations

import argparse
import threading
import time

import pynvml
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

PREFIX = "toolkit_gpu_"
XID_WAIT_MS = 1000


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _optional(fn, *args):
    """fn(*args), or None where the GPU does not support it (or cannot tell)."""
    try:
        return fn(*args)
    except pynvml.NVMLError as exc:
        if _lost(exc):
            raise
        return None


def _lost(exc: Exception) -> bool:
    return getattr(exc, "value", None) in (pynvml.NVML_ERROR_GPU_IS_LOST, getattr(pynvml, "NVML_ERROR_UNKNOWN", -1))


class XidWatcher:
    """Counts XID errors per (GPU index, xid) from NVML's event set, in a background thread."""

    def __init__(self, handles: dict[int, object]):
        self.counts: dict[tuple[int, int], int] = {}
        self.lock = threading.Lock()
        self.by_handle = {id(h): i for i, h in handles.items()}
        self.event_set = None
        try:
            self.event_set = pynvml.nvmlEventSetCreate()
            for handle in handles.values():
                try:
                    pynvml.nvmlDeviceRegisterEvents(handle, pynvml.nvmlEventTypeXidCriticalError, self.event_set)
                except pynvml.NVMLError:
                    pass       # this GPU cannot report XID events (NOT_SUPPORTED): its counter stays absent
        except pynvml.NVMLError:
            self.event_set = None

    def record(self, data) -> None:
        gpu = self.by_handle.get(id(data.device))
        if gpu is None:
            try:
                gpu = pynvml.nvmlDeviceGetIndex(data.device)
            except pynvml.NVMLError:
                gpu = -1
        with self.lock:
            key = (gpu, int(data.eventData))
            self.counts[key] = self.counts.get(key, 0) + 1

    def poll_once(self, timeout_ms: int = XID_WAIT_MS) -> bool:
        if self.event_set is None:
            return False
        try:
            data = pynvml.nvmlEventSetWait_v2(self.event_set, timeout_ms)
        except pynvml.NVMLError:
            return False          # NVML_ERROR_TIMEOUT: no event in this window
        self.record(data)
        return True

    def run(self) -> None:
        while True:
            if not self.poll_once():
                time.sleep(0.01)

    def snapshot(self) -> dict[tuple[int, int], int]:
        with self.lock:
            return dict(self.counts)


class GpuCollector:
    """A prometheus_client collector reading NVML at every scrape."""

    def __init__(self, xid: XidWatcher | None = None):
        self.handles: dict[int, object] = {}
        self.labels: dict[int, list[str]] = {}
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            self.handles[i] = handle
            self.labels[i] = [str(i), _text(pynvml.nvmlDeviceGetUUID(handle)), _text(pynvml.nvmlDeviceGetName(handle))]
        self.xid = xid
        self.driver = _text(_optional(pynvml.nvmlSystemGetDriverVersion) or "")

    def describe(self):
        return []

    def collect(self):
        names = ["gpu", "uuid", "name"]
        up = GaugeMetricFamily(PREFIX + "up", "1 when NVML answers for the GPU, 0 when it is lost "
                               "(fallen off the bus)", labels=names)
        util = GaugeMetricFamily(PREFIX + "utilization_percent", "GPU busy time over the last sample period",
                                 labels=names)
        mem_util = GaugeMetricFamily(PREFIX + "memory_utilization_percent", "Memory controller busy time",
                                     labels=names)
        used = GaugeMetricFamily(PREFIX + "memory_used_bytes", "Frame buffer memory in use", labels=names)
        total = GaugeMetricFamily(PREFIX + "memory_total_bytes", "Frame buffer memory installed", labels=names)
        temp = GaugeMetricFamily(PREFIX + "temperature_celsius", "GPU core temperature", labels=names)
        power = GaugeMetricFamily(PREFIX + "power_watts", "Power draw", labels=names)
        ecc = CounterMetricFamily(PREFIX + "ecc_errors", "ECC errors since the driver loaded (volatile)",
                                  labels=[*names, "type"])
        xid = CounterMetricFamily(PREFIX + "xid_errors", "XID errors seen since the exporter started",
                                  labels=["gpu", "xid"])
        info = GaugeMetricFamily(PREFIX + "driver_info", "The NVIDIA driver version", labels=["version"])
        info.add_metric([self.driver], 1)
        for i, handle in self.handles.items():
            labels = self.labels[i]
            try:
                rates = _optional(pynvml.nvmlDeviceGetUtilizationRates, handle)
                memory = _optional(pynvml.nvmlDeviceGetMemoryInfo, handle)
                celsius = _optional(pynvml.nvmlDeviceGetTemperature, handle, pynvml.NVML_TEMPERATURE_GPU)
                milliwatts = _optional(pynvml.nvmlDeviceGetPowerUsage, handle)
                errors = {kind: _optional(pynvml.nvmlDeviceGetTotalEccErrors, handle, code, pynvml.NVML_VOLATILE_ECC)
                          for kind, code in (("corrected", pynvml.NVML_MEMORY_ERROR_TYPE_CORRECTED),
                                             ("uncorrected", pynvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED))}
            except pynvml.NVMLError:
                up.add_metric(labels, 0)
                continue
            up.add_metric(labels, 1)
            if rates is not None:
                util.add_metric(labels, rates.gpu)
                mem_util.add_metric(labels, rates.memory)
            if memory is not None:
                used.add_metric(labels, memory.used)
                total.add_metric(labels, memory.total)
            if celsius is not None:
                temp.add_metric(labels, celsius)
            if milliwatts is not None:
                power.add_metric(labels, milliwatts / 1000.0)
            for kind, count in errors.items():
                if count is not None:
                    ecc.add_metric([*labels, kind], count)
        if self.xid is not None:
            for (gpu, code), count in sorted(self.xid.snapshot().items()):
                xid.add_metric([str(gpu), str(code)], count)
        count = GaugeMetricFamily(PREFIX + "count", "GPUs NVML found when the exporter started")
        count.add_metric([], len(self.handles))
        return [info, count, up, util, mem_util, used, total, temp, power, ecc, xid]


def serve(listen: str, port: int):
    """NVML initialised, XID events watched, /metrics served on listen:port (in a thread); the server."""
    from prometheus_client import CollectorRegistry, start_http_server

    pynvml.nvmlInit()
    collector = GpuCollector()
    collector.xid = XidWatcher(collector.handles)
    threading.Thread(target=collector.xid.run, daemon=True, name="xid-events").start()
    registry = CollectorRegistry()       # the GPUs only, not the exporter's own process metrics
    registry.register(collector)
    return start_http_server(port, addr=listen, registry=registry)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--listen", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=9400)
    args = parser.parse_args(argv)
    serve(args.listen, args.port)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
