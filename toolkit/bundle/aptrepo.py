"""A flat apt repository's index: Packages (+ .gz) and Release, from each .deb's control fields.

`dpkg-deb -f` (in the collecting container) gives the control fields; this adds what the index needs
(Filename, Size, SHA256) and writes the stanzas in file-name order, so the same .debs give the same bytes.
apt trusts the repository through `[trusted=yes]` on the bundle's own source entry only (its own
APT_CONFIG, see install.py): no signature check is turned off for any other source.
"""

from __future__ import annotations

import gzip
import hashlib
import re

FIELD = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*):(.*)$")
MARK = "@@toolkit-deb "           # the line the collecting loop prints before each file's fields
DEB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+~_%:-]*\.deb$")


class IndexError_(ValueError):
    """dpkg-deb's output did not parse (a damaged .deb)."""


def split_fields(output: str) -> dict[str, list[str]]:
    """`@@toolkit-deb NAME` + control lines, repeated -> {file name: control lines}."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith(MARK):
            name = line[len(MARK):].strip()
            if not DEB_NAME.fullmatch(name):
                raise IndexError_(f"unexpected file name {name!r}")
            current = found.setdefault(name, [])
        elif current is not None and line.strip():
            current.append(line)
    return found


def stanza(lines: list[str], filename: str, data: bytes) -> str:
    """One Packages stanza: the control fields (Package first, as dpkg writes it) + where and what the file is."""
    if not lines or not FIELD.match(lines[0]):
        raise IndexError_(f"{filename}: no control fields")
    fields = [ln for ln in lines if not ln.startswith(("Filename:", "Size:", "SHA256:", "MD5sum:"))]
    names = [FIELD.match(ln).group(1) for ln in fields if FIELD.match(ln)]   # type: ignore[union-attr]
    if "Package" not in names or "Version" not in names:
        raise IndexError_(f"{filename}: its control fields have no Package or Version")
    extra = [f"Filename: ./{filename}", f"Size: {len(data)}", f"SHA256: {hashlib.sha256(data).hexdigest()}"]
    return "\n".join(fields + extra) + "\n"


def packages_text(stanzas: dict[str, str]) -> str:
    return "\n".join(stanzas[name] for name in sorted(stanzas))


def release_text(files: dict[str, bytes], label: str, epoch: int = 0) -> str:
    import email.utils

    date = email.utils.formatdate(epoch, usegmt=True).replace("GMT", "UTC")
    lines = ["Origin: toolkit bundle", f"Label: {label}", f"Date: {date}", "Suite: bundle", "Codename: bundle",
             "Description: packages of a toolkit bundle (local, trusted by its own source entry only)", "SHA256:"]
    for name in sorted(files):
        lines.append(f" {hashlib.sha256(files[name]).hexdigest()} {len(files[name])} {name}")
    return "\n".join(lines) + "\n"


def index_files(stanzas: dict[str, str], label: str, epoch: int = 0) -> dict[str, bytes]:
    """Packages, Packages.gz (reproducible: no name, no time) and Release."""
    packages = packages_text(stanzas).encode()
    gz = gzip.compress(packages, mtime=0)
    files = {"Packages": packages, "Packages.gz": gz}
    return {**files, "Release": release_text(files, label, epoch).encode()}
