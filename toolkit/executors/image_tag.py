"""Image names for `build -t`: Docker's reference grammar (distribution/reference), checked before a build
starts so that a bad name is a usage error that says what is wrong, not a failed build.

    name[:tag]      name = [domain[:port]/]component[/component...]   (no @digest: a build makes a tag)
"""

from __future__ import annotations

import re

MAX_NAME = 255
DOMAIN_COMPONENT = re.compile(r"^(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])$")
PORT = re.compile(r"^[0-9]+$")
IPV6 = re.compile(r"^\[[0-9A-Fa-f:.]+\]$")
PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
EXAMPLE = "e.g. myteam/datascience:1.0 or registry.example.com:5000/ns/image:tag"


def shown(text: str) -> str:
    """A value for a message: printable ASCII as is, anything else escaped, never more than 80 characters."""
    out = text.encode("unicode_escape").decode("ascii")
    return repr(out if len(out) <= 80 else out[:77] + "...")


def _is_domain(first: str) -> bool:
    return "." in first or ":" in first or first == "localhost"


def _domain_problem(domain: str) -> str | None:
    host, sep, port = domain.rpartition(":") if not domain.endswith("]") else (domain, "", "")
    if not sep:
        host = domain
    if sep and not PORT.match(port):
        return f"registry port {shown(port)} is not a number"
    if IPV6.match(host):
        return None
    bad = [c for c in host.split(".") if not DOMAIN_COMPONENT.match(c)]
    if bad:
        return (f"registry host {shown(host)}: {shown(bad[0])} is not a host name part "
                "(letters, digits and '-', not starting or ending with '-')")
    return None


def tag_problem(ref: str) -> str | None:
    """What is wrong with ref as a `docker build -t` name, or None when Docker accepts it."""
    if not ref:
        return "the image name is empty"
    if any(not c.isprintable() or c.isspace() for c in ref):
        return f"{shown(ref)} holds spaces or control characters"
    if "@" in ref:
        return f"{shown(ref)} holds a digest (@...): a build names a tag, the engine computes the digest"
    name, tag = ref, None
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = ref.rsplit(":", 1)
    if tag is not None and not TAG.match(tag):
        return (f"tag {shown(tag)} is not valid: 1 to 128 letters, digits, '_', '.' or '-', "
                "not starting with '.' or '-'")
    if not name:
        return f"{shown(ref)} has a tag but no repository name"
    parts = name.split("/")
    explicit_domain = len(parts) > 1 and _is_domain(parts[0])
    # The limit counts the full name the engine stores: docker.io/library/NAME for a bare NAME.
    full = name if explicit_domain else "docker.io/" + ("library/" if len(parts) == 1 else "") + name
    if len(full) > MAX_NAME:
        return (f"the repository name is {len(name)} characters long ({len(full)} as {shown(full[:24] + '...')}); "
                f"Docker allows at most {MAX_NAME} for the full name")
    if explicit_domain:
        problem = _domain_problem(parts[0])
        if problem:
            return problem
        parts = parts[1:]
    for part in parts:
        if part != part.lower() and PATH_COMPONENT.match(part.lower()):
            return f"repository name {shown(name)} must be lowercase"
        if not PATH_COMPONENT.match(part):
            what = "an empty path component ('//' or a leading or trailing '/')" if not part else shown(part)
            return (f"{what} in {shown(name)} is not valid: lower-case letters and digits, joined by single "
                    "'.', '_' or '__', or by dashes")
    return None
