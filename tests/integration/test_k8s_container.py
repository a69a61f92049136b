"""The Jupyter container of the rendered Kubernetes manifests, run for real: the datascience-cpu image
started with the Deployment's command, user and environment exactly as a kubelet would (the Secret's token
as JUPYTER_TOKEN, `$(NB_PREFIX)` expanded from the env the way Kubernetes expands it), with a
Kubeflow-style NB_PREFIX. Jupyter serves under that prefix on 8888 and refuses its API without the token.
No cluster runs here (no k3s/kind): this is the container, not the scheduling."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request
import uuid

import pytest

from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import kubernetes

from .harness import LOOPBACK, SESSION_LABEL, TEST_LABEL, remove_container

PREFIX = "/notebook/team-a/tk/"
TOKEN = uuid.uuid4().hex


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion in command and args (a reference to an unknown variable stays as is)."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), text)


def status(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0               # not listening yet (Docker's port proxy accepts before Jupyter does)


@pytest.mark.docker
def test_the_deployments_jupyter_serves_under_nb_prefix_with_the_secrets_token(docker_engine, datascience_image,
                                                                               _test_session_id):
    plan = build_plan(load_profile("datascience-cpu"))
    deployment = kubernetes.manifests(plan, image=datascience_image)["jupyter.yaml"][0]
    pod = deployment["spec"]["template"]["spec"]
    c = pod["containers"][0]
    secrets = {"datascience-cpu-jupyter": {"token": TOKEN}}
    env = {}
    for e in c["env"]:
        if "valueFrom" in e:
            ref = e["valueFrom"]["secretKeyRef"]
            env[e["name"]] = secrets[ref["name"]][ref["key"]]
        else:
            env[e["name"]] = e["value"]
    env["NB_PREFIX"] = PREFIX.rstrip("/")         # as Kubeflow's controller sets it (no trailing slash)
    command = [expand(a, env) for a in c["command"]]
    user = f"{c['securityContext']['runAsUser']}:{c['securityContext']['runAsGroup']}"
    container = docker_engine.containers.run(
        c["image"], command[1:], entrypoint=command[0], user=user, environment=env, detach=True,
        name=f"toolkit-test-k8s-jupyter-{uuid.uuid4().hex[:8]}", labels={TEST_LABEL: "1", SESSION_LABEL: _test_session_id},
        working_dir="/tmp",       # the PVC's folder (~/work) is not mounted here
        shm_size="1g", ports={f"{c['ports'][0]['containerPort']}/tcp": (LOOPBACK, None)})
    try:
        container.reload()
        port = int(container.attrs["NetworkSettings"]["Ports"]["8888/tcp"][0]["HostPort"])
        base = f"http://{LOOPBACK}:{port}{PREFIX}"
        deadline = time.monotonic() + 60
        while status(base + "api/status", TOKEN) != 200 and time.monotonic() < deadline:
            time.sleep(1)
        assert status(base + "api/status", TOKEN) == 200, container.logs(tail=40).decode(errors="replace")
        assert status(base + "api/status") in (401, 403)               # no token, no API
        assert status(base + "api/status", "wrong" + TOKEN) in (401, 403)
        assert status(f"http://{LOOPBACK}:{port}/api/status", TOKEN) == 404   # only under the prefix
    finally:
        remove_container(container)
