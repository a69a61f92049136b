"""Hostile input to the cluster formats (render --format k8s / apptainer): the --image and --runtime-class
options are refused with what is wrong (exit 2, no traceback, the value never becomes YAML or a definition
header), and a profile's odd-but-valid values come back from the manifests and the definition exactly."""

from __future__ import annotations

import shlex

import pytest
import yaml

from tests.unit.hostile.test_writes import refused, toolkit

PROFILE = "datascience-cpu"
BAD_IMAGES = {
    "newline": "img:1\nBootstrap: localimage",
    "shell text": "img;rm -rf /",
    "upper case": "Team/Img:1",
    "archive with a newline": "docker-archive:a.tar\n%post",
    "archive with spaces": "docker-archive:my image.tar",
    "empty archive": "docker-archive:",
}
BAD_CLASSES = ["Nvidia", "nvidia\nx: 1", "-nvidia", "nv idia", "a" * 254, ""]


@pytest.mark.parametrize("fmt", ["k8s", "apptainer"])
@pytest.mark.parametrize("case", list(BAD_IMAGES))
def test_bad_image_is_refused(case, fmt, tmp_path):
    refused(toolkit("render", PROFILE, "--format", fmt, "--image", BAD_IMAGES[case], "-o", str(tmp_path)), "--image")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("value", BAD_CLASSES)
def test_bad_runtime_class_is_refused(value, tmp_path):
    refused(toolkit("render", "pytorch-cuda", "--format", "k8s", "--runtime-class", value, "-o", str(tmp_path)),
            "--runtime-class")
    assert not list(tmp_path.iterdir())


def test_docker_archive_is_for_apptainer_only(tmp_path):
    refused(toolkit("render", PROFILE, "--format", "k8s", "--image", "docker-archive:x.tar", "-o", str(tmp_path)),
            "apptainer only")
    ok = toolkit("render", PROFILE, "--format", "apptainer", "--image", "docker-archive:out/x.tar", "-o", str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert "Bootstrap: docker-archive\nFrom: out/x.tar\n" in (tmp_path / "apptainer" / "datascience-cpu.def").read_text()


def test_odd_profile_values_come_back_exactly(tmp_path):
    odd = "a'b \"c\" $(id) `id` ; #d % e: {f} [g] *h &i !j"
    odd_env = "a b: c=d, e@f %g +h -i ./j"     # env values allow only [A-Za-z0-9_./:,=@%+ -]
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({
        "name": "odd.name_1", "extends": PROFILE, "description": odd, "env": {"ODD": odd_env},
    }))
    out = tmp_path / "out"
    res = toolkit("render", str(tmp_path / "p.yaml"), "--format", "k8s", "--runtime-class", "nvidia",
                  "-o", str(out))
    assert res.returncode == 0, res.stderr
    job = yaml.safe_load((out / "k8s" / "job.yaml").read_text().split("\n", 1)[1])
    assert job["metadata"]["name"] == "odd-name-1-train"
    env = {e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["ODD"] == odd_env
    res = toolkit("render", str(tmp_path / "p.yaml"), "--format", "apptainer", "-o", str(out))
    assert res.returncode == 0, res.stderr
    text = (out / "apptainer" / "odd-name-1.def").read_text()
    assert f"org.opencontainers.image.description {odd}\n" in text
    export = next(ln.strip() for ln in text.splitlines() if ln.strip().startswith("export ODD="))
    assert shlex.split(export) == ["export", f"ODD={odd_env}"]
