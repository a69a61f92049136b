"""`toolkit init NAME --from FILE...` on real files of each kind (adopt_samples/, written from each format's own
documentation): what it adopts, what it says it could not adopt item by item, and that what it writes
validates. Also the refusals: an unknown kind of file, a file toolkit did not write, a bad name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from toolkit.cli import main
from toolkit.plan.builder import build_plan
from toolkit.profile.adopt.devcontainer import jsonc
from toolkit.profile.loader import load_profile

SAMPLES = Path(__file__).parent / "adopt_samples"


def run(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    captured = capsys.readouterr()
    return exc.value.code or 0, captured.out + captured.err


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the samples (hidden folders included), the working folder."""
    shutil.copytree(SAMPLES, tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def init(capsys, name: str, *sources: str, out: str | None = None) -> tuple[dict, str, Path]:
    target = Path(out or f"out/{name}.yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    code, text = run(["init", name, *[a for s in sources for a in ("--from", f"samples/{s}")], "-o", str(target)],
                     capsys)
    assert code == 0, text
    plan = build_plan(load_profile(target))            # what it wrote validates
    assert plan.name == name
    return yaml.safe_load(target.read_text()), text, target


def section(text: str, title: str) -> str:
    return text.split(f"\n{title}\n", 1)[1] if f"\n{title}\n" in text else text.split(f"{title}\n", 1)[1]


def test_requirements_with_includes_keeps_what_pip_users_write(project, capsys):
    doc, text, target = init(capsys, "reqs", "pip/requirements.txt")
    assert doc["packages"]["pip"] == ["pytest", "pytest-cov", "beautifulsoup4", "docopt==0.6.1", "pandas<3,>=2.1"]
    written = (target.parent / "reqs-requirements.txt").read_text().splitlines()[1:]
    assert written == ['requests[security]==2.8.*,>=2.8.1; python_version < "2.7"',
                       "urllib3 @ https://github.com/urllib3/urllib3/archive/refs/tags/1.26.8.zip",
                       "six==1.16.0"]
    skipped = section(text, "not adopted")
    assert "requirements.txt:20: './downloads/numpy-1.9.2-cp34-none-win32.whl' is a local path" in skipped
    assert "requirements.txt:23: " in skipped and "has no project name" in skipped
    assert "constraints.txt:1: urllib3<2 - a constraint" in skipped
    assert "six==1.16.0 - its --hash dropped" in skipped
    assert "other-requirements.txt:2: pandas<3,>=2.1 -> packages.pip" in section(text, "adopted")


def test_a_clean_requirements_file_is_referenced_as_it_is(project, capsys):
    doc, text, _ = init(capsys, "clean", "pip/clean-requirements.txt")
    assert doc["packages"] == {"pip_requirements": ["../samples/pip/clean-requirements.txt"]}
    assert "not adopted" not in text


def test_pyproject_dependencies(project, capsys):
    doc, text, target = init(capsys, "spam", "pyproject/pyproject.toml")
    assert doc["frameworks"] == {"pytorch": {"version": "2.7.1"}}
    assert doc["packages"]["pip"] == ["httpx", "gidgethub[httpx]>4.0.0"]
    assert (target.parent / "spam-requirements.txt").read_text().splitlines()[1:] == [
        'django>2.1; os_name != "nt"', 'django>2.0; os_name == "nt"']
    skipped = section(text, "not adopted")
    assert "requires-python = >= 3.8" in skipped and "[project.optional-dependencies] gui" in skipped


def test_conda_environment_from_condas_documentation(project, capsys):
    doc, text, _ = init(capsys, "stats2", "conda/environment.yml")
    assert doc["os"] == {"distro": "debian", "version": "11"} and doc["python"] == {"version": "3.9"}
    assert doc["packages"] == {"apt": ["nodejs"], "pip": ["bokeh==2.4.2.*", "numpy==1.21.*", "flask",
                                                          "Flask-Testing"]}
    assert "environment.yml:12: pip - conda-only: the venv has pip" in section(text, "not adopted")
    assert "channels:" in section(text, "not adopted")


def test_conda_gpu_environment_maps_frameworks_cuda_and_conda_only_packages(project, capsys):
    doc, text, _ = init(capsys, "torch-gpu", "conda/environment-gpu.yml")
    assert doc["frameworks"] == {"pytorch": {"version": "2.7.1", "extras": ["torchvision"]}}
    assert doc["gpu"] == {"enabled": True, "cuda": "11.8"}               # cudatoolkit=11.8
    assert doc["packages"]["apt"] == ["ffmpeg"] and doc["git"] == {"lfs": True}
    assert doc["jupyter"] == {"enabled": True, "flavor": "lab"}
    assert doc["env"] == {"HF_HOME": "/data/hf"}
    skipped = section(text, "not adopted")
    for item in ("mkl - conda-only", "libgcc-ng - conda-only", "_openmp_mutex - conda-only",
                 "--index-url https://download.pytorch.org/whl/cu118 - --index-url is not taken", "-e . - -e is not",
                 "WANDB_API_KEY - looks like a secret"):
        assert item in skipped, item
    assert "not-a-real-key" not in text


def test_cog_build_section_and_run_commands(project, capsys):
    doc, text, target = init(capsys, "cog", "cog/cog.yaml")
    assert doc["gpu"] == {"enabled": True}           # cuda 12.4 gives way: torch 2.7.1 has no cu124 build
    assert "gpu.cuda: 12.4 - toolkit cannot build it here" in section(text, "not adopted")
    assert doc["frameworks"]["pytorch"] == {"version": "2.7.1", "extras": ["torchvision"]}
    assert doc["python"] == {"version": "3.11", "installer": "uv"}
    assert doc["packages"]["apt"] == ["ffmpeg", "libgl1-mesa-glx"]
    assert doc["packages"]["pip"] == ["pillow==10.4.0", "huggingface-hub==0.24.6"]   # `pip install x` -> pip
    assert doc["run"] == [{"name": "cog-run", "script": "cog-cog-run.sh"}, {"name": "cog-run-2",
                                                                            "script": "cog-cog-run-2.sh"}]
    script = (target.parent / "cog-cog-run.sh").read_text()
    assert script.startswith("#!/bin/sh\n") and "set -eu\n" in script and "| tar -xzf -" in script
    skipped = section(text, "not adopted")
    assert "predict: - serves or packages a model" in skipped and "a command with secret mounts" in skipped


def test_cog_with_python_requirements_and_an_argv_run(project, capsys):
    doc, _, _ = init(capsys, "cogreq", "cog-requirements/cog.yaml")
    assert doc["os"] == {"distro": "ubuntu", "version": "24.04"} and doc["python"] == {"version": "3.12"}
    assert doc["packages"] == {"pip_requirements": ["../samples/cog-requirements/requirements.txt"]}
    assert doc["run"] == [{"name": "cog-run", "command": ["git", "lfs", "install", "--system"]}]


def test_devcontainer_image_features_and_post_create(project, capsys):
    doc, text, target = init(capsys, "dev", "devcontainer/.devcontainer/devcontainer.json")
    assert doc["os"] == {"distro": "debian", "version": "12"} and doc["python"] == {"version": "3.11"}
    assert doc["user"] == {"name": "vscode"} and doc["git"] == {"lfs": True}
    assert doc["packages"] == {"apt": ["nodejs", "npm"],
                               "pip_requirements": ["../samples/devcontainer/requirements.txt"]}
    assert doc["env"] == {"PYTHONUNBUFFERED": "1"}
    assert doc["run"] == [{"name": "oncreate", "command": ["python3", "-m", "pip", "--version"], "user": "vscode"},
                          {"name": "postcreate-hooks", "user": "vscode", "script": "dev-postcreate-hooks.sh"}]
    assert "git lfs install && pre-commit install" in (target.parent / "dev-postcreate-hooks.sh").read_text()
    skipped = section(text, "not adopted")
    for item in ("docker-in-docker:2: a feature toolkit has no equivalent", "HF_TOKEN - refers to another variable",
                 "postStartCommand: runs at every start", "customizations: editor settings", "forwardPorts: ports"):
        assert item in skipped, item


def test_every_kind_at_once(project, capsys):
    doc, text, _ = init(capsys, "all", "pip/clean-requirements.txt", "pyproject/pyproject.toml",
                        "conda/environment-gpu.yml", "cog/cog.yaml", "devcontainer/.devcontainer/devcontainer.json")
    assert doc["frameworks"]["pytorch"]["version"] == "2.7.1" and doc["gpu"]["enabled"] is True
    assert {s["name"] for s in doc["run"]} == {"cog-run", "cog-run-2", "oncreate", "postcreate-hooks"}
    assert "already required by an earlier line" in text     # numpy in two files: the first wins


def test_rerun_overwrites_its_own_output_but_not_a_file_you_wrote(project, capsys):
    init(capsys, "again", "pyproject/pyproject.toml")
    init(capsys, "again", "pyproject/pyproject.toml")                    # toolkit wrote it: fine
    Path("out/mine.yaml").write_text("name: mine\n")
    code, text = run(["init", "mine", "--from", "samples/pyproject/pyproject.toml", "-o", "out/mine.yaml"], capsys)
    assert code == 2 and "mine.yaml" in text and "--force" in text, text
    assert Path("out/mine.yaml").read_text() == "name: mine\n"


@pytest.mark.parametrize("argv, fragment", [
    (["init", "p", "--from", "samples/pip/constraints.cfg"], "cannot tell what kind of file"),
    (["init", "Bad Name", "--from", "samples/pip/requirements.txt"], "NAME 'Bad Name'"),
    (["init", "p", "--from", "samples/nope/requirements.txt"], "not found"),
    (["init", "p"], "Missing option '--from'"),
])
def test_refusals(project, capsys, argv, fragment):
    code, text = run(argv, capsys)
    assert code == 2 and fragment in text and "Traceback" not in text, text


def test_a_broken_devcontainer_json_names_its_line(project, capsys):
    Path("bad.devcontainer.json").write_text('{\n  "image": "x",\n  "features": {\n}\n  "oops"\n}\n')
    code, text = run(["init", "p", "--from", "bad.devcontainer.json"], capsys)
    assert code == 2 and "bad.devcontainer.json:5" in text and "not valid JSON" in text, text


def test_jsonc_keeps_strings_that_look_like_comments():
    text = '{\n  // a comment\n  "url": "https://x//y", /* block */ "list": [1, 2,],\n  "s": "a,}",\n}\n'
    assert yaml.safe_load(jsonc(text)) == {"url": "https://x//y", "list": [1, 2], "s": "a,}"}


def test_hostile_items_are_not_adopted_and_never_printed_raw(project, capsys):
    Path("cog.yaml").write_text(yaml.safe_dump({"build": {
        "run": ["echo safe\u202etxt.sh", "printf '\x1b[2J'", ["rm", "-rf", "/tmp/x\n"], "pip install --index-url "
                "https://u:S3cr3tX@idx.example.com/simple evil"],
        "system_packages": ["curl; rm -rf /", "ffmpeg"], "python_packages": ["$(id)", "x @ http://h/x.whl"]}}),
        encoding="utf-8")
    Path("environment.yml").write_text("dependencies:\n  - numpy\nvariables:\n  X: \"$(id)\"\n  GH_TOKEN: S3cr3tX\n")
    code, text = run(["init", "p", "--from", "cog.yaml", "--from", "environment.yml", "-o", "p.yaml"], capsys)
    assert code == 0, text
    doc = yaml.safe_load(Path("p.yaml").read_text())
    assert doc["packages"] == {"apt": ["ffmpeg"], "pip": ["numpy"]}
    assert "S3cr3tX" not in text + Path("p.yaml").read_text()
    assert "\x1b" not in text and "\u202e" not in text
    skipped = section(text, "not adopted")
    assert skipped.count(" - ") >= 7, skipped
    build_plan(load_profile(Path("p.yaml")))
