"""Terminal output: every character from input printed inert, colour only where it belongs.

Text that reaches the terminal may hold values from profiles, inventories, host output or error
messages. `printable` escapes what a terminal would act on (C0/C1 controls but newline and tab,
DEL, and the bidi and line-separator controls that reorder or hide text) as `\\x1b`, `\\u202e`.
`out`/`err`/`warn` apply it to everything they print. The only escape sequences they emit are the
colour codes of `style`, which marks them with a code unknown outside this process (so a colour code
that came from input stays escaped), and only on a stream that gets colour: a terminal, NO_COLOR
unset and TERM not `dumb`.
"""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import sys

import click

from toolkit import redact

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]")
# style() writes ESC as this per-process mark; out/err turn marked SGR codes back into ESC (or drop them)
MARK = "\ue000" + secrets.token_hex(8)
MARKED_SGR = re.compile(re.escape(MARK) + r"(\[[0-9;]*m)")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """str(text) with every terminal control character written as an escape (`\\x1b`, `\\u202e`)."""
    return UNSAFE.sub(_escape, str(text))


def use_colour(stream=None) -> bool:
    stream = stream or sys.stdout
    return ("NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
            and hasattr(stream, "isatty") and stream.isatty())


def style(text: str, stream=None, **kw) -> str:
    """text in colour (for out/err only) when `stream` gets colour, else text as it is."""
    if not use_colour(stream):
        return text
    return click.style(printable(text), **kw).replace("\x1b[", MARK + "[")


def safe_for(text: object, stream) -> str:
    """text made inert for `stream`: only the colour codes `style` made become escapes, and only where
    colour is on."""
    colour = use_colour(stream)
    return MARKED_SGR.sub(lambda m: "\x1b" + m.group(1) if colour else "", printable(text))


def out(text: object = "") -> None:
    click.echo(safe_for(redact.url(str(text)), sys.stdout))


def err(text: object) -> None:
    click.echo(safe_for(redact.url(str(text)), sys.stderr), err=True)


def warn(text: str) -> None:
    err(style("warning: ", sys.stderr, fg="yellow") + text)


def console(stream=None):
    """A rich Console on stream (stdout), with colour exactly when `use_colour` says so."""
    from rich.console import Console

    stream = stream or sys.stdout
    colour = use_colour(stream)
    return Console(file=stream, no_color=not colour, color_system="auto" if colour else None,
                   force_terminal=colour or None)


def degrade_encoding() -> None:
    """stdout/stderr that cannot encode a character print an escape instead of raising
    (PYTHONIOENCODING=latin-1, an ASCII locale)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


class PrintableFormatter(logging.Formatter):
    """Log records with their control characters escaped, like everything else toolkit prints."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))
