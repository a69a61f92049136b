"""packages.pip_requirements: the profile's pip requirement files, read, followed and judged (reqlines.py).

Paths in the profile are relative to the profile that names them (absolute paths work too: you wrote
them). `-r` and `-c` inside a file are relative to that file and must stay inside the folder of the file
the profile names (its subfolders included): a requirements file cannot reach `../../etc` or an absolute
path by itself; list such a file in packages.pip_requirements if you mean it. Cycles, more than
MAX_DEPTH nested includes, MAX_FILES files or MAX_ENTRIES requirements are refused. A file included twice
is read once. Every file is read through toolkit.inputs (regular files, 1 MiB, UTF-8).

Problems name the requirement file and line, and the profile field that led there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from dataclasses import field as default
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit import inputs
from toolkit.errors import Problem, ProfileError
from toolkit.profile.reqlines import LineError, logical_lines, parse_line

if TYPE_CHECKING:
    from toolkit.profile.loader import LoadedProfile

MAX_DEPTH = 16
MAX_FILES = 64
MAX_ENTRIES = 5000
FIELD = "packages.pip_requirements"


@dataclass(frozen=True)
class Entry:
    """One requirement (or constraint) as it is installed: PEP 508 text and its hashes, and where it came from."""

    requirement: str
    name: str
    hashes: tuple[str, ...]
    url: bool
    file: str                     # as errors show it (relative to the working folder)
    line: int
    field: str
    origin: str = ""              # relative to the profile's folder: stable text for plans and checks

    @property
    def text(self) -> str:
        return " ".join([self.requirement, *(f"--hash={h}" for h in self.hashes)])


@dataclass(frozen=True)
class RequirementSet:
    entries: tuple[Entry, ...] = ()
    constraints: tuple[Entry, ...] = ()
    options: tuple[tuple[str, ...], ...] = ()
    sources: tuple[str, ...] = ()

    def requirements_text(self, constraints_path: str | None = None) -> str:
        """The file pip reads on the target: kept options, the constraints file, one requirement per line."""
        lines = [f"# written by toolkit from {FIELD}; do not edit - re-render instead"]
        lines += [" ".join(opt) if len(opt) == 1 else f"{opt[0]}={opt[1]}" for opt in self.options]
        if self.constraints and constraints_path:
            lines.append(f"-c {constraints_path}")
        lines += [e.text for e in self.entries]
        return "\n".join(lines) + "\n"

    def constraints_text(self) -> str:
        return "# written by toolkit; do not edit - re-render instead\n" + "".join(
            e.text + "\n" for e in self.constraints)


@dataclass
class Reader:
    """Follows one profile entry's file and its includes, collecting entries and problems (never stops at the
    first bad line, so a user sees every problem at once)."""

    field: str
    listed: str = ""                        # "profile.yaml:12" where the profile names the file
    base: Path | None = None                # the profile's folder (Entry.origin is relative to it)
    problems: list[Problem] = default(default_factory=list)
    entries: list[Entry] = default(default_factory=list)
    constraints: list[Entry] = default(default_factory=list)
    options: list[tuple[str, ...]] = default(default_factory=list)
    sources: list[str] = default(default_factory=list)
    seen: set[str] = default(default_factory=set)
    unreadable: str = ""                    # why the file the profile names could not be read

    def problem(self, file: str, line: int | None, message: str, hint: str) -> None:
        listed = f"; {self.field} is at {self.listed}" if self.listed else ""
        self.problems.append(Problem(file, line, None, self.field, message, hint + listed))

    def read(self, path: Path, root: Path, chain: tuple[str, ...] = (), constraint: bool = False) -> None:
        real = os.path.realpath(path)
        shown = display(path)
        if real in chain:
            names = " -> ".join(display(Path(p)) for p in (*chain, real))
            self.problem(shown, None, f"requirement files include each other: {names}", "remove one of the -r/-c lines")
            return
        if real in self.seen:
            return
        if len(chain) >= MAX_DEPTH or len(self.seen) >= MAX_FILES:
            self.problem(shown, None, f"more than {MAX_DEPTH} nested includes or {MAX_FILES} files",
                         "flatten the requirement files")
            return
        self.seen.add(real)
        try:
            text = inputs.read_text(path, what="requirements file", display=shown)
        except inputs.InputError as exc:
            if not chain and exc.line is None:      # the file the profile names: reported at the profile field
                self.unreadable = exc.reason
                return
            self.problem(exc.file, exc.line, exc.reason, exc.hint or "paths are relative to the file that names them")
            return
        self.sources.append(shown)
        try:
            lines = logical_lines(text)
        except LineError as exc:
            self.problem(shown, exc.line, exc.message, exc.hint)
            return
        origin = inputs.shown(os.path.relpath(os.path.abspath(path), self.base), 200) if self.base else shown
        for number, line in lines:
            self._line(path, root, (shown, origin), number, line, (*chain, real), constraint)

    def _line(self, path: Path, root: Path, names: tuple[str, str], number: int, line: str, chain: tuple[str, ...],
              constraint: bool) -> None:
        shown = names[0]
        try:
            parsed = parse_line(line, constraint)
        except LineError as exc:
            self.problem(shown, number, exc.message, exc.hint)
            return
        if parsed.kind == "requirement":
            entry = Entry(parsed.requirement, parsed.name, parsed.hashes, parsed.url, shown, number, self.field,
                          names[1])
            target = self.constraints if constraint else self.entries
            if len(self.entries) + len(self.constraints) >= MAX_ENTRIES:
                self.problem(shown, number, f"more than {MAX_ENTRIES} requirements", "is this the right file?")
                return
            target.append(entry)
        elif parsed.kind == "option":
            if parsed.option not in self.options:
                self.options.append(parsed.option)
        elif parsed.kind == "include":
            where = include_problem(parsed.target, path.parent, root)
            if not isinstance(where, str) and os.path.realpath(where) in chain:
                loop = " -> ".join(display(Path(f)) for f in (*chain, os.path.realpath(where)))
                self.problem(shown, number, f"requirement files include each other: {loop}",
                             "remove one of the -r/-c lines")
                return
            if isinstance(where, str):
                self.problem(shown, number, where, f"list that file in {FIELD} yourself (paths there are relative to "
                             "the profile), or copy it next to this one")
                return
            self.read(where, root, chain, constraint or parsed.include == "-c")


def include_problem(target: str, folder: Path, root: Path) -> Path | str:
    """The included file's path, or why it is refused (absolute, a URL, outside root)."""
    if "://" in target or target.startswith(("/", "~")):
        return (f"-r/-c {inputs.shown(target, 80)!r}: includes are relative paths inside the folder of the file the "
                "profile names (no absolute paths, ~ or URLs)")
    path = folder / target
    real, top = os.path.realpath(path), os.path.realpath(root)
    if os.path.commonpath([real, top]) != top:
        return (f"-r/-c {inputs.shown(target, 80)!r} leads outside {display(root)}/ (the folder of the file the "
                "profile names)")
    return path


def display(path: Path) -> str:
    """A file as errors show it: relative to the working folder where it is inside it."""
    try:
        return inputs.shown(Path(os.path.abspath(path)).relative_to(os.getcwd()), 200)
    except ValueError:
        return inputs.shown(os.path.abspath(path), 200)


def read_one(path: Path, field_name: str, listed: str = "", base: Path | None = None) -> Reader:
    """Read one profile-named file and what it includes (includes stay inside its folder)."""
    reader = Reader(field_name, listed, base=Path(os.path.abspath(base)) if base else None)
    reader.read(path, path.parent)
    return reader


def load(loaded: LoadedProfile) -> RequirementSet:
    """Every file of packages.pip_requirements of a LoadedProfile, or ProfileError naming file:line and field."""
    refs = loaded.profile.packages.pip_requirements
    problems: list[Problem] = []
    readers = []
    for i, ref in enumerate(refs):
        name = f"{FIELD}.{i}"
        at = loaded.problem(name, "")
        path = Path(ref) if Path(ref).is_absolute() else Path(at.file).parent / ref
        reader = read_one(path, name, f"{at.file}:{at.line}" if at.line else at.file, Path(at.file).parent)
        if reader.unreadable:                       # the named file itself: reported at the profile field
            problems.append(loaded.problem(name, f"cannot read requirements file {inputs.shown(ref, 80)!r}: "
                                           f"{reader.unreadable}", "paths are relative to the profile that names them"))
            continue
        problems += reader.problems
        readers.append(reader)
    if problems:
        raise ProfileError(problems)
    options: list[tuple[str, ...]] = []
    for r in readers:
        options += [o for o in r.options if o not in options]
    return RequirementSet(entries=tuple(e for r in readers for e in r.entries),
                          constraints=tuple(e for r in readers for e in r.constraints),
                          options=tuple(options), sources=tuple(s for r in readers for s in r.sources))
