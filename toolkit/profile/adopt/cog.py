"""cog.yaml (Replicate's Cog): build.gpu, cuda, python_version, python_packages, python_requirements,
system_packages and run; what serves a model (predict, train, image, concurrency) is not toolkit's."""

from __future__ import annotations

from pathlib import Path

from toolkit import inputs
from toolkit.profile import patterns as P
from toolkit.profile import requirement_files as rf
from toolkit.profile.adopt import python_files, steps
from toolkit.profile.adopt.draft import Draft, mapping

SERVING = ("predict", "train", "image", "concurrency", "environment", "tests")


def cog(draft: Draft, path: Path, newest: dict[str, str]) -> None:
    where = rf.display(path)
    doc = inputs.load_yaml(path, what="cog.yaml", display=where)
    data = mapping(doc.data)

    def at(*keys) -> str:
        pos = doc.position(keys)
        return f"{where}:{pos[0]}" if pos else where

    for key in SERVING:
        if key in data:
            draft.skip(at(key), f"{key}:", "serves or packages a model: toolkit builds the environment only")
    build = mapping(data.get("build"))
    if build.get("gpu") is True:
        draft.gpu = True
        draft.took(at("build", "gpu"), "gpu: true -> gpu.enabled")
    if build.get("cuda"):
        draft.gpu, draft.cuda = True, str(build["cuda"])
        draft.took(at("build", "cuda"), f"cuda: {build['cuda']} -> gpu.cuda")
    if build.get("python_version"):
        draft.python = ".".join(str(build["python_version"]).split(".")[:2])
        draft.took(at("build", "python_version"), f"python_version: {build['python_version']} -> python.version "
                   f"{draft.python}")
    for i, pkg in enumerate(build.get("python_packages") or []):
        draft.requirement(at("build", "python_packages", i), str(pkg), newest)
    if build.get("python_requirements"):
        python_files.requirements(draft, path.parent / str(build["python_requirements"]), newest,
                                  at("build", "python_requirements"))
    for i, pkg in enumerate(build.get("system_packages") or []):
        name = str(pkg)
        if P.APT_PACKAGE.fullmatch(name):
            draft.apt.append(name)
            draft.took(at("build", "system_packages", i), f"{name} -> packages.apt")
        else:
            draft.skip(at("build", "system_packages", i), name, "not a Debian package name toolkit takes")
    for i, item in enumerate(build.get("run") or []):
        cmd = item.get("command") if isinstance(item, dict) else item
        if isinstance(item, dict) and item.get("mounts"):
            draft.skip(at("build", "run", i), str(cmd), "a command with secret mounts: toolkit keeps secrets out of "
                       "profiles; run it yourself with the secret at hand")
            continue
        steps.command(draft, at("build", "run", i), cmd, "cog-run", path.parent, newest)
    known = ("gpu", "cuda", "python_version", "python_packages", "python_requirements", "system_packages", "run")
    for key in [k for k in build if k not in known]:
        draft.skip(at("build", key), f"build.{key}", "not a setting toolkit has an equivalent for")
