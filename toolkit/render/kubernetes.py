"""Plan -> Kubernetes manifests for the image `toolkit build` made from it, under k8s/:

    k8s/kustomization.yaml   the resources below, so users overlay (image, resources, storage class)
    k8s/pvc.yaml             a PersistentVolumeClaim for the work folder (data_path: ~/work)
    k8s/job.yaml             a suspended Job for batch training (patch its command, then unsuspend)
    k8s/jupyter.yaml         Deployment + Service for the image's Jupyter (Jupyter profiles only)
    k8s/kubeflow-notebook.yaml  the same container as a Kubeflow Notebook (not in the kustomization:
                             its CRD exists only where Kubeflow runs)

Jupyter's token (or password hash) comes from a Secret the user creates, by reference: no secret is in
these files. Jupyter listens on 8888 with base_url $(NB_PREFIX) (Kubernetes expands it from the
container's env; Kubeflow's notebook controller sets NB_PREFIX, the Deployment sets "/").

Every value goes through yaml.safe_dump: nothing from the profile is pasted into YAML text.
"""

from __future__ import annotations

import yaml

from toolkit.model.plan import Plan
from toolkit.model.steps import Service
from toolkit.render.common import Rendered, header
from toolkit.render.kubernetes_pod import DATA_SIZE, container, pod_spec
from toolkit.render.run_command import default_image, object_name, password_auth

FOLDER = "k8s"
JUPYTER_PORT = 8888        # Kubeflow notebooks are reached on 8888
NB_PREFIX_DEFAULT = "/"


def _meta(plan: Plan, name: str, component: str) -> dict:
    return {"name": name,
            "labels": {"app.kubernetes.io/name": object_name(plan), "app.kubernetes.io/component": component,
                       "app.kubernetes.io/managed-by": "toolkit"},
            "annotations": {"dev.toolkit.profile.digest": plan.digest}}


def _selector(plan: Plan, component: str) -> dict:
    return {"app.kubernetes.io/name": object_name(plan), "app.kubernetes.io/component": component}


def secret_name(plan: Plan) -> str:
    return f"{object_name(plan)}-jupyter"


def _jupyter_service(plan: Plan) -> Service | None:
    return next((s for s in plan.steps if isinstance(s, Service) and s.in_image and s.port is not None), None)


def jupyter_command(service: Service) -> list[str]:
    """The image's Jupyter command on port 8888, with base_url from NB_PREFIX (expanded by Kubernetes)."""
    argv = [a for a in service.command if not a.startswith(("--port=", "--ServerApp.base_url="))]
    return [*argv, f"--port={JUPYTER_PORT}", "--ServerApp.base_url=$(NB_PREFIX)"]


def _jupyter_container(plan: Plan, service: Service, image: str) -> dict:
    key, var = ("password-hash", "JUPYTER_PASSWORD_HASH") if password_auth(plan) else ("token", "JUPYTER_TOKEN")
    env: list[dict] = [{"name": "NB_PREFIX", "value": NB_PREFIX_DEFAULT},
           {"name": var, "valueFrom": {"secretKeyRef": {"name": secret_name(plan), "key": key}}}]
    spec = container(plan, image, "jupyter", command=jupyter_command(service), env=env)
    spec["ports"] = [{"name": "notebook-port", "containerPort": JUPYTER_PORT, "protocol": "TCP"}]
    probe = {"tcpSocket": {"port": JUPYTER_PORT}, "periodSeconds": 10}
    spec["readinessProbe"] = {**probe, "initialDelaySeconds": 5}
    spec["livenessProbe"] = {**probe, "initialDelaySeconds": 60, "failureThreshold": 6}
    return spec


def manifests(plan: Plan, image: str | None = None, runtime_class: str | None = None) -> dict[str, list[dict]]:
    """file name (under k8s/) -> the objects in it."""
    image = image or default_image(plan)
    name = object_name(plan)
    pvc = f"{name}-data"
    files: dict[str, list[dict]] = {}
    files["pvc.yaml"] = [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(plan, pvc, "data"),
                          "spec": {"accessModes": ["ReadWriteOnce"],
                                   "resources": {"requests": {"storage": DATA_SIZE}}}}]
    train = container(plan, image, "train", command=[f"{plan.target.venv}/bin/python", "train.py"])
    files["job.yaml"] = [{
        "apiVersion": "batch/v1", "kind": "Job", "metadata": _meta(plan, f"{name}-train", "train"),
        "spec": {"suspend": True, "backoffLimit": 0,
                 "template": {"metadata": {"labels": _selector(plan, "train")},
                              "spec": pod_spec(plan, train, pvc, restart="Never", runtime_class=runtime_class)}}}]
    service = _jupyter_service(plan)
    if service is not None:
        notebook = _jupyter_container(plan, service, image)
        labels = _selector(plan, "jupyter")
        files["jupyter.yaml"] = [
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(plan, f"{name}-jupyter", "jupyter"),
             "spec": {"replicas": 1, "strategy": {"type": "Recreate"}, "selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels},
                                   "spec": pod_spec(plan, notebook, pvc, runtime_class=runtime_class)}}},
            {"apiVersion": "v1", "kind": "Service", "metadata": _meta(plan, f"{name}-jupyter", "jupyter"),
             "spec": {"type": "ClusterIP", "selector": labels,
                      "ports": [{"name": "http", "port": 80, "targetPort": "notebook-port", "protocol": "TCP"}]}},
        ]
        # Kubeflow's controller sets NB_PREFIX itself (only when the container has none) and finds the
        # server by the container's name (the Notebook's) and port 8888.
        kubeflow = {**notebook, "name": name, "env": [e for e in notebook["env"] if e["name"] != "NB_PREFIX"]}
        files["kubeflow-notebook.yaml"] = [
            {"apiVersion": "kubeflow.org/v1", "kind": "Notebook", "metadata": _meta(plan, name, "jupyter"),
             "spec": {"template": {"spec": pod_spec(plan, kubeflow, pvc, runtime_class=runtime_class)}}}]
    return files


def kustomization(plan: Plan, files: dict[str, list[dict]]) -> dict:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": [f for f in ("pvc.yaml", "job.yaml", "jupyter.yaml") if f in files]}


class _Dumper(yaml.SafeDumper):
    """yaml's safe dumper without anchors (a shared labels dict stays written out twice)."""

    def ignore_aliases(self, data) -> bool:
        return True


def dump(objects: list[dict]) -> str:
    return yaml.dump_all(objects, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=False,
                         width=1000)


def render(plan: Plan, image: str | None = None, runtime_class: str | None = None) -> Rendered:
    files = manifests(plan, image, runtime_class)
    head = header(plan)
    out = {f"{FOLDER}/{rel}": head + dump(objects) for rel, objects in files.items()}
    out[f"{FOLDER}/kustomization.yaml"] = head + dump([kustomization(plan, files)])
    return Rendered(files=out)
