"""Shared by the bench scripts: replace one `## Section` of docs/benchmarks.md, leave the rest."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
PREAMBLE = "# Benchmarks\n\nMeasured side by side by the scripts in `bench/`.\n"


def write_section(section: str, text: str, docs: Path = DOCS) -> None:
    """Put `text` (which starts with the `section` heading) in place of that section, or append it."""
    doc = docs.read_text() if docs.exists() else PREAMBLE
    pattern = re.compile(rf"^{re.escape(section)}\n.*?(?=^## |\Z)", re.S | re.M)
    new = pattern.sub(lambda _m: text.rstrip("\n") + "\n\n", doc) if pattern.search(doc) else doc.rstrip("\n") + "\n\n" + text
    docs.parent.mkdir(parents=True, exist_ok=True)
    docs.write_text(new.rstrip("\n") + "\n")


def publish(text: str, section: str, no_write: bool, logs: object = None, docs: Path = DOCS) -> None:
    """Print a bench's section (and where its logs are), then write it into docs/benchmarks.md unless
    --no-write."""
    print(text)
    if logs is not None:
        print(f"logs: {logs}")
    if not no_write:
        write_section(section, text, docs)
