"""A stand-in pynvml module (nvidia-ml-py's names) answering with values recorded from real GPUs, for the GPU
exporter's unit tests. The real exporter runs against real NVML on GPU hosts (the GPU tier)."""

from __future__ import annotations

import types
from dataclasses import dataclass

NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_TIMEOUT = 10
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_UNKNOWN = 999
NVML_TEMPERATURE_GPU = 0
NVML_MEMORY_ERROR_TYPE_CORRECTED = 0
NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
NVML_VOLATILE_ECC = 0
nvmlEventTypeXidCriticalError = 8

# Recorded with nvidia-smi / NVML on an H200 host (driver 570.124.06) at rest, and a consumer card (no ECC,
# no power reading): what the exporter must report, and leave out.
H200 = {"name": "NVIDIA H200", "uuid": "GPU-6f1f3c52-8c1d-2b7e-5b3a-0d2c4f3e9a11", "util": (0, 0),
        "memory": (150_754_820_096, 4_718_592), "temp": 27, "power_mw": 76_512, "ecc": (0, 0)}
CONSUMER = {"name": "NVIDIA GeForce RTX 3060", "uuid": "GPU-2a0c7d55-1111-4a4b-9c9c-7e21d3b0f0aa",
            "util": (37, 12), "memory": (12_884_901_888, 2_147_483_648), "temp": 61, "power_mw": None, "ecc": None}


class NVMLError(Exception):
    def __init__(self, value: int):
        super().__init__(value)
        self.value = value


@dataclass
class Rates:
    gpu: int
    memory: int


@dataclass
class Memory:
    total: int
    used: int

    @property
    def free(self) -> int:
        return self.total - self.used


@dataclass
class Event:
    device: object
    eventData: int


def module(gpus: list[dict], events: list[tuple[int, int]] | None = None, lost: frozenset[int] = frozenset()):
    """A pynvml module for `gpus` (dicts like H200); `events`: (gpu index, xid) that event waits return in
    order; `lost`: indexes of GPUs that answer NVML_ERROR_GPU_IS_LOST after start."""
    m = types.ModuleType("pynvml")
    for name, value in globals().items():
        if name.startswith(("NVML_", "nvmlEventType")) or name == "NVMLError":
            setattr(m, name, value)
    handles = [object() for _ in gpus]
    index = {id(h): i for i, h in enumerate(handles)}
    pending = list(events or [])

    def gpu(handle):
        i = index[id(handle)]
        if i in lost:
            raise NVMLError(NVML_ERROR_GPU_IS_LOST)
        return gpus[i]

    def ecc(handle, kind, counter):
        values = gpu(handle)["ecc"]
        if values is None:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return values[kind]

    def power(handle):
        mw = gpu(handle)["power_mw"]
        if mw is None:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return mw

    def wait(event_set, timeout_ms):
        if not pending:
            raise NVMLError(NVML_ERROR_TIMEOUT)
        i, xid = pending.pop(0)
        return Event(handles[i], xid)

    m.nvmlInit = lambda: None
    m.nvmlSystemGetDriverVersion = lambda: "570.124.06"
    m.nvmlDeviceGetCount = lambda: len(gpus)
    m.nvmlDeviceGetHandleByIndex = lambda i: handles[i]
    m.nvmlDeviceGetIndex = lambda h: index[id(h)]
    m.nvmlDeviceGetName = lambda h: gpus[index[id(h)]]["name"]
    m.nvmlDeviceGetUUID = lambda h: gpus[index[id(h)]]["uuid"].encode()    # older bindings return bytes
    m.nvmlDeviceGetUtilizationRates = lambda h: Rates(*gpu(h)["util"])
    m.nvmlDeviceGetMemoryInfo = lambda h: Memory(*gpu(h)["memory"])
    m.nvmlDeviceGetTemperature = lambda h, sensor: gpu(h)["temp"]
    m.nvmlDeviceGetPowerUsage = power
    m.nvmlDeviceGetTotalEccErrors = ecc
    m.nvmlEventSetCreate = lambda: "event-set"
    m.nvmlDeviceRegisterEvents = lambda h, types, event_set: None
    m.nvmlEventSetWait_v2 = wait
    return m
