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


# The one rule for "this variable name looks like it holds a secret" (profile env, build args,
# anything that masks or refuses by name). Names are split into words at '_', '-', '.' and
# camelCase boundaries, upper-cased, then:
# - a word that is or ends with TOKEN, SECRET(S), PASSWORD(S), PASSWD, PASSPHRASE, CREDENTIAL(S),
#   APIKEY, PRIVATEKEY; or is exactly PASS, PW, CREDS, PAT (a personal access token) or DSN;
# - KEY (or KEYS) right after API, ACCESS, SECRET, PRIVATE, AUTH, CLIENT, MASTER, SERVICE, ACCOUNT,
#   ENCRYPTION, SIGNING, LICENSE, APP, DEPLOY, SSH, SESSION, STORAGE, WEBHOOK (AWS_ACCESS_KEY_ID,
#   OPENAI_API_KEY) - GPG_KEY (a fingerprint) or SORT_KEY are not secrets;
# Words such as TOKENIZERS (TOKENIZERS_PARALLELISM) or PWD (the working directory) do not match.
_SECRET_WORDS = ("TOKEN", "TOKENS", "SECRET", "SECRETS", "PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE",
                 "CREDENTIAL", "CREDENTIALS", "APIKEY", "PRIVATEKEY")
_SECRET_EXACT_WORDS = {"PASS", "PW", "CREDS", "PAT", "DSN"}
_KEY_OWNERS = {"API", "ACCESS", "SECRET", "PRIVATE", "AUTH", "CLIENT", "MASTER", "SERVICE", "ACCOUNT",
               "ENCRYPTION", "SIGNING", "LICENSE", "APP", "DEPLOY", "SSH", "SESSION", "STORAGE", "WEBHOOK"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def secret_words(name: str) -> list[str]:
    return [w for w in re.split(r"[_.\-]+", _CAMEL.sub("_", name).upper()) if w]


def looks_secret(name: str) -> bool:
    """True when a variable (or key) name suggests its value is a secret; see the rule above."""
    words = secret_words(name)
    for i, word in enumerate(words):
        if word in _SECRET_EXACT_WORDS or word.endswith(_SECRET_WORDS):
            return True
        if word in ("KEY", "KEYS") and i > 0 and words[i - 1] in _KEY_OWNERS:
            return True
    return False


def is_secret_name(name: str) -> bool:
    """Names whose values are masked in output: looks_secret, and wider (KEY, AUTH, SESSION, COOKIE
    anywhere): masking a harmless value costs nothing, refusing a harmless name (looks_secret) does."""
    return looks_secret(name) or bool(SECRET_NAME.search(name))


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
