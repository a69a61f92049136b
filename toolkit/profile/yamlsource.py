"""Load YAML while remembering where every key and value came from (file, line, column)."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from toolkit.errors import Problem, ProfileError


@dataclass(frozen=True)
class Pos:
    file: str
    line: int
    column: int


class LDict(dict):
    """A dict that remembers the position of each key, and of itself."""

    def __init__(self, *args, pos: Pos | None = None, key_pos: dict | None = None, **kw):
        super().__init__(*args, **kw)
        self.pos = pos
        self.key_pos: dict = dict(key_pos or {})


class LList(list):
    """A list that remembers the position of each item, and of itself."""

    def __init__(self, *args, pos: Pos | None = None, item_pos: list | None = None):
        super().__init__(*args)
        self.pos = pos
        self.item_pos: list = list(item_pos or [])


def _loader_for(file: str):
    problems: list[Problem] = []

    class Loader(yaml.SafeLoader):
        pass

    def mark(node) -> Pos:
        return Pos(file, node.start_mark.line + 1, node.start_mark.column + 1)

    def construct_mapping(loader, node, deep=False):
        loader.flatten_mapping(node)
        result = LDict(pos=mark(node))
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                problems.append(
                    Problem(file, key_node.start_mark.line + 1, key_node.start_mark.column + 1, key,
                            "duplicate key", "each key may appear once in a mapping")
                )
            result[key] = loader.construct_object(value_node, deep=True)
            result.key_pos[key] = mark(key_node)
        return result

    def construct_sequence(loader, node, deep=False):
        return LList(
            [loader.construct_object(child, deep=True) for child in node.value],
            pos=mark(node),
            item_pos=[mark(child) for child in node.value],
        )

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    return Loader, problems


def load_located(path, display: str) -> LDict:
    """Parse one YAML file into LDict/LList trees; every failure is a ProfileError."""
    import pathlib

    p = pathlib.Path(path)
    if p.is_dir():
        raise ProfileError([Problem(display, None, None, "", "is a directory, not a profile file",
                                    "pass a .yaml file, e.g. profiles/base.yaml")])
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ProfileError([Problem(display, None, None, "", "no such file",
                                    "check the path; `toolkit profiles` lists the bundled ones")]) from None
    except OSError as exc:
        raise ProfileError([Problem(display, None, None, "", f"cannot read: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProfileError([Problem(display, None, None, "", f"not UTF-8 text (byte {exc.start})")]) from None
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise ProfileError([Problem(display, 1, 1, "", "file is empty", "a profile needs at least `name:`")])
    loader_cls, problems = _loader_for(display)
    try:
        data = yaml.load(text, Loader=loader_cls)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        m = exc.problem_mark or exc.context_mark
        line = m.line + 1 if m else None
        col = m.column + 1 if m else None
        raise ProfileError([Problem(display, line, col, "", f"invalid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise ProfileError([Problem(display, None, None, "", f"invalid YAML: {exc}")]) from None
    if problems:
        raise ProfileError(problems)
    if not isinstance(data, LDict):
        kind = type(data).__name__ if data is not None else "nothing"
        raise ProfileError([Problem(display, 1, 1, "", f"expected a mapping of settings at the top level, found {kind}")])
    return data
