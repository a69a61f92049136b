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


def publish(section: str, text: str, write: bool, docs: Path = DOCS) -> None:
    """Print a section's text and, when `write`, put it into docs/benchmarks.md."""
    print("\n" + text)
    if write:
        write_section(section, text, docs)
        print(f"written to {docs.name}")
