"""Load and validate the compatibility data file, with an optional user overlay on top."""

from __future__ import annotations

import copy
import functools
import os
from importlib import resources
from typing import Any

import yaml
from pydantic import ValidationError

from .schema import CompatData

SCHEMA_VERSION = 1
_DATA_FILE = "compat.yaml"


class CompatDataError(ValueError):
    """A compatibility data file is unreadable or invalid (names the file)."""


def deep_merge(base: Any, over: Any) -> Any:
    """Mappings merge key by key (``over`` wins); any other value is replaced by ``over``."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(over)


def _raw_problems(node: Any, path: str = "") -> list[str]:
    """Non-string mapping keys and float values: versions that YAML read as numbers."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if not isinstance(key, str):
                found.append(f"{here}: key {key!r} must be a quoted string (e.g. \"{key}\")")
            found.extend(_raw_problems(value, here))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_raw_problems(value, f"{path}[{i}]"))
    elif isinstance(node, float):
        found.append(f"{path}: {node!r} is a number; write versions as quoted strings")
    return found


def _read_yaml(text: str, name: str) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CompatDataError(f"{name}: not valid YAML: {exc}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise CompatDataError(f"{name}: the top level must be a mapping, got {type(raw).__name__}")
    problems = _raw_problems(raw)
    if problems:
        raise CompatDataError(f"{name}: " + "; ".join(problems))
    return raw


def _validate(raw: dict[str, Any], name: str) -> CompatData:
    try:
        return CompatData.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"{loc}: {err['msg']}")
        raise CompatDataError(f"{name}: invalid compatibility data: " + "; ".join(lines)) from exc


@functools.lru_cache(maxsize=1)
def _bundled_raw() -> dict[str, Any]:
    text = (resources.files("toolkit.compat") / "data" / _DATA_FILE).read_text(encoding="utf-8")
    return _read_yaml(text, f"bundled {_DATA_FILE}")


@functools.lru_cache(maxsize=1)
def _bundled() -> CompatData:
    return _validate(copy.deepcopy(_bundled_raw()), f"bundled {_DATA_FILE}")


def load_data(extra: str | os.PathLike[str] | None = None) -> CompatData:
    """The bundled data, optionally overlaid by a user YAML file (deep merge; user rows win)."""
    if extra is None:
        return _bundled()
    name = os.fspath(extra)
    try:
        with open(name, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise CompatDataError(f"{name}: cannot read compatibility data file: {exc.strerror or exc}") from exc
    user = _read_yaml(text, name)
    if "schema_version" in user and user["schema_version"] != SCHEMA_VERSION:
        raise CompatDataError(
            f"{name}: schema_version {user['schema_version']!r} is not supported (this toolkit reads {SCHEMA_VERSION})"
        )
    return _validate(deep_merge(_bundled_raw(), user), f"{name} (merged onto the bundled data)")
