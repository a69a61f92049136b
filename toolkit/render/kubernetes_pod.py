"""The pod pieces Kubernetes manifests share: the container (image, user, resources, GPU, /dev/shm, the
data volume) and the pod spec around it. Plain dicts: kubernetes.py dumps them with yaml.safe_dump.

- GPU plans request `nvidia.com/gpu` (limits; Kubernetes copies an extended resource's limit to its
  request), tolerate the usual GPU taint and take an optional runtimeClassName; CPU plans never do.
- /dev/shm is an emptyDir with medium Memory, sized like `docker run --shm-size` (run_command.SHM_SIZE)
  where PyTorch or a GPU needs it; it counts against the memory limit, which is sized above it.
- The image's non-root user (uid/gid) is runAsUser/runAsGroup/fsGroup, so a fresh volume is writable.
"""

from __future__ import annotations

from toolkit.model.plan import Plan
from toolkit.model.steps import CreateUser, Environment

GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT = {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}
SHM_LIMIT = "1Gi"          # as `--shm-size 1g` in run_command.SHM_SIZE and the devcontainer
CPU_REQUEST = "1"
MEMORY_REQUEST = "2Gi"
MEMORY_LIMIT = "8Gi"       # above SHM_LIMIT: a memory-backed emptyDir is charged to the container
DATA_VOLUME = "data"
DATA_SIZE = "20Gi"


def needs_shm(plan: Plan) -> bool:
    return plan.target.gpu or any(name == "pytorch" for name, _ in plan.versions)


def data_path(plan: Plan) -> str:
    """Where the persistent volume goes: a folder in the user's home (the image's dotfiles stay visible)."""
    home = plan.target.home if plan.target.user else None
    return f"{home.rstrip('/')}/work" if home else "/workspace"


def _sudo(plan: Plan) -> bool:
    return any(isinstance(s, CreateUser) and s.sudo for s in plan.steps)


def environment(plan: Plan) -> list[dict]:
    """The profile's run-time variables (the image has them already: listed so an overlay sees them)."""
    pairs = [(k, v) for s in plan.steps if isinstance(s, Environment) and not s.build_only for k, v in s.variables]
    return [{"name": k, "value": v} for k, v in dict(pairs).items()]


def container(plan: Plan, image: str, name: str, *, command: list[str] | None = None,
              env: list[dict] | None = None) -> dict:
    t = plan.target
    limits: dict = {"memory": MEMORY_LIMIT}
    if t.gpu:
        limits[GPU_RESOURCE] = 1
    spec: dict = {"name": name, "image": image, "imagePullPolicy": "IfNotPresent"}
    if command:
        spec["command"] = command
    spec["env"] = [*environment(plan), *(env or [])]
    spec["resources"] = {"requests": {"cpu": CPU_REQUEST, "memory": MEMORY_REQUEST}, "limits": limits}
    mounts = [{"name": DATA_VOLUME, "mountPath": data_path(plan)}]
    if needs_shm(plan):
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    spec["volumeMounts"] = mounts
    spec["workingDir"] = data_path(plan)
    security: dict = {"allowPrivilegeEscalation": _sudo(plan)}
    if t.uid is not None:
        security |= {"runAsNonRoot": True, "runAsUser": t.uid, "runAsGroup": t.gid if t.gid is not None else t.uid}
    spec["securityContext"] = security
    return spec


def pod_spec(plan: Plan, container_spec: dict, pvc: str, *, restart: str | None = None,
             runtime_class: str | None = None) -> dict:
    t = plan.target
    spec: dict = {}
    if restart:
        spec["restartPolicy"] = restart
    if t.gpu and runtime_class:
        spec["runtimeClassName"] = runtime_class
    if t.gpu:
        spec["tolerations"] = [dict(GPU_TAINT)]
    security: dict = {"seccompProfile": {"type": "RuntimeDefault"}}
    if t.uid is not None:
        security["fsGroup"] = t.gid if t.gid is not None else t.uid
    spec["securityContext"] = security
    spec["containers"] = [container_spec]
    volumes: list[dict] = [{"name": DATA_VOLUME, "persistentVolumeClaim": {"claimName": pvc}}]
    if needs_shm(plan):
        volumes.append({"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": SHM_LIMIT}})
    spec["volumes"] = volumes
    return spec
