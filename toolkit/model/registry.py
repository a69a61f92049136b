"""Closed sets derived from classes: the step types and check kinds are the subclasses declared in
their own module, so a new class joins its set by being written, never by a hand-kept list."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def declared_in(base: type[T], module: str) -> tuple[type[T], ...]:
    """Every subclass of ``base`` (at any depth) declared in ``module``, in declaration order."""
    out: list[type[T]] = []
    for sub in base.__subclasses__():
        if sub.__module__ == module:
            out.append(sub)
        out += [s for s in declared_in(sub, module) if s not in out]
    return tuple(out)
