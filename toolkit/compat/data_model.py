"""Load and validate the compatibility data file, with an optional user overlay on top."""

from __future__ import annotations

import copy
import functools
import os
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from toolkit import inputs

from .schema import CompatData

SCHEMA_VERSION = 1
_DATA_FILE = "compat.yaml"


class CompatDataError(inputs.InputError, ValueError):
    """A compatibility data file is unreadable or invalid (names the file, and the line where known); exit 2."""


def _error(name: str, message: str, doc: inputs.YamlDoc | None = None, path: tuple = (),
           at: inputs.InputError | None = None) -> CompatDataError:
    pos = doc.position(path) if doc is not None else (at.line, at.column) if at is not None else None
    return CompatDataError(name, message, "fix the file, or leave out --compat-data to use the bundled data",
                           line=pos[0] if pos else None, column=pos[1] if pos else None)


def deep_merge(base: Any, over: Any) -> Any:
    """Mappings merge key by key (``over`` wins); any other value is replaced by ``over``."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(over)


def _raw_problems(node: Any, path: tuple = ()) -> list[tuple[tuple, str]]:
    """Float values: versions that YAML read as numbers (non-text keys are refused while parsing)."""
    found: list[tuple[tuple, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_raw_problems(value, (*path, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_raw_problems(value, (*path, i)))
    elif isinstance(node, float):
        found.append((path, f"{node!r} is a number; write versions as quoted strings"))
    return found


def _dotted(path: tuple) -> str:
    return ".".join(inputs.key_name(p) for p in path) or "(top level)"


def _read_yaml(text: str, name: str) -> tuple[dict[str, Any], inputs.YamlDoc]:
    try:
        doc = inputs.parse_yaml(text, name, "compatibility data")
    except inputs.InputError as exc:
        raise _error(name, exc.reason, at=exc) from None
    raw = {} if doc.data is None else doc.data
    if not isinstance(raw, dict):
        raise _error(name, f"the top level must be a mapping, got {type(raw).__name__}", doc)
    problems = _raw_problems(raw)
    if problems:
        path, message = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise _error(name, f"{_dotted(path)}: {message}{more}", doc, path)
    return raw, doc


def _validate(raw: dict[str, Any], name: str, doc: inputs.YamlDoc | None = None) -> CompatData:
    try:
        return CompatData.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        lines = [f"{_dotted(tuple(e['loc']))}: {inputs.shown(e['msg'], 200)}" for e in errors[:20]]
        more = f"; and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise _error(name, "invalid compatibility data: " + "; ".join(lines) + more, doc,
                     tuple(errors[0]["loc"])) from None


@functools.lru_cache(maxsize=1)
def _bundled_raw() -> dict[str, Any]:
    text = (resources.files("toolkit.compat") / "data" / _DATA_FILE).read_text(encoding="utf-8")
    return _read_yaml(text, f"bundled {_DATA_FILE}")[0]


@functools.lru_cache(maxsize=1)
def _bundled() -> CompatData:
    return _validate(copy.deepcopy(_bundled_raw()), f"bundled {_DATA_FILE}")


def bundled_raw() -> dict[str, Any]:
    """A copy of the bundled data as plain YAML values (for `toolkit compat show` and refresh)."""
    return copy.deepcopy(_bundled_raw())


def user_overlay_path(environ: dict[str, str] | None = None) -> Path:
    """$XDG_CONFIG_HOME/toolkit/compat.yaml (default ~/.config/toolkit/compat.yaml): read without a flag."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path(env.get("HOME") or Path.home()) / ".config"
    return root / "toolkit" / _DATA_FILE


def read_overlay(path: str | os.PathLike[str]) -> tuple[dict[str, Any], inputs.YamlDoc, str]:
    """A user overlay file as raw YAML values, through the hardened reader: (data, doc, shown name)."""
    name = inputs.shown(os.fspath(path), 200)
    try:
        text = inputs.read_text(path, what="compatibility data file", display=name)
    except inputs.InputError as exc:
        raise _error(name, exc.reason, at=exc) from None
    user, doc = _read_yaml(text, name)
    if "schema_version" in user and user["schema_version"] != SCHEMA_VERSION:
        raise _error(name, f"schema_version {inputs.shown(repr(user['schema_version']))} is not supported "
                           f"(this toolkit reads {SCHEMA_VERSION})", doc, ("schema_version",))
    return user, doc, name


def overlay_files(extra: str | os.PathLike[str] | None = None, *, user: bool = False) -> list[tuple[str, Path]]:
    """(label, path) of every overlay that applies, in merge order (later wins)."""
    found: list[tuple[str, Path]] = []
    if user:
        path = user_overlay_path()
        if os.path.lexists(path):
            found.append(("user overlay", path))
    if extra is not None:
        found.append(("--compat-data", Path(extra)))
    return found


def load_data(extra: str | os.PathLike[str] | None = None, *, user: bool = False) -> CompatData:
    """The bundled data, overlaid by the user's XDG overlay (``user=True``) and then by ``extra``
    (deep merge; later rows win). ``data.layers`` says which files went in."""
    layers = [f"bundled {_DATA_FILE} (data date {_bundled().data_date})"]
    files = overlay_files(extra, user=user)
    if not files:
        data = _bundled().model_copy()
        data._layers = layers
        return data
    merged = _bundled_raw()
    for label, path in files:
        raw, doc, name = read_overlay(path)
        merged = deep_merge(merged, raw)
        layers.append(f"{label} {name}")
        data = _validate(merged, name, doc)  # the file that breaks the data is the one named
    data._layers = layers
    return data
