"""Load YAML while remembering where every key and value came from (file, line, column)."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from toolkit import inputs
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

    class Loader(inputs.SafeLimitedLoader):
        pass

    def mark(node) -> Pos:
        return Pos(file, node.start_mark.line + 1, node.start_mark.column + 1)

    def construct_mapping(loader, node, deep=False):
        loader.flatten_mapping(node)
        result = LDict(pos=mark(node))
        for key_node, value_node in node.value:
            where = (file, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            bad_key = inputs.key_problem(key_node)
            if bad_key:
                problems.append(Problem(*where, "", bad_key))
                continue
            key = loader.construct_object(key_node, deep=True)
            if key in result:
                problems.append(Problem(*where, inputs.key_name(key), "duplicate key",
                                        "each key may appear once in a mapping"))
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
    try:
        text = inputs.read_text(path, what="profile", display=display,
                                hint="pass a .yaml file; `toolkit profiles` lists the bundled ones")
    except inputs.InputError as exc:
        raise ProfileError([exc.problem()]) from None
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise ProfileError([Problem(display, 1, 1, "", "file is empty", "a profile needs at least `name:`")])
    loader_cls, problems = _loader_for(display)
    try:
        data = yaml.load(text, Loader=loader_cls)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        line, col, reason = inputs.yaml_error(exc, text)
        raise ProfileError([Problem(display, line, col, "", f"invalid YAML: {reason}")]) from None
    if problems:
        raise ProfileError(problems)
    if not isinstance(data, LDict):
        kind = type(data).__name__ if data is not None else "nothing"
        raise ProfileError([Problem(display, 1, 1, "", f"expected a mapping of settings at the top level, found {kind}")])
    return data
