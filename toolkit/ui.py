"""Terminal output: colour only on a terminal and when NO_COLOR is unset."""

from __future__ import annotations

import os
import sys

import click

from toolkit import redact


def use_colour(stream=None) -> bool:
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def style(text: str, stream=None, **kw) -> str:
    return click.style(text, **kw) if use_colour(stream) else text


def out(text: str = "") -> None:
    click.echo(redact.url(text))


def err(text: str) -> None:
    click.echo(redact.url(text), err=True)


def warn(text: str) -> None:
    err(style("warning: ", sys.stderr, fg="yellow") + text)
