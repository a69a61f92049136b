"""Load a profile file: parse, follow `extends:`, merge, validate; every problem located."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import typing
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from toolkit import inputs, redact
from toolkit.errors import Problem, ProfileError
from toolkit.profile import semantics
from toolkit.profile.bundled import bundled_path, did_you_mean
from toolkit.profile.merge import merge, position_of
from toolkit.profile.model import Profile
from toolkit.profile.yamlsource import LDict, load_located

MAX_DEPTH = 16


@dataclass(frozen=True)
class LoadedProfile:
    profile: Profile
    path: Path                 # the file the user named
    chain: tuple[str, ...]     # the file, then its parents, in order
    tree: LDict                # merged located tree (for positions of later errors)
    digest: str                # sha256 of the validated profile

    def problem(self, field: str, message: str, hint: str | None = None) -> Problem:
        """A Problem pointing at a dotted field path (for errors found after validation)."""
        parts = tuple(int(p) if p.isdigit() else p for p in field.split(".")) if field else ()
        pos = position_of(self.tree, parts)
        return Problem(pos.file if pos else str(self.path), pos.line if pos else None,
                       pos.column if pos else None, field, message, hint)


def _display(path: Path) -> str:
    # the path as given (abspath: no symlinks followed; Path.resolve raises on a symlink loop)
    try:
        return inputs.shown(Path(os.path.abspath(path)).relative_to(os.getcwd()), 200)
    except ValueError:
        return inputs.shown(path, 200)


def _is_name(ref: str) -> bool:
    return "/" not in ref and not ref.endswith((".yaml", ".yml"))


def _parent_path(ref: str, child: Path) -> Path | None:
    return bundled_path(ref) if _is_name(ref) else child.parent / ref


def _load_chain(path: Path, seen: tuple[Path, ...]) -> tuple[LDict, tuple[str, ...]]:
    display = _display(path)
    tree = load_located(path, display)
    ref = tree.get("extends")
    chain = (display,)
    if ref is None:
        return tree, chain
    ref_pos = tree.key_pos["extends"]
    where = (display, ref_pos.line, ref_pos.column)
    names = " -> ".join([_display(p) for p in seen + (path,)])
    if not isinstance(ref, str):
        raise ProfileError([Problem(*where, "extends", f"expected a profile name or path, got {type(ref).__name__}")])
    if not _is_name(ref) and not ref.endswith((".yaml", ".yml")):
        raise ProfileError([Problem(*where, "extends", f"can only extend a .yaml or .yml profile, not {inputs.shown(ref)!r}",
                                    "name a bundled profile (see `toolkit profiles`) or a .yaml file")])
    parent = _parent_path(ref, path)
    if parent is None:
        guess = did_you_mean(ref) if "/" not in ref else None
        raise ProfileError([Problem(*where, "extends", f"parent profile {inputs.shown(ref)!r} not found (chain: {names})",
                                    f"{guess + ' ' if guess else ''}name a bundled profile (see `toolkit profiles`) "
                                    "or a path relative to this file")])
    try:
        inputs.check_regular(parent, what="parent profile")
    except inputs.InputError as exc:
        raise ProfileError([Problem(*where, "extends", f"parent profile {inputs.shown(ref)!r}: {exc.reason} (chain: {names})",
                                    "name a bundled profile (see `toolkit profiles`) or a path relative to this file")]) from None
    if os.path.realpath(parent) in [os.path.realpath(p) for p in seen + (path,)]:
        raise ProfileError([Problem(*where, "extends", f"extends cycle: {names} -> {_display(parent)}",
                                    "remove one of the extends links")])
    if len(seen) >= MAX_DEPTH:
        raise ProfileError([Problem(*where, "extends", f"extends chain deeper than {MAX_DEPTH}: {names}")])
    parent_tree, parent_chain = _load_chain(parent, seen + (path,))
    merged = merge(parent_tree, tree)
    merged.pop("extends", None)
    merged.key_pos.pop("extends", None)
    return merged, chain + parent_chain


def _model_at(loc: tuple) -> type[BaseModel] | None:
    model: typing.Any = Profile
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return None
        model = _unwrap(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap(annotation):
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        for inner in typing.get_args(arg):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def _clean_loc(loc: tuple, tree) -> tuple:
    """The path into the profile: pydantic's own parts (union members, validators) left out."""
    out, node = [], tree
    for part in loc:
        if isinstance(node, dict) and part in node or isinstance(node, list) and isinstance(part, int):
            node = node[part] if isinstance(node, dict) or 0 <= part < len(node) else None
        elif isinstance(part, str) and (any(c in part for c in "[(") or part.startswith("function-")):
            continue
        else:
            node = None
        out.append(part)
    return tuple(out)


def _shown(value) -> str:
    return inputs.shown(repr(value), 60)


def _problem(err: ErrorDetails, tree: LDict, file: str) -> Problem:
    loc = _clean_loc(err["loc"], tree)
    field = ".".join(inputs.key_name(p) for p in loc)
    pos = position_of(tree, loc)
    kind, value = err["type"], err.get("input")
    hint = None
    if kind == "extra_forbidden" and loc:
        model = _model_at(loc[:-1])
        choices = list(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1])[:100], choices, n=1, cutoff=0.6)
        message = "unknown key"
        hint = f"did you mean {close[0]!r}?" if close else (f"valid keys: {', '.join(choices)}" if choices else None)
    elif kind == "missing":
        message = "required field is missing"
    elif kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        message = f"expected a string, got the number {_shown(value)}"
        hint = "quote versions in YAML: write \"3.10\", not 3.10 (which YAML reads as 3.1)"
    elif kind.endswith("_type"):
        message = f"{err['msg'].replace('Input should be', 'expected')}, got {type(value).__name__}"
    elif kind == "literal_error":
        message = f"expected {err['ctx']['expected']}, got {_shown(redact.value(str(value)))}"
    else:
        message = inputs.shown(err["msg"].removeprefix("Value error, "), 300)
    return Problem(pos.file if pos else file, pos.line if pos else None, pos.column if pos else None,
                   field, message, hint)


def _plain(node):
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def load_profile(path: str | Path) -> LoadedProfile:
    """Load, merge and validate a profile; a bare name finds a bundled profile."""
    p = Path(path)
    if not os.path.lexists(p) and _is_name(str(path)):
        p = bundled_path(str(path)) or p
        if not os.path.exists(p):
            guess = did_you_mean(str(path))
            raise ProfileError([Problem(inputs.shown(str(path), 80), None, None, "", "no such file or bundled profile",
                                        f"{guess + ' ' if guess else ''}`toolkit profiles` lists the bundled ones")])
    tree, chain = _load_chain(p, ())
    problems = {(pr.field, pr.message): pr for pr in semantics.problems(tree, chain[0])}
    try:
        profile = Profile.model_validate(_plain(tree))
    except ValidationError as exc:
        for err in exc.errors():
            pr = _problem(err, tree, chain[0])
            problems.setdefault((pr.field, pr.message), pr)
    if problems:
        raise ProfileError(sorted(problems.values(), key=lambda q: (q.file, q.line or 0, q.column or 0))) from None
    digest = hashlib.sha256(json.dumps(profile.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
    return LoadedProfile(profile, p, chain, tree, digest)
