"""What `toolkit init --from` has gathered from the files people already have, and the profile it makes.

Every reader (requirement files, pyproject.toml, environment.yml, cog.yaml, devcontainer.json) adds to one
Draft: each item it takes is noted in `adopted`, each it cannot take in `skipped` with why, item by item. A
pip requirement is judged by the same rules as a requirements file (reqlines.parse_line): framework packages
become `frameworks:`, plain ones `packages.pip`, ones with markers, URLs or hashes go into a requirements
file written beside the profile (`packages.pip_requirements`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from toolkit import inputs
from toolkit.profile import patterns as P
from toolkit.profile import policy
from toolkit.profile.reqlines import LineError, parse_line

# pip distribution -> (frameworks section, extra of it or None)
FRAMEWORK_PACKAGES = {"torch": ("pytorch", None), "torchvision": ("pytorch", "torchvision"),
                      "torchaudio": ("pytorch", "torchaudio"), "tensorflow": ("tensorflow", None),
                      "tensorflow-cpu": ("tensorflow", None), "tensorflow-gpu": ("tensorflow", None),
                      "keras": ("keras", None), "jax": ("jax", None), "jaxlib": ("jax", None)}
JUPYTER = {"jupyterlab": "lab", "notebook": "notebook", "jupyter": "lab"}


def mapping(value: object) -> dict[str, Any]:
    """value when it is a mapping (of a file read as YAML, JSON or TOML), else an empty one."""
    return value if isinstance(value, dict) else {}


@dataclass
class Draft:
    adopted: list[tuple[str, str]] = field(default_factory=list)           # (where, what became of it)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)      # (where, item, why)
    os: tuple[str, str] | None = None                                      # (distro, version) from an image
    python: str | None = None
    uv: bool = False                                                       # python.installer: uv
    gpu: bool = False
    cuda: str | None = None
    nvcc: bool = False
    frameworks: dict[str, dict[str, Any]] = field(default_factory=dict)
    apt: list[str] = field(default_factory=list)
    pip: list[str] = field(default_factory=list)                           # plain requirements
    pip_lines: list[str] = field(default_factory=list)                     # for the written requirements file
    requirement_files: list[Path] = field(default_factory=list)            # files referenced as they are
    jupyter: str | None = None
    lfs: bool = False
    user: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    run: list[dict[str, Any]] = field(default_factory=list)                # {name, command} or {name, script_text}
    names: set[str] = field(default_factory=set)                           # canonical pip names taken

    def took(self, where: str, what: str) -> None:
        self.adopted.append((where, what))

    def skip(self, where: str, item: str, why: str) -> None:
        self.skipped.append((where, inputs.shown(item, 100), why))

    def env_var(self, where: str, name: str, value: str) -> None:
        why = (None if P.ENV_NAME.fullmatch(name) else "not a variable name") or policy.env_name_problem(name) or \
            policy.env_value_problem(value) or (None if P.ENV_VALUE.fullmatch(value) else
                                                "the value holds characters a profile does not take ($, quotes...)")
        if why:
            self.skip(where, name, why)
        else:
            self.env[name] = value
            self.took(where, f"{name} -> env")

    # ------------------------------------------------------------------ pip requirements
    def requirement(self, where: str, text: str, newest: dict[str, str] | None = None, note: str = "") -> None:
        """One pip requirement line from any source, judged as a requirements-file line; `note` is added to
        what is said about a requirement that goes to pip."""
        try:
            parsed = parse_line(text.strip())
        except LineError as exc:
            self.skip(where, text, f"{exc.message} ({exc.hint})")
            return
        if parsed.kind != "requirement":
            self.skip(where, text, "an option line, not a requirement: toolkit takes index and build options from "
                      "the profile's network: section")
            return
        req = Requirement(parsed.requirement)
        name = canonicalize_name(req.name)
        if name in FRAMEWORK_PACKAGES and not req.url:
            self._framework(where, name, req, newest or {})
            return
        if name in JUPYTER and not req.url and not req.marker:
            self.jupyter = JUPYTER[name]
            self.took(where, f"{text.strip()} -> jupyter.enabled ({JUPYTER[name]}); toolkit installs and runs it")
            return
        if name in self.names and not req.marker:
            self.skip(where, text, f"{name} is already required by an earlier line")
            return
        self.names.add(name)
        plain = str(req) if not (req.marker or req.url or parsed.hashes) else None
        if plain and P.PIP_REQUIREMENT.fullmatch(plain) and not policy.requirement_problem(plain):
            self.pip.append(plain)
            self.took(where, f"{plain} -> packages.pip{note}")
        else:
            line = " ".join([parsed.requirement, *(f"--hash={h}" for h in parsed.hashes)])
            self.pip_lines.append(line)
            self.took(where, f"{parsed.requirement} -> the written requirements file{note}")

    def _framework(self, where: str, name: str, req: Requirement, newest: dict[str, str]) -> None:
        section, extra = FRAMEWORK_PACKAGES[name]
        spec = self.frameworks.setdefault(section, {})
        if extra:
            spec.setdefault("extras", [])
            if extra not in spec["extras"]:
                spec["extras"].append(extra)
            self.took(where, f"{req} -> frameworks.{section}.extras ({extra}: the release that fits the framework)")
            return
        pinned = [s.version.split("+")[0] for s in req.specifier if s.operator in ("==", "~=", "===")]
        version = pinned[0].rstrip(".*").rstrip(".") if pinned else None
        if version and P.VERSION.fullmatch(version):
            spec["version"] = version
            self.took(where, f"{req} -> frameworks.{section}.version {version}" +
                      (" (the +local build follows gpu.cuda)" if "+" in str(req.specifier) else ""))
        elif newest.get(section):
            spec["version"] = newest[section]
            self.took(where, f"{req} -> frameworks.{section}.version {newest[section]} (the newest release toolkit "
                      "knows; pin another there)")
        else:
            if not spec.get("extras"):
                self.frameworks.pop(section, None)
            self.skip(where, str(req), f"no version toolkit can pin: set frameworks.{section}.version yourself")

    def settle(self, newest: dict[str, str]) -> None:
        """A framework named only through a companion (torchvision without torch): pin the newest release.
        Hashes on some lines of the written file but not all: pip's hash-checking mode would refuse the
        others, so the hashes go (said line by line)."""
        hashed = [line for line in self.pip_lines if " --hash=" in line]
        if hashed and len(hashed) < len(self.pip_lines):
            for line in hashed:
                self.skip("the written requirements file", line.split(" --hash=")[0], "its --hash dropped: pip "
                          "checks hashes for every requirement of a file or none, and other lines have none")
            self.pip_lines = [line.split(" --hash=")[0] for line in self.pip_lines]
        for section, spec in list(self.frameworks.items()):
            if spec.get("version"):
                continue
            if newest.get(section):
                spec["version"] = newest[section]
                self.took(f"frameworks.{section}", f"version {newest[section]} (the newest release toolkit knows, "
                          f"for {', '.join(spec.get('extras', []))})")
            else:
                self.frameworks.pop(section)
                self.skip(f"frameworks.{section}", section, "no version to pin: set it yourself")

    # ------------------------------------------------------------------ the profile
    def profile(self, name: str, base: Path) -> tuple[dict[str, Any], dict[str, str]]:
        """The profile document and the files written beside it (name -> text); paths relative to `base`."""
        doc: dict[str, Any] = {"name": name, "description": "adopted by toolkit init --from"}
        if self.os:
            doc["os"] = {"distro": self.os[0], "version": self.os[1]}
        if self.python:
            doc["python"] = {"version": self.python, **({"installer": "uv"} if self.uv else {})}
        if self.gpu or self.cuda:
            doc["gpu"] = {"enabled": True, **({"cuda": self.cuda} if self.cuda else {}),
                          **({"nvcc": True} if self.nvcc else {})}
        fw = {k: v for k, v in self.frameworks.items() if v.get("version")}
        if fw.get("pytorch") and fw["pytorch"].get("extras"):
            fw["pytorch"]["extras"] = sorted(fw["pytorch"]["extras"])
        if fw:
            doc["frameworks"] = fw
        files: dict[str, str] = {}
        packages: dict[str, Any] = {}
        if self.apt:
            packages["apt"] = list(dict.fromkeys(self.apt))
        refs = [os.path.relpath(p, base) for p in self.requirement_files]
        if self.pip_lines:
            files[f"{name}-requirements.txt"] = ("# written by toolkit init from the files you gave it; edit freely\n"
                                                 + "".join(line + "\n" for line in self.pip_lines))
            refs.append(f"{name}-requirements.txt")
        if refs:
            packages["pip_requirements"] = list(dict.fromkeys(refs))
        if self.pip:
            packages["pip"] = self.pip
        if packages:
            doc["packages"] = packages
        if self.jupyter:
            doc["jupyter"] = {"enabled": True, "flavor": self.jupyter}
        if self.lfs:
            doc["git"] = {"lfs": True}
        if self.user:
            doc["user"] = {"name": self.user}
        if self.env:
            doc["env"] = dict(self.env)
        steps = []
        for step in self.run:
            item = {k: v for k, v in step.items() if k != "script_text"}
            if "script_text" in step:
                script = f"{name}-{step['name']}.sh"
                files[script] = step["script_text"]
                item["script"] = script
            steps.append(item)
        if steps:
            doc["run"] = steps
        return doc, files

    def run_name(self, stem: str) -> str:
        taken = {s["name"] for s in self.run}
        n, name = 1, stem
        while name in taken:
            n += 1
            name = f"{stem}-{n}"
        return name
