"""requirements.txt (with its -r/-c includes) and pyproject.toml's [project] dependencies."""

from __future__ import annotations

import sys
from pathlib import Path

from toolkit import inputs
from toolkit.profile import patterns as P
from toolkit.profile import requirement_files as rf
from toolkit.profile.adopt.draft import Draft, mapping


def requirements(draft: Draft, path: Path, newest: dict[str, str], where: str | None = None) -> None:
    """A requirements file: referenced as it is (packages.pip_requirements) when every line of it and of what
    it includes is one toolkit takes and it names no framework package; otherwise line by line."""
    named = where
    where = where or rf.display(path)
    reader = rf.read_one(path, "--from")
    if reader.unreadable and named is None:          # a file given to --from itself
        raise inputs.InputError(where, reader.unreadable, what="--from")
    if reader.unreadable:
        draft.skip(where, str(path), reader.unreadable)
        return
    owned = [e for e in reader.entries if e.name in FRAMEWORKS]
    if not reader.problems and not owned and P.LOCAL_PATH.fullmatch(str(path.resolve())):
        draft.requirement_files.append(path.resolve())
        draft.names.update(e.name for e in reader.entries)
        draft.took(where, f"{len(reader.entries)} requirement(s) from {', '.join(reader.sources)} -> "
                   "packages.pip_requirements (the file itself, as it is)")
        return
    for p in reader.problems:
        draft.skip(f"{p.file}:{p.line}" if p.line else p.file, "", f"{p.message} ({p.hint})")
    for e in reader.entries:
        draft.requirement(f"{e.file}:{e.line}", e.text, newest)
    for e in reader.constraints:
        draft.skip(f"{e.file}:{e.line}", e.text, "a constraint: pins are kept only in requirement files; add it to "
                   "the written requirements file as a requirement if you need it")


FRAMEWORKS = {"torch", "torchvision", "torchaudio", "tensorflow", "tensorflow-cpu", "tensorflow-gpu", "keras",
              "jax", "jaxlib"}


def _toml(text: str, where: str) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:                                   # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore[import-not-found, unused-ignore, no-redef]
        except ImportError:
            raise inputs.InputError(where, "reading TOML needs Python 3.11 or the tomli package",
                                    "pip install tomli, or run toolkit with Python 3.11+") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise inputs.InputError(where, f"not valid TOML: {inputs.shown(exc, 160)}") from None


def pyproject(draft: Draft, path: Path, newest: dict[str, str]) -> None:
    where = rf.display(path)
    doc = _toml(inputs.read_text(path, what="pyproject.toml", display=where), where)
    project = mapping(doc.get("project"))
    tool = mapping(doc.get("tool"))
    deps = project.get("dependencies")
    if isinstance(deps, list):
        for i, dep in enumerate(deps):
            if isinstance(dep, str):
                draft.requirement(f"{where} [project.dependencies][{i}]", dep, newest)
            else:
                draft.skip(f"{where} [project.dependencies][{i}]", repr(dep), "not a requirement string")
    elif "dependencies" in (project.get("dynamic") or []):
        draft.skip(where, "dynamic dependencies", "the build backend computes them: give toolkit the requirements "
                   "file they come from")
    if "requires-python" in project:
        draft.skip(where, f"requires-python = {project['requires-python']}", "a range, not one version: the OS's "
                   "Python is used; set python.version to choose one")
    for group in mapping(project.get("optional-dependencies")):
        draft.skip(where, f"[project.optional-dependencies] {group}", "optional: add the packages you need to "
                   "packages.pip")
    if "poetry" in tool:
        draft.skip(where, "[tool.poetry]", "Poetry's own format is not read: `poetry export -f requirements.txt "
                   "-o requirements.txt` and give toolkit that file")
    if not isinstance(deps, list) and "poetry" not in tool:
        draft.skip(where, "[project]", "no [project] dependencies list found")
