"""The one hardened path for every file a user hands us (profiles, inventories, ssh configs, CA files...).

- Reading: regular files only (a directory, FIFO, device or socket is refused before a byte is read,
  so /dev/zero and a FIFO never hang), under a size cap, UTF-8 (an error names the line and byte).
- YAML: a SafeLoader that refuses, while composing, nesting deeper than MAX_DEPTH and documents whose
  aliases expand to more than MAX_NODES nodes (billion laughs), recursive aliases, and mapping keys
  that are not text (`~: x`, `[a]: x`, `12.10: x`). Anchors, aliases and merge keys keep working.
- Errors are InputError (exit 2) naming the file and line; nothing from a file is echoed beyond a
  short `shown()` excerpt (length capped, control and bidi characters escaped).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any

import yaml

from toolkit.errors import Problem, UsageError

MiB = 1024 * 1024
MAX_BYTES = MiB            # profiles, inventories, compat data, ssh configs, CA files
MAX_DEPTH = 64             # nesting levels in one YAML document
MAX_NODES = 100_000        # nodes in one YAML document, every alias counted as what it expands to
KEY_SHOWN = 40             # longest key name an error message echoes
SECRETISH = "$:=*'\"\\`"    # a key with one of these is described, not echoed
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class InputError(UsageError):
    """A file a user gave us is unusable; names the file (and line and column where known)."""

    def __init__(self, file: str, reason: str, hint: str | None = None, *, line: int | None = None,
                 column: int | None = None, what: str = ""):
        self.file, self.line, self.column, self.reason = file, line, column, reason
        super().__init__(f"{what} {self.where}: {reason}" if what else f"{self.where}: {reason}", hint)

    @property
    def where(self) -> str:
        return self.file + (f":{self.line}" if self.line else "") + (f":{self.column}" if self.line and self.column else "")

    def problem(self, field: str = "") -> Problem:
        return Problem(self.file, self.line, self.column, field, self.reason, self.hint)


def shown(value: Any, limit: int = 60) -> str:
    """Text from a file, safe to print: at most `limit` characters, non-printable ones escaped."""
    text = str(value)
    cut = text[:limit]
    safe = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in cut)
    return safe + (f"... ({len(text)} characters)" if len(text) > limit else "")


def key_name(key: Any) -> str:
    """A key from a file, as an error may show it: short, escaped, and never one that looks like it
    could carry a secret (a password-hash or `name=value` line read as a key): those are described."""
    text = str(key)
    if len(text) > KEY_SHOWN or any(c in text for c in SECRETISH):
        return f"<a key of {len(text)} characters>"
    return shown(text, KEY_SHOWN)


def _os_reason(exc: OSError) -> str:
    import errno

    return {errno.ENOENT: "not found (no such file)", errno.ELOOP: "too many levels of symbolic links (a symlink loop?)",
            errno.ENAMETOOLONG: "file name too long", errno.ENOTDIR: "a part of the path is not a folder",
            errno.EACCES: "permission denied"}.get(exc.errno or 0,
                                                   f"cannot be read: {(exc.strerror or str(exc)).lower()}")


def check_regular(path: str | os.PathLike, *, what: str, display: str | None = None,
                  limit: int = MAX_BYTES, hint: str | None = None) -> os.stat_result:
    """stat() the file (following symlinks) and refuse anything but a regular file under `limit` bytes."""
    name = display or shown(os.fspath(path), 200)
    try:
        st = os.stat(path)
    except (OSError, ValueError) as exc:
        reason = _os_reason(exc) if isinstance(exc, OSError) else "invalid file name"
        raise InputError(name, reason, hint, what=what) from None
    _refuse_special(st, name, what)
    if st.st_size > limit:
        raise InputError(name, f"is {st.st_size} bytes, more than the {limit} allowed", "is this the right file?",
                         what=what)
    return st


def _refuse_special(st: os.stat_result, name: str, what: str) -> None:
    if stat.S_ISREG(st.st_mode):
        return
    kind = next((label for test, label in _KINDS if test(st.st_mode)), "not a regular file")
    raise InputError(name, f"is {kind}, not a regular file", "pass the path of a regular file", what=what)


def read_bytes(path: str | os.PathLike, *, what: str, display: str | None = None, limit: int = MAX_BYTES,
               hint: str | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; anything else is an InputError."""
    name = display or shown(os.fspath(path), 200)
    check_regular(path, what=what, display=name, limit=limit, hint=hint)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(name, _os_reason(exc), hint, what=what) from None
    try:
        _refuse_special(os.fstat(fd), name, what)     # swapped for a FIFO since the stat above
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(fd, min(MiB, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InputError(name, _os_reason(exc), hint, what=what) from None
    finally:
        os.close(fd)
    if size > limit:
        raise InputError(name, f"is more than the {limit} bytes allowed", "is this the right file?", what=what)
    return b"".join(chunks)


def decode(raw: bytes, name: str, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(name, f"is not UTF-8 text (byte {exc.start})", "save the file as UTF-8",
                         line=line, what=what) from None


def read_text(path: str | os.PathLike, *, what: str, display: str | None = None, limit: int = MAX_BYTES,
              hint: str | None = None) -> str:
    """read_bytes, decoded as UTF-8."""
    name = display or shown(os.fspath(path), 200)
    return decode(read_bytes(path, what=what, display=name, limit=limit, hint=hint), name, what)


def key_problem(node: yaml.Node) -> str | None:
    """Why a mapping key node is not usable as a key (None when it is plain text)."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:str":
            return None
        kind = node.tag.rsplit(":", 1)[-1]
        text = shown(node.value, 40) or "(empty)"
        return f"key {text} is read as {kind}, not text; keys must be quoted strings (write \"{text}\")"
    kind = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
    return f"a key must be text, found {kind}; keys must be quoted strings"


class SafeLimitedLoader(yaml.SafeLoader):
    """SafeLoader with limits enforced while composing, before anything is expanded or constructed."""

    max_depth = MAX_DEPTH
    max_nodes = MAX_NODES

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}    # id(node) -> nodes it expands to; absent while being composed

    def _flow_start(self) -> None:
        # checked while scanning too: PyYAML looks up to 1024 characters ahead for a simple key at
        # every open bracket, so thousands of `[` cost seconds before the composer sees the first one
        if self.flow_level >= self.max_depth:
            raise yaml.scanner.ScannerError(None, None, f"nesting deeper than {self.max_depth} levels", self.get_mark())

    def fetch_flow_sequence_start(self):
        self._flow_start()
        super().fetch_flow_sequence_start()

    def fetch_flow_mapping_start(self):
        self._flow_start()
        super().fetch_flow_mapping_start()

    def compose_node(self, parent, index):
        mark = self.peek_event().start_mark
        if self._depth >= self.max_depth:
            raise yaml.composer.ComposerError(None, None, f"nesting deeper than {self.max_depth} levels", mark)
        alias = self.check_event(yaml.AliasEvent)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        assert node is not None  # PyYAML composes a node or raises
        if alias:
            if id(node) not in self._sizes:
                raise yaml.composer.ComposerError(None, None, "an alias refers to a node that contains it", mark)
            return node
        if isinstance(node, yaml.ScalarNode):
            size = 1
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._sizes[id(child)] for child in node.value)
        else:
            size = 1 + sum(self._sizes[id(k)] + self._sizes[id(v)] for k, v in node.value)
        if size > self.max_nodes:
            raise yaml.composer.ComposerError(
                None, None, f"more than {self.max_nodes} nodes, aliases counted as what they expand to (an alias bomb?)",
                mark)
        self._sizes[id(node)] = size
        return node

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            for key_node, _ in node.value:
                problem = key_problem(key_node)
                if problem and key_node.tag != "tag:yaml.org,2002:merge":
                    raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def yaml_error(exc: yaml.YAMLError, text: str) -> tuple[int | None, int | None, str]:
    """(line, column, short reason) of a PyYAML error, without the snippet of the line it prints."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        reason = shown(exc.problem or exc.context or "syntax error", 160)
        return (mark.line + 1, mark.column + 1, reason) if mark else (None, None, reason)
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[:exc.position]
        return (before.count("\n") + 1, len(before) - before.rfind("\n"),
                f"character #x{exc.character if isinstance(exc.character, int) else ord(exc.character):04x} is not allowed")
    return None, None, shown(type(exc).__name__, 60)


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML file: the data, and its node tree to find the line of any path in it."""

    file: str
    data: Any
    node: yaml.Node | None

    def position(self, path: tuple) -> tuple[int, int] | None:
        """(line, column) of the deepest part of `path` found in the document."""
        node = self.node
        best = node.start_mark if node is not None else None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                hit = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
                if hit is None:
                    break
                best, node = hit[0].start_mark, hit[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
                best = node.start_mark
            else:
                break
        return (best.line + 1, best.column + 1) if best else None


def parse_yaml(text: str, name: str, what: str = "") -> YamlDoc:
    """Parse one YAML document with the limits above; every failure is an InputError at file:line."""
    loader = None
    try:
        loader = SafeLimitedLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        line, column, reason = yaml_error(exc, text)
        raise InputError(name, f"not valid YAML: {reason}", line=line, column=column, what=what) from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDoc(name, data, node)


def load_yaml(path: str | os.PathLike, *, what: str, display: str | None = None, limit: int = MAX_BYTES) -> YamlDoc:
    """read_text + parse_yaml."""
    name = display or shown(os.fspath(path), 200)
    return parse_yaml(read_text(path, what=what, display=name, limit=limit), name, what)
