"""Credentials for a private pip index and an authenticated proxy, read at build/apply time.

A profile holds credential-free URLs only (its URL pattern refuses `user:pass@`). The logins come
from this machine when toolkit runs, from (first match wins):
- the environment: TOOLKIT_PIP_INDEX_USERNAME / TOOLKIT_PIP_INDEX_PASSWORD (for the host of
  network.pip.index_url), TOOLKIT_PROXY_USERNAME / TOOLKIT_PROXY_PASSWORD (for network.proxy);
- a netrc file: `--netrc FILE`, else ~/.netrc when it exists; only its `machine` entries for the
  hosts the profile names (its indexes and its proxy) are used.

They travel only as files: a netrc (for pip, through NETRC) and the proxy's `user:password`,
handed to BuildKit as secrets or written 0600 into apply's private temp folder. Never in argv,
a Dockerfile, a log or profile.json; `secrets()` lists what output filters must mask.
"""

from __future__ import annotations

import netrc
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import UsageError
from toolkit.model.plan import Plan
from toolkit.model.steps import PROXY_VARIABLES, Environment, PipInstall

INDEX_ENV = ("TOOLKIT_PIP_INDEX_USERNAME", "TOOLKIT_PIP_INDEX_PASSWORD")
PROXY_ENV = ("TOOLKIT_PROXY_USERNAME", "TOOLKIT_PROXY_PASSWORD")
NETRC_FILE = "netrc"                   # names in apply's credentials folder
PROXY_FILE = "proxy-auth"
_BAD = set(" \t\"'\\#")                # cannot be written as one netrc token


@dataclass(frozen=True)
class Login:
    user: str
    password: str
    source: str                        # where it came from, for people (never the values)


@dataclass(frozen=True)
class Credentials:
    indexes: tuple[tuple[str, Login], ...] = ()     # (index host, login)
    proxy: Login | None = None

    def __bool__(self) -> bool:
        return bool(self.indexes or self.proxy)

    def netrc_text(self) -> str:
        return "".join(f"machine {host} login {lg.user} password {lg.password}\n" for host, lg in self.indexes)

    def proxy_auth(self) -> str:
        """`user:password`, percent-encoded, to put before `@` in a proxy URL."""
        if not self.proxy:
            return ""
        quote = lambda s: urllib.parse.quote(s, safe="")   # noqa: E731
        return f"{quote(self.proxy.user)}:{quote(self.proxy.password)}"

    def proxy_args(self, settings: Mapping[str, str]) -> dict[str, str]:
        """The proxy build args: settings' proxy URLs with the login inserted (no_proxy as is)."""
        auth = self.proxy_auth()
        if not auth:
            return dict(settings)
        return {k: (with_auth(v, auth) if k.lower() != "no_proxy" else v) for k, v in settings.items()}

    def secrets(self) -> tuple[str, ...]:
        """Every value output filters must mask (passwords, logins, their encoded forms)."""
        logins = [lg for _, lg in self.indexes] + ([self.proxy] if self.proxy else [])
        values = {v for lg in logins for v in (lg.password, urllib.parse.quote(lg.password, safe=""))}
        return tuple(sorted(v for v in values if v))

    def describe(self) -> list[str]:
        lines = [f"credentials for pip index {host}: {lg.source}" for host, lg in self.indexes]
        if self.proxy:
            lines.append(f"credentials for the proxy: {self.proxy.source}")
        return lines


def with_auth(url: str, auth: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{auth}@{rest}" if sep else f"{auth}@{url}"


def index_hosts(plan: Plan) -> list[str]:
    hosts: list[str] = []
    for step in plan.steps:
        if isinstance(step, PipInstall):
            for url in ([step.index_url] if step.index_url else []) + list(step.extra_index_urls):
                host = urllib.parse.urlsplit(url).hostname
                if host and host not in hosts:
                    hosts.append(host)
    return hosts


def main_index_host(plan: Plan) -> str | None:
    for step in plan.steps:
        if isinstance(step, PipInstall) and step.index_url:
            return urllib.parse.urlsplit(step.index_url).hostname
    return None


def proxy_settings(plan: Plan) -> dict[str, str]:
    """The build-only proxy variables of plan (docker's predefined proxy args), by name."""
    return {k: v for s in plan.steps if isinstance(s, Environment) and s.build_only
            for k, v in s.variables if k in PROXY_VARIABLES}


def _proxy_host(plan: Plan) -> str | None:
    for step in plan.steps:
        if isinstance(step, Environment):
            for k, v in step.variables:
                if k.lower() in ("http_proxy", "https_proxy"):
                    return urllib.parse.urlsplit(v).hostname
    return None


def _from_env(environ: Mapping[str, str], names: tuple[str, str]) -> Login | None:
    user, password = (environ.get(n) for n in names)
    if user is None and password is None:
        return None
    if not user or password is None:
        missing = names[0] if not user else names[1]
        raise UsageError(f"{missing} is not set (or empty) but {names[1] if not user else names[0]} is",
                         "set both, or neither")
    return Login(user, password, f"from {names[0]}/{names[1]}")


def _netrc(path: str | None) -> tuple[netrc.netrc | None, str]:
    explicit = path is not None
    file = Path(path) if path is not None else Path.home() / ".netrc"
    if not explicit and not file.is_file():
        return None, ""
    if not file.is_file():
        raise UsageError(f"--netrc {file}: not a regular file")
    try:
        return netrc.netrc(str(file)), str(file)
    except netrc.NetrcParseError as exc:
        # exc.msg can quote a token of the file (a password): say where only.
        raise UsageError(f"cannot read netrc file {file} (a syntax error at line {exc.lineno})",
                         "each entry: machine HOST login USER password PASSWORD") from None
    except OSError as exc:
        raise UsageError(f"cannot read netrc file {file}: {exc.strerror}") from None


def _from_netrc(rc: netrc.netrc | None, where: str, host: str | None) -> Login | None:
    entry = rc.authenticators(host) if rc is not None and host else None
    if not entry or entry[2] is None:
        return None
    return Login(entry[0] or "", entry[2], f"from {where} (machine {host})")


def _checked(login: Login, what: str, bad: set[str] = _BAD) -> Login:
    for part, name in ((login.user, "user name"), (login.password, "password")):
        if any(c in bad or not c.isprintable() for c in part):
            raise UsageError(f"the {name} for {what} ({login.source}) holds a space, quote, '#', backslash or "
                             "control character, which a netrc file cannot carry", "change it, or percent-encode "
                             "it if the server accepts that")
    return login


def gather(plan: Plan, environ: Mapping[str, str] | None = None, netrc_path: str | None = None) -> Credentials:
    """The logins plan's indexes and proxy need, from the environment and netrc; UsageError if half-given."""
    environ = os.environ if environ is None else environ
    rc, where = _netrc(netrc_path)
    indexes: list[tuple[str, Login]] = []
    env_index = _from_env(environ, INDEX_ENV)
    main = main_index_host(plan)
    if env_index and not main:
        raise UsageError(f"{INDEX_ENV[0]} is set but the profile names no network.pip.index_url",
                         "set network.pip.index_url (without credentials), or unset the variables")
    for host in index_hosts(plan):
        login = env_index if (env_index and host == main) else _from_netrc(rc, where, host)
        if login:
            indexes.append((host, _checked(login, f"pip index {host}")))
    proxy_host = _proxy_host(plan)
    proxy = _from_env(environ, PROXY_ENV)
    if proxy and not proxy_host:
        raise UsageError(f"{PROXY_ENV[0]} is set but the profile names no network.proxy",
                         "set network.proxy.http (without credentials), or unset the variables")
    proxy = proxy or _from_netrc(rc, where, proxy_host)
    if proxy and not proxy_settings(plan):
        raise UsageError("the proxy needs credentials, but network.proxy.keep_in_image: true writes the proxy "
                         "into the image's environment, where it would replace them during the build",
                         "set keep_in_image: false (the image's users then set their own proxy)")
    return Credentials(tuple(indexes), _checked(proxy, "the proxy", set()) if proxy else None)


def host_files(creds: Credentials) -> tuple[tuple[str, str], ...]:
    """The files apply puts (0600, in its private temp folder, removed after the run) for setup.sh
    --credentials DIR: a netrc for pip (NETRC), the proxy's user:password for the proxy URLs."""
    files = []
    if creds.indexes:
        files.append((NETRC_FILE, creds.netrc_text()))
    if creds.proxy:
        files.append((PROXY_FILE, creds.proxy_auth() + "\n"))
    return tuple(files)
