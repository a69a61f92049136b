"""Mask secrets in text meant for people, logs or files: the one masking helper of toolkit.

- `url(text)` / `text(text, secrets)`: the credential part of every URL becomes `***`
  (`scheme://user:pass@host` -> `scheme://***@host`), whatever the password holds (`@`, `:`,
  `%40`, `/`): everything up to the last `@` of the URL's authority is masked. Known secret
  values (a sudo password, a build arg read from the environment) are masked too.
- `is_secret_name(name)`: names that look like they hold a secret (`*_TOKEN`, `*PASSWORD*`,
  `AWS_SECRET_ACCESS_KEY`, ...); `mapping(values)` masks their values and URL credentials in
  the others.

A leaf module: it imports nothing from toolkit, so every layer may use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MASK = "***"
MIN_SECRET = 4       # shorter known values are not searched for in free text (they would mangle every line)
SECRET_NAME = re.compile(
    r"TOKEN|PASSWORD|PASSWD|PASSPHRASE|(?:^|_)PASS(?:$|_)|SECRET|KEY|CREDENTIAL|AUTH|NETRC|COOKIE|SESSION"
    r"|PRIVATE|(?:^|_)PAT$",
    re.IGNORECASE)
# A scheme, then the rest of one URL-ish token (up to whitespace, a quote or an angle bracket).
_WHOLE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{0,31}://)(?P<rest>.*)$", re.DOTALL)
_URL = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]{0,31}://)(?P<rest>[^\s'\"<>`]+)")


def _mask_rest(rest: str) -> str:
    """The part after `scheme://` with its credentials masked.

    The authority ends at the first `/`, `?` or `#`; its credentials end at its last `@`, so a
    password may hold `@` or `:`. A password may also hold an unencoded `/` (base64): when the
    authority has no `@` but a `:` followed by something other than a port, the credentials reach
    to the last `@` of the token (`user:pa/ss@host`). `host:8080/path@v1` and `host/pkg@1.0` stay.
    """
    first = re.split(r"[/?#]", rest, maxsplit=1)[0]
    at = first.rfind("@")
    if at >= 0:
        return MASK + rest[at:]
    user, colon, after = first.partition(":")
    at = rest.rfind("@")
    if colon and at > len(first) and not after.isdigit():
        return MASK + rest[at:]
    return rest


def url(value: str) -> str:
    """value with the credential part of every URL in it replaced by ***."""
    return _URL.sub(lambda m: m["scheme"] + _mask_rest(m["rest"]), str(value))


def text(value: str, secrets: Iterable[str] = ()) -> str:
    """value with URL credentials and every known secret value (of MIN_SECRET characters or more) masked."""
    result = str(value)
    for secret in sorted((s for s in secrets if s and len(s) >= MIN_SECRET), key=len, reverse=True):
        result = result.replace(secret, MASK)
    return url(result)


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def value(item: str) -> str:
    """One whole value (a build arg, a proxy setting) safe to print: as `url()`, and the value is one
    token however it is spelled (a quote or space in a password cannot end the URL early), and a
    scheme-less `user:pass@host:port` (as curl and apt take a proxy) is masked too."""
    item = str(item)
    whole = _WHOLE.match(item)
    if whole:
        return whole["scheme"] + _mask_rest(whole["rest"])
    first = re.split(r"[/?#]", item, maxsplit=1)[0]
    at = first.rfind("@")
    if at > 0 and ":" in first[:at]:
        return MASK + item[at:]
    return url(item)


def mapping(values: Mapping[str, str]) -> dict[str, str]:
    """values safe to print: secret-looking names' values replaced by ***, URL credentials masked."""
    return {k: (MASK if is_secret_name(k) else value(v)) for k, v in values.items()}


def has_credentials(value: str) -> bool:
    """Whether value holds a URL with a credential part."""
    return url(value) != str(value)
