"""Reading what `uv pip compile` wrote: the annotated requirements file and the pylock.toml.

- `parse_compiled(text)`: each pinned package with its hashes, what pulled it in (`# via`, split
  style: `-r FILE` for a requirement of that input file, else the parent package) and the index it
  came from (`# from URL`, written with `--emit-index-annotation`).
- `parse_pylock(text)`: each package's artifacts for the target (file name, sha256): uv's pylock.toml
  lists only the wheels the target platform and Python can install, and the sdist.
- `assign_layers(packages, inputs)`: which input file's dependency closure holds each package first.
"""

from __future__ import annotations

import re
import sys
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field

if sys.version_info >= (3, 11):
    import tomllib
else:   # pragma: no cover - Python 3.10
    import tomli as tomllib

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)")
_HASH = re.compile(r"--hash=(sha256:[0-9a-f]{64})\b")
_NAME = re.compile(r"[-_.]+")


def canonical(name: str) -> str:
    """PEP 503 normalised name."""
    return _NAME.sub("-", name).lower()


@dataclass
class Compiled:
    name: str                       # canonical
    version: str
    hashes: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)    # input files that require it directly
    parents: list[str] = field(default_factory=list)   # packages that require it (canonical)
    source: str | None = None       # the `# from` URL


def parse_compiled(text: str) -> dict[str, Compiled]:
    """Pinned packages by canonical name; a line this parser does not know raises ValueError."""
    out: dict[str, Compiled] = {}
    current: Compiled | None = None
    in_via = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        pin = _PIN.match(raw)
        if pin:
            current = Compiled(canonical(pin["name"]), pin["version"])
            out[current.name] = current
            current.hashes += _HASH.findall(raw)
            in_via = False
            continue
        if current is None:
            if line.startswith("#"):
                continue
            raise ValueError(f"unexpected line in uv's output: {raw!r}")
        if line.startswith("--hash="):
            current.hashes += _HASH.findall(line)
        elif line.startswith("# via"):
            rest = line[len("# via"):].strip()
            in_via = not rest
            if rest:
                _add_via(current, rest)
        elif line.startswith("# from "):
            current.source = line[len("# from "):].strip()
            in_via = False
        elif line.startswith("#") and in_via:
            _add_via(current, line.lstrip("#").strip())
        elif not line.startswith("#"):
            raise ValueError(f"unexpected line in uv's output: {raw!r}")
    return out


def _add_via(pkg: Compiled, item: str) -> None:
    if item.startswith("-r "):
        pkg.inputs.append(item[3:].split()[0])
    elif item.startswith("-c "):
        return
    else:
        pkg.parents.append(canonical(re.split(r"[\s\[]", item, maxsplit=1)[0]))


def assign_layers(packages: dict[str, Compiled], inputs: Sequence[str]) -> dict[str, int]:
    """{package: index of the first input whose requirements' dependency closure holds it}."""
    children: dict[str, list[str]] = {}
    for pkg in packages.values():
        for parent in pkg.parents:
            children.setdefault(parent, []).append(pkg.name)
    layer: dict[str, int] = {}
    for i, name in enumerate(inputs):
        todo = [p.name for p in packages.values() if name in p.inputs]
        while todo:
            current = todo.pop()
            if current in layer or current not in packages:
                continue
            layer[current] = i
            todo += children.get(current, [])
    return layer


def parse_pylock(text: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """{(name, version): [(file name, "sha256:<hex>"), ...]} of the target's artifacts, sorted by file name;
    an artifact without a sha256 is listed with an empty hash."""
    doc = tomllib.loads(text)
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for pkg in doc.get("packages", []):
        files = list(pkg.get("wheels", []))
        if "sdist" in pkg:
            files.append(pkg["sdist"])
        arts = []
        for f in files:
            ref = f.get("url") or f.get("path") or f.get("name") or ""
            filename = f.get("name") or urllib.parse.unquote(urllib.parse.urlsplit(ref).path.rsplit("/", 1)[-1])
            sha = (f.get("hashes") or {}).get("sha256")
            arts.append((filename, f"sha256:{sha}" if sha else ""))
        out[(canonical(pkg["name"]), str(pkg["version"]))] = sorted(arts)
    return out
