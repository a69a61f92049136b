"""Prometheus exporters on hosts (`monitoring:`): the node exporter from the OS packages and toolkit's NVML GPU
exporter (nvml_exporter.py, in its own venv), each a systemd unit of toolkit's on `monitoring.listen`.

The node exporter runs as toolkit-node_exporter.service (the package's binary, as the package's
`prometheus` user, with the listen address from the profile); the package's own unit is disabled and
stopped so the two do not compete for :9100. The GPU exporter is set up on GPU plans only, and its
service is skipped on hosts without an NVIDIA GPU, as the driver steps are. Images get no running
exporter: a container runs one process (the units are written on hosts only).
`toolkit render --format prometheus` scrapes these ports (render/prometheus.py).
"""

from __future__ import annotations

from pathlib import Path

from toolkit.components.base import Context, Contribution, package_unit_disabled, write_file
from toolkit.components.python import pip_source
from toolkit.model.checks import check
from toolkit.model.steps import PipInstall, Service, Venv

NODE_PORT = 9100
GPU_PORT = 9400
NODE_PACKAGE = "prometheus-node-exporter"
NODE_BINARY = "/usr/bin/prometheus-node-exporter"
NODE_USER = "prometheus"               # made by the package
PACKAGE_UNIT = "prometheus-node-exporter.service"
NODE_UNIT = "toolkit-node_exporter.service"
GPU_UNIT = "toolkit-gpu_exporter.service"
GPU_VENV = "/opt/toolkit/gpu-exporter"
GPU_SCRIPT = f"{GPU_VENV}/toolkit_gpu_exporter.py"
# Pinned: what the exporter was written and tested against (tests/unit/components/test_nvml_exporter.py).
GPU_REQUIREMENTS = ("nvidia-ml-py==13.615.71", "prometheus-client==0.26.0")
SOURCE = Path(__file__).with_name("nvml_exporter.py")

def listen_arg(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def contribute(ctx: Context) -> Contribution:
    out = Contribution()
    m = ctx.profile.monitoring
    if m.node_exporter:
        out.steps += [
            ctx.os_packages("monitoring", "Prometheus node exporter", (NODE_PACKAGE,)),
            package_unit_disabled("monitoring", PACKAGE_UNIT, "toolkit's unit serves the port"),
            Service("monitoring", "Prometheus node exporter", name="node_exporter", in_image=False,
                    enable_on_host=True, user=NODE_USER,
                    command=(NODE_BINARY, f"--web.listen-address={listen_arg(m.listen, NODE_PORT)}")),
        ]
        out.checks.append(check("metrics_endpoint", "monitoring", f"{NODE_UNIT} active and serving node metrics on "
                                f"{listen_arg(m.listen, NODE_PORT)}/metrics", ident="metrics_endpoint:node",
                                unit=NODE_UNIT, ip=m.listen, port=NODE_PORT, metric="node_cpu_seconds_total",
                                gpu=False))
    if m.gpu_exporter:
        if not ctx.target.gpu:
            out.warnings.append("monitoring.gpu_exporter: this profile targets no GPU (gpu.enabled is false): "
                                "no GPU exporter is set up")
            return out
        command = (f"{GPU_VENV}/bin/python", GPU_SCRIPT, "--listen", m.listen, "--port", str(GPU_PORT))
        out.steps += [
            Venv("monitoring", "GPU exporter venv", path=GPU_VENV, python=ctx.target.python_bin),
            PipInstall("monitoring", "GPU exporter: nvidia-ml-py, prometheus-client", venv=GPU_VENV,
                       requirements=GPU_REQUIREMENTS, **pip_source(ctx)),
            write_file("monitoring", "GPU exporter (NVML)", GPU_SCRIPT, SOURCE.read_text()),
            Service("monitoring", "GPU exporter (NVML)", name="gpu_exporter", in_image=False, enable_on_host=True,
                    needs_gpu=True, command=command),
        ]
        out.checks.append(check("metrics_endpoint", "monitoring", f"{GPU_UNIT} active and serving GPU metrics on "
                                f"{listen_arg(m.listen, GPU_PORT)}/metrics", ident="metrics_endpoint:gpu",
                                tier="gpu", unit=GPU_UNIT, ip=m.listen, port=GPU_PORT,
                                metric="toolkit_gpu_up", gpu=True))
    return out
