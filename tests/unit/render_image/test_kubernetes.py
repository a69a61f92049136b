"""k8s renderer: every bundled profile's manifests pass kubernetes-validate (strict) for every Kubernetes
version it ships; GPU plans ask for nvidia.com/gpu and a memory-backed /dev/shm, CPU plans never ask
for a GPU; Jupyter's token comes from a Secret by reference; hostile values stay data."""

from __future__ import annotations

import dataclasses

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

from tests.unit.render.conftest import HOSTILE, make_hostile_plan, make_plan
from tests.unit.render_fixtures import bundled_plans
from toolkit.model.steps import Service, WriteFile
from toolkit.render import kubernetes

# Versions of the form 1.30.0 (kubernetes-validate also ships "master"); the oldest few are dropped only
# if a release of the package stops shipping them.
VERSIONS = [v for v in all_versions() if v[0].isdigit()]


def objects(rendered, name: str) -> list[dict]:
    return [o for o in yaml.safe_load_all(rendered.files[f"k8s/{name}"]) if o is not None]


def all_objects(rendered) -> dict[str, list[dict]]:
    return {rel.removeprefix("k8s/"): objects(rendered, rel.removeprefix("k8s/")) for rel in rendered.files}


def pods(rendered) -> list[dict]:
    found = []
    for objs in all_objects(rendered).values():
        for o in objs:
            spec = o.get("spec", {})
            tmpl = spec.get("template", {}).get("spec")
            if tmpl:
                found.append(tmpl)
    return found


def test_versions_cover_what_clusters_run():
    assert len(VERSIONS) >= 5 and any(v.startswith("1.30.") for v in VERSIONS)


@pytest.mark.lint
@pytest.mark.parametrize("name,plan", bundled_plans(), ids=lambda v: v if isinstance(v, str) else "")
def test_bundled_manifests_pass_kubernetes_validate_strict(name, plan):
    rendered = kubernetes.render(plan, runtime_class="nvidia")
    checked = 0
    for rel, objs in all_objects(rendered).items():
        if rel in ("kustomization.yaml", "kubeflow-notebook.yaml"):
            continue        # not Kubernetes API kinds: checked below
        for obj in objs:
            for version in VERSIONS:
                kubernetes_validate.validate(obj, version, strict=True)
                checked += 1
    assert checked >= 2 * len(VERSIONS)


def test_a_wrong_field_fails_validation():
    """The validation above can fail: an unknown field in strict mode, a string where a number goes."""
    plan = dict(bundled_plans())["pytorch-cuda"]
    job = objects(kubernetes.render(plan), "job.yaml")[0]
    job["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsUsr"] = 1000
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, VERSIONS[-1], strict=True)
    job = objects(kubernetes.render(plan), "job.yaml")[0]
    job["spec"]["backoffLimit"] = "zero"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, VERSIONS[-1], strict=True)


@pytest.mark.parametrize("name,plan", bundled_plans(), ids=lambda v: v if isinstance(v, str) else "")
def test_kubeflow_notebook_pod_is_a_valid_pod_and_kustomization_lists_the_files(name, plan):
    rendered = kubernetes.render(plan)
    files = all_objects(rendered)
    kustom = files["kustomization.yaml"][0]
    assert kustom["kind"] == "Kustomization" and kustom["resources"]
    assert all(f"k8s/{r}" in rendered.files for r in kustom["resources"])
    assert "kubeflow-notebook.yaml" not in kustom["resources"]      # its CRD is Kubeflow's
    if "kubeflow-notebook.yaml" in files:
        notebook = files["kubeflow-notebook.yaml"][0]
        assert notebook["apiVersion"] == "kubeflow.org/v1" and notebook["kind"] == "Notebook"
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": notebook["spec"]["template"]["spec"]}
        kubernetes_validate.validate(pod, VERSIONS[-1], strict=True)
        c = pod["spec"]["containers"][0]
        assert c["name"] == notebook["metadata"]["name"]            # how the controller finds it
        assert "NB_PREFIX" not in [e["name"] for e in c["env"]]     # the controller sets it


@pytest.mark.parametrize("name,plan", bundled_plans(), ids=lambda v: v if isinstance(v, str) else "")
def test_gpu_plans_ask_for_a_gpu_and_shared_memory_cpu_plans_do_not(name, plan):
    rendered = kubernetes.render(plan, runtime_class="nvidia")
    specs = pods(rendered)
    assert specs
    for spec in specs:
        c = spec["containers"][0]
        limits = c["resources"]["limits"]
        shm = [v for v in spec["volumes"] if v["name"] == "dshm"]
        if plan.target.gpu:
            assert limits["nvidia.com/gpu"] == 1
            assert shm == [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}]
            assert {"name": "dshm", "mountPath": "/dev/shm"} in c["volumeMounts"]
            assert spec["runtimeClassName"] == "nvidia"
            assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
        else:
            assert "nvidia.com/gpu" not in limits and "nvidia.com/gpu" not in c["resources"]["requests"]
            assert "runtimeClassName" not in spec and "tolerations" not in spec
        if plan.target.uid is not None:
            assert c["securityContext"]["runAsUser"] == plan.target.uid
            assert c["securityContext"]["runAsNonRoot"] is True
            assert spec["securityContext"]["fsGroup"] == plan.target.gid
        claim = [v for v in spec["volumes"] if "persistentVolumeClaim" in v]
        assert claim and claim[0]["persistentVolumeClaim"]["claimName"].endswith("-data")


def test_shm_counts_against_a_memory_limit_above_it():
    c = pods(kubernetes.render(make_plan()))[0]["containers"][0]
    assert c["resources"]["limits"]["memory"] == "8Gi" and c["resources"]["requests"]["memory"] == "2Gi"


def test_no_runtime_class_unless_asked():
    assert all("runtimeClassName" not in s for s in pods(kubernetes.render(make_plan())))


def test_jupyter_token_comes_from_a_secret_reference_and_nb_prefix_is_the_base_url():
    rendered = kubernetes.render(make_plan())
    deployment, service = objects(rendered, "jupyter.yaml")
    c = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in c["env"]}
    assert env["JUPYTER_TOKEN"] == {"name": "JUPYTER_TOKEN",
                                    "valueFrom": {"secretKeyRef": {"name": "demo-jupyter", "key": "token"}}}
    assert env["NB_PREFIX"]["value"] == "/"
    assert c["command"][-2:] == ["--port=8888", "--ServerApp.base_url=$(NB_PREFIX)"]
    assert c["ports"][0]["containerPort"] == 8888
    assert service["spec"]["ports"][0]["targetPort"] == "notebook-port"
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    text = "".join(rendered.files.values())
    assert "kind: Secret" not in text and "stringData" not in text


def test_password_auth_takes_the_hash_from_the_secret():
    plan = make_plan()
    plan = dataclasses.replace(plan, steps=plan.steps + (
        WriteFile("jupyter", "password", path="/etc/jupyter/x.py", content="JUPYTER_PASSWORD_HASH"),))
    c = objects(kubernetes.render(plan), "jupyter.yaml")[0]["spec"]["template"]["spec"]["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in c["env"] if "valueFrom" in e}
    assert refs == {"JUPYTER_PASSWORD_HASH": "password-hash"}


def test_no_jupyter_no_deployment():
    plan = make_plan()
    plan = dataclasses.replace(plan, steps=tuple(s for s in plan.steps if not isinstance(s, Service)))
    rendered = kubernetes.render(plan)
    assert set(rendered.files) == {"k8s/pvc.yaml", "k8s/job.yaml", "k8s/kustomization.yaml"}
    assert objects(rendered, "kustomization.yaml")[0]["resources"] == ["pvc.yaml", "job.yaml"]


def test_job_is_suspended_until_its_command_is_patched():
    job = objects(kubernetes.render(make_plan()), "job.yaml")[0]
    assert job["spec"]["suspend"] is True
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_hostile_values_stay_yaml_data():
    plan = make_hostile_plan()
    rendered = kubernetes.render(plan, image="registry.example.com/ns/x:1")
    for text in rendered.files.values():
        assert text.isascii()
        head, _, body = text.partition("\n")
        assert head.startswith("# generated by toolkit ") and "\n" not in head
        for obj in yaml.safe_load_all(body):
            assert isinstance(obj, dict)
    objs = all_objects(rendered)
    name = objs["job.yaml"][0]["metadata"]["name"]
    assert name.replace("-", "").isalnum() and name == name.lower() and len(name) <= 63
    c = objs["job.yaml"][0]["spec"]["template"]["spec"]["containers"][0]
    # the hostile values come back exactly (no shell, no template saw them)
    assert c["command"][0] == plan.target.venv + "/bin/python"
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["PYTHONUNBUFFERED"] == "1" + HOSTILE
    for version in VERSIONS[-1:]:
        for rel, obj_list in objs.items():
            if rel not in ("kustomization.yaml", "kubeflow-notebook.yaml"):
                for obj in obj_list:
                    kubernetes_validate.validate(obj, version, strict=True)
