"""Write an output (files and copied folders) into a folder: all of it, or none of it.

Everything is first written into ``.toolkit-staging-*`` inside the destination folder (same
filesystem, so renames are atomic); only when that worked is each piece renamed into place, with
Ctrl-C held back until the swap is over, and an error during the swap puts the old pieces back.
The folder is locked (flock) while this happens, and staging leftovers of a killed run are removed.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import deferred_interrupt
from toolkit.outputs import guard, owned, wheels

Report = Callable[[str], None]


@dataclass(frozen=True)
class FileOut:
    data: bytes
    mode: int = 0o644


def as_file(value: str | bytes | FileOut) -> FileOut:
    if isinstance(value, FileOut):
        return value
    data = value.encode("utf-8") if isinstance(value, str) else value
    return FileOut(data, 0o755 if data.startswith(b"#!") else 0o644)


def owner_only(out: FileOut) -> FileOut:
    """The same content, readable (and for a script executable) by its owner only."""
    return FileOut(out.data, out.mode & 0o700)


@contextmanager
def locked(root: Path) -> Iterator[None]:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_bytes(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        owned.write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def not_a_folder(root: Path, what: str, option: str, target: Path) -> guard.UsageError:
    where = f"{option} {guard.shown(target)}" + (f": {guard.shown(root)}" if target != root else "")
    return guard.UsageError(f"cannot write {where} is {what}, not a folder",
                            "give a real folder (toolkit does not write through a symbolic link there)")


def prepare_root(root: Path, option: str, target: Path) -> bool:
    """The output folder exists afterwards (True when this call made it); a symlink or non-folder is refused."""
    try:
        what = owned.kind(root)
        if what == "a folder":
            return False
        if what is not None:
            raise not_a_folder(root, what, option, target)
        root.mkdir(parents=True)
    except OSError as exc:
        raise guard.failed(exc, option, target) from None
    return True


def write_output(root: str | os.PathLike, files: Mapping[str, str | bytes | FileOut],
                 trees: Mapping[str, str] | None = None, *, force: bool = False, prune: bool = False,
                 remove: Iterable[str] = (), manifest: bool = True, option: str = "-o",
                 report: Report | None = None, target: Path | None = None) -> list[Path]:
    """Put `files` (relative path -> content) and copies of `trees` (relative path -> wheelhouse
    folder) under root. prune: also delete toolkit's files of an earlier output that this one
    lacks; remove: relative paths to delete when toolkit wrote them; target: what errors name
    (default root). Returns the paths written."""
    root, trees = Path(root), dict(trees or {})
    target = target or root
    made = prepare_root(root, option, target)
    try:
        with locked(root):
            for leftover in root.glob(owned.STAGING_PREFIX + "*"):
                shutil.rmtree(leftover, ignore_errors=True)
            old = owned.read_manifest(root) if manifest else None
            blocked = guard.find_conflicts(root, files, trees, old, force=force, use_header=True)
            if blocked:
                raise guard.refuse(option, target, blocked)
            gone = _removals(root, old, set(files) | set(trees), remove, prune)
            with tempfile.TemporaryDirectory(prefix=owned.STAGING_PREFIX, dir=root) as tmp:
                staged = _stage(Path(tmp), files, trees, report)
                units = [*files, *trees, *gone]
                if manifest:
                    new = _next_manifest(old, trees, gone, staged)
                    write_bytes(Path(tmp) / "new" / owned.MANIFEST, new.to_json().encode(), 0o644)
                    units.append(owned.MANIFEST)
                _swap(root, Path(tmp), units, set(gone))
    except OSError as exc:
        _unmake(root, made)
        raise guard.failed(exc, option, target) from None
    except BaseException:
        _unmake(root, made)
        raise
    return [root / rel for rel in sorted(files)] + [root / rel for rel in sorted(trees)]


def check_output(root: str | os.PathLike, names: Iterable[str], trees: Mapping[str, str] | None = None, *,
                 force: bool, option: str, target: Path | None = None) -> None:
    """Refuse early (exit 2) when writing `names` (and `trees`) under root later would clobber something."""
    root = Path(root)
    target = target or root
    what = owned.kind(root)
    if what not in (None, "a folder"):
        raise not_a_folder(root, what, option, target)
    if what is None:
        return
    blocked = guard.find_conflicts(root, list(names), dict(trees or {}), owned.read_manifest(root), force=force)
    if blocked:
        raise guard.refuse(option, target, blocked)


def write_file(path: str | os.PathLike, data: str | bytes | FileOut, *, force: bool = False,
               option: str = "-o") -> Path:
    """One file, written like an output of one file in its folder (manifest beside it)."""
    path = Path(path)
    if path.name in ("", ".", "..") or path.name == owned.MANIFEST:
        raise guard.UsageError(f"{option} {guard.shown(path)}: give a file name")
    write_output(path.parent, {path.name: data}, force=force, option=option, target=path)
    return path


def check_file(path: str | os.PathLike, *, force: bool, option: str) -> None:
    path = Path(path)
    if path.name in ("", ".", "..") or path.name == owned.MANIFEST:
        raise guard.UsageError(f"{option} {guard.shown(path)}: give a file name")
    check_output(path.parent, [path.name], force=force, option=option, target=path)


def _in_folder(rel: str, folders: Iterable[str]) -> bool:
    return any(rel.startswith(folder + "/") for folder in folders)


def _removals(root: Path, old, keep: set[str], remove: Iterable[str], prune: bool) -> list[str]:
    """What to delete: `remove`, plus (prune) the earlier output's pieces; only what toolkit wrote."""
    wanted = set(remove)
    if prune and old:
        wanted |= old.folders | {k for k in old.files if not _in_folder(k, old.folders)}
    gone = []
    for rel in sorted(wanted - keep):
        guard.check_rel(rel)
        if rel in (old.folders if old else ()):
            if owned.owns_folder(root, rel, old):
                gone.append(rel)
        elif owned.kind(root / rel) == "a file" and owned.owns_file(root, rel, old, use_header=True):
            gone.append(rel)
    return gone


def _stage(tmp: Path, files: Mapping[str, str | bytes | FileOut], trees: Mapping[str, str],
           report: Report | None) -> dict[str, str]:
    """Write everything under tmp/new; returns relative path -> sha256 ('' for a folder)."""
    new = tmp / "new"
    new.mkdir()
    digests: dict[str, str] = {}
    for rel, value in sorted(files.items()):
        item = as_file(value)
        (new / rel).parent.mkdir(parents=True, exist_ok=True)
        write_bytes(new / rel, item.data, item.mode)
        digests[rel] = hashlib.sha256(item.data).hexdigest()
    for rel, src in sorted(trees.items()):
        (new / rel).parent.mkdir(parents=True, exist_ok=True)
        copied = wheels.copy_wheels(Path(src), new / rel)
        for skipped in copied.skipped:
            (report or (lambda text: None))(f"wheelhouse {guard.shown(src)}: skipped {skipped}")
        digests[rel] = ""
        digests.update({f"{rel}/{name}": digest for name, digest in copied.digests.items()})
    return digests


def _next_manifest(old, trees, gone: list[str], staged: dict[str, str]) -> owned.Manifest:
    result = owned.Manifest(dict(old.files), set(old.folders)) if old else owned.Manifest()
    for rel in [*trees, *gone]:
        result.folders.discard(rel)
        result.files = {k: v for k, v in result.files.items() if k != rel and not k.startswith(rel + "/")}
    result.files.update({k: v for k, v in staged.items() if k not in trees})   # trees: their files only
    result.folders.update(trees)
    return result


def _swap(root: Path, tmp: Path, units: list[str], gone: set[str]) -> None:
    """Rename each staged unit into place (the old one into tmp/old first); undo all on error."""
    old_dir = tmp / "old"
    old_dir.mkdir()
    done: list[tuple[str, bool, list[Path]]] = []     # (rel, had an old one, folders made)
    with deferred_interrupt():
        try:
            for n, rel in enumerate(units):
                target = root / rel
                made = _make_parents(root, rel)
                had_old = os.path.lexists(target)
                if had_old:
                    os.rename(target, old_dir / str(n))
                done.append((rel, had_old, made))
                if rel not in gone:
                    os.rename(tmp / "new" / rel, target)
        except BaseException:
            for n, (rel, had_old, made) in reversed(list(enumerate(done))):
                target = root / rel
                if rel not in gone and os.path.lexists(target):
                    os.rename(target, tmp / "new" / rel)
                if had_old:
                    os.rename(old_dir / str(n), target)
                for folder in reversed(made):
                    folder.rmdir()
            raise


def _make_parents(root: Path, rel: str) -> list[Path]:
    made = []
    for n in range(1, rel.count("/") + 1):
        folder = root.joinpath(*rel.split("/")[:n])
        if not os.path.lexists(folder):
            folder.mkdir()
            made.append(folder)
    return made


def _unmake(root: Path, made: bool) -> None:
    if made:
        try:
            root.rmdir()
        except OSError:
            pass
