"""devcontainer.json (JSON with comments): the image and features toolkit knows, the remote user, its
environment, and postCreateCommand / onCreateCommand / updateContentCommand as run: steps."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from toolkit import inputs
from toolkit.profile import patterns as P
from toolkit.profile import requirement_files as rf
from toolkit.profile.adopt import steps
from toolkit.profile.adopt.draft import Draft

CODENAMES = {"focal": ("ubuntu", "20.04"), "jammy": ("ubuntu", "22.04"), "noble": ("ubuntu", "24.04"),
             "bullseye": ("debian", "11"), "bookworm": ("debian", "12"), "trixie": ("debian", "13")}
COMMANDS = ("onCreateCommand", "updateContentCommand", "postCreateCommand")
NOT_ADOPTED = {
    "postStartCommand": "runs at every start of the container; toolkit's steps run once, when applied or built",
    "postAttachCommand": "runs at every attach of the editor",
    "initializeCommand": "runs on your own machine, not in the environment",
    "build": "toolkit renders its own Dockerfile from the profile", "dockerFile": "toolkit renders its own Dockerfile",
    "dockerfile": "toolkit renders its own Dockerfile", "dockerComposeFile": "compose set-ups are not adopted",
    "customizations": "editor settings: `toolkit render --format devcontainer` writes a devcontainer.json",
    "extensions": "editor settings", "settings": "editor settings", "forwardPorts": "ports are published when the "
    "container runs (jupyter.port for Jupyter)", "mounts": "mounts belong to how the container runs",
    "runArgs": "arguments of docker run", "workspaceFolder": "toolkit's steps run in the user's home",
}


def jsonc(text: str) -> str:
    """JSON with comments and trailing commas (as VS Code writes devcontainer.json) as plain JSON."""
    out, i, n, in_str = [], 0, len(text), False
    while i < n:
        ch = text[i]
        if in_str:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
            out.append(ch)
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
            continue
        elif ch == "," and re.match(r"\s*[}\]]", text[i + 1:i + 200]):
            pass                                # a trailing comma
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def devcontainer(draft: Draft, path: Path, newest: dict[str, str]) -> None:
    where = rf.display(path)
    text = inputs.read_text(path, what="devcontainer.json", display=where)
    try:
        data = json.loads(jsonc(text))
    except json.JSONDecodeError as exc:
        raise inputs.InputError(where, f"not valid JSON (with comments): {exc.msg}", line=exc.lineno,
                                what="devcontainer.json") from None
    if not isinstance(data, dict):
        raise inputs.InputError(where, "not a JSON object", what="devcontainer.json")
    workspace = path.parent.parent if path.parent.name == ".devcontainer" else path.parent
    user = data.get("remoteUser") or data.get("containerUser")
    if isinstance(user, str) and user != "root":
        if P.UNIX_NAME.fullmatch(user):
            draft.user = user
            draft.took(f"{where} remoteUser", f"{user} -> user.name")
        else:
            draft.skip(f"{where} remoteUser", user, "not a Unix user name toolkit takes")
    if isinstance(data.get("image"), str):
        _image(draft, f"{where} image", data["image"], newest)
    for feature, options in (data.get("features") or {}).items():
        _feature(draft, f"{where} features.{inputs.shown(feature, 80)}", feature,
                 options if isinstance(options, dict) else {}, newest)
    host = data.get("hostRequirements") or {}
    if isinstance(host, dict) and host.get("gpu") in (True, "optional"):
        draft.gpu = True
        draft.took(f"{where} hostRequirements.gpu", "gpu -> gpu.enabled")
    for key in ("containerEnv", "remoteEnv"):
        for name, value in (data.get(key) or {}).items():
            if "${" in str(value):
                draft.skip(f"{where} {key}.{inputs.key_name(name)}", str(name), "refers to another variable "
                           "(${...}); set the value itself in env:")
            else:
                draft.env_var(f"{where} {key}.{inputs.key_name(name)}", str(name), str(value))
    for key in COMMANDS:
        cmd = data.get(key)
        parts: list[tuple[str, Any]] = list(cmd.items()) if isinstance(cmd, dict) else [("", cmd)] if cmd else []
        for label, one in parts:
            stem = re.sub(r"[^a-z0-9.-]+", "-", f"{key}-{label}".lower().replace("command", "")).strip("-")
            steps.command(draft, f"{where} {key}" + (f".{label}" if label else ""), one, stem or "post-create",
                          workspace, newest, user=draft.user or "dev")
    for key, why in NOT_ADOPTED.items():
        if key in data:
            draft.skip(f"{where} {key}", "", why)


def _image(draft: Draft, where: str, image: str, newest: dict[str, str]) -> None:
    tag = image.rsplit("/", 1)[-1]
    low = tag.lower()
    found = []
    m = re.search(r"ubuntu-?(\d\d\.\d\d)", low)
    os = ("ubuntu", m[1]) if m else next((v for k, v in CODENAMES.items() if k in low), None)
    if os is None and (m := re.search(r"debian-?(\d+)", low)):
        os = ("debian", m[1])
    if os is None and re.match(r"python:3\.\d+(-slim)?$", low):
        os = ("debian", "12")        # the official python images' default
        found.append("the python image's default Debian 12")
    if os:
        draft.os = os
        found.append(f"os {os[0]} {os[1]}")
    if (m := re.search(r"python:(?:\d+-)?(3\.\d+)", low)) or (m := re.search(r"[-:]py(?:thon)?(3\.?\d+)", low)):
        ver = m[1] if "." in m[1] else m[1][0] + "." + m[1][1:]
        draft.python = ver
        found.append(f"python {ver}")
    if (m := re.search(r"cuda:?(\d+\.\d+)", low)):
        draft.gpu, draft.cuda = True, m[1]
        draft.nvcc = draft.nvcc or "devel" in low
        found.append(f"gpu.cuda {m[1]}" + (" with nvcc" if "devel" in low else ""))
    if image.startswith("pytorch/pytorch:") and (m := re.match(r"(\d+\.\d+(?:\.\d+)?)", tag.split(":", 1)[1])):
        draft.requirement(where, f"torch=={m[1]}", newest)
    if found:
        draft.took(where, f"{inputs.shown(image, 80)} -> " + ", ".join(found) + " (toolkit picks its own base image)")
    else:
        draft.skip(where, image, "an image toolkit cannot read a release from; set os: (and os.base_image) yourself")


def _feature(draft: Draft, where: str, feature: str, options: dict, newest: dict[str, str]) -> None:
    name = feature.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    if name == "python":
        version = str(options.get("version", ""))
        if re.fullmatch(r"3\.\d+(\.\d+)?", version):
            draft.python = ".".join(version.split(".")[:2])
            draft.took(where, f"python {version} -> python.version {draft.python}")
        else:
            draft.took(where, "python -> the OS's Python (python.version: system)")
    elif name == "git":
        draft.took(where, "git -> git (installed by default)")
    elif name == "git-lfs":
        draft.lfs = True
        draft.took(where, "git-lfs -> git.lfs")
    elif name == "nvidia-cuda":
        draft.gpu = True
        cuda = str(options.get("cudaVersion", ""))
        if re.fullmatch(r"\d+\.\d+", cuda):
            draft.cuda = cuda
        draft.nvcc = draft.nvcc or bool(options.get("installToolkit"))
        draft.took(where, "nvidia-cuda -> gpu.enabled" + (f", gpu.cuda {cuda}" if draft.cuda else "") +
                   (", gpu.nvcc" if draft.nvcc else ""))
    elif name == "node":
        draft.apt += ["nodejs", "npm"]
        draft.took(where, "node -> packages.apt nodejs, npm (the OS's release)")
    elif name == "github-cli":
        draft.apt.append("gh")
        draft.took(where, "github-cli -> packages.apt gh")
    elif name in ("jupyterlab", "jupyter"):
        draft.jupyter = "lab"
        draft.took(where, f"{name} -> jupyter.enabled")
    elif name == "common-utils":
        user = options.get("username")
        if isinstance(user, str) and P.UNIX_NAME.fullmatch(user) and user not in ("root", "automatic", "none"):
            draft.user = draft.user or user
            draft.took(where, f"common-utils username {user} -> user.name")
        else:
            draft.took(where, "common-utils -> the profile's user (user.name)")
    else:
        draft.skip(where, "", "a feature toolkit has no equivalent for; add its packages to packages.apt or a run: "
                   "step")
