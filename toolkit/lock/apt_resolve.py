"""Resolve a plan's OS packages against the base image's own archive, without building.

One throwaway container of the locked base image (container.py): read /etc/os-release and
`dpkg --print-architecture`, write the apt mirror's source files when the profile names one,
`apt-get update` once, then simulate the OsPackages steps cumulatively - step 1's packages, then
steps 1+2, ... - with `apt-get install -s --no-install-recommends`. Every package a simulation would
install or change (`Inst` lines, dependencies included, upgrades of packages the image already has
too: they change the image) is assigned to the first step whose simulation pulls it in; its version
is the one the last simulation (the whole image) settles on. Packages come in step order, by name within a
step.

What is resolved: the OsPackages steps of the plan (toolkit/model/steps.py), against the archives the
base image and the apt mirror name. What is not: packages from repositories the plan adds itself
(PackageRepository, e.g. NVIDIA's CUDA repository) and the host-only NvidiaDriver/ContainerToolkit
steps - those archives are not reachable where a lock is made, so those packages stay unpinned; the
caller leaves such steps out of the requests.

Previous pins: a package of the previous lock keeps its version (an apt preferences file pins it at
priority 1001: the candidate even when the archive has a newer one, never installed for its own sake)
unless `upgrade` or it is named in `upgrade_packages`, or the step names a version itself. When the
archive no longer has that version, LockError names the package and the versions it has.

Proxies: the http_proxy family of `env` reaches apt (per command, never logged; apt's output is
masked with toolkit.redact). An https mirror needs CA certificates the base image may lack: `ca_pem`
(PEM text, e.g. the profile's network.ca_certificates or the controller's bundle) is added to the
image's bundle for apt (Acquire::https::CAInfo). Proxies or mirrors on the controller's 127.0.0.1
need `network="host"`.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping, Sequence

from toolkit import redact
from toolkit.lock import apt_parse
from toolkit.lock.apt_parse import interpreter, pinned
from toolkit.lock.container import Sandbox, throwaway
from toolkit.lock.model import AptRequest, AptResolution, BaseImage, LockError, OsPackage
from toolkit.model.osfamily import DEBIAN

__all__ = ["interpreter", "pinned", "resolve", "MirrorSources"]

# What OsFamily.mirror_files returns: ((path, text) files to write, default source files to remove).
MirrorSources = tuple[tuple[tuple[str, str], ...], tuple[str, ...]]
PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")
PREFERENCES = "/etc/apt/preferences.d/toolkit-lock"
CA_FILE = "/etc/apt/toolkit-lock-ca.pem"
CA_CONF = "/etc/apt/apt.conf.d/99toolkit-lock-ca"
IMAGE_BUNDLE = DEBIAN.ca_bundle
APT = ("apt-get", "-o", "APT::Update::Error-Mode=any")   # a failed index download is an error, not a warning
UPGRADE_HINT = ("`toolkit lock --upgrade-package NAME` takes the archive's version now; to keep the locked one, "
                "set network.apt_mirror to a snapshot.debian.org URL of the day the lock was made")


def resolve(client, image: BaseImage, requests: Sequence[AptRequest], *, previous: Sequence[OsPackage] = (),
            upgrade: bool = False, upgrade_packages: Sequence[str] = (), env: Mapping[str, str] | None = None,
            mirror_sources: MirrorSources | None = None, ca_pem: str | None = None, network: str | None = None,
            labels: Mapping[str, str] | None = None,
            progress: Callable[[str], None] | None = None) -> AptResolution:
    """The OS packages `requests` install on `image`, each with its version, arch and step (see above)."""
    say = progress or (lambda _message: None)
    secrets = _proxies(env or {})[1]
    ref = image.pinned if image.kind == "repo-digest" else image.digest
    with throwaway(client, ref, labels=labels, network=network) as box:
        release = apt_parse.parse_os_release(_check(box, ["cat", "/etc/os-release"], "read /etc/os-release", secrets))
        arch = _check(box, ["dpkg", "--print-architecture"], "ask dpkg its architecture", secrets).strip()
        if not any(r.packages for r in requests):
            return AptResolution((), release, arch)
        pins = _pins(requests, previous, upgrade, upgrade_packages)
        env_all = prepare(box, image.ref, env or {}, mirror_sources=mirror_sources, ca_pem=ca_pem, pins=pins,
                          progress=say)
        found = _simulate(box, requests, env_all, secrets, image.ref, say, pinned_any=bool(pins))
        _kept_or_refused(box, found, pins, env_all)
    return AptResolution(tuple(found.values()), release, arch)


def prepare(box: Sandbox, where: str, env: Mapping[str, str], *, mirror_sources: MirrorSources | None = None,
            ca_pem: str | None = None, pins: Mapping[str, str] | None = None,
            progress: Callable[[str], None] | None = None) -> dict[str, str]:
    """Point the container's apt at the profile's mirror and CA (and pins), `apt-get update` once; returns
    the environment apt commands run with (its proxies included). Also used to collect a bundle's .debs."""
    proxies, secrets = _proxies(env)
    _configure(box, mirror_sources, ca_pem, pins or {}, secrets)
    env_all = {**dict(DEBIAN.environment), **proxies}
    (progress or (lambda _m: None))(f"apt-get update in a container of {where}")
    _check(box, [*APT, "-q", "update"], f"refresh the package lists of {where}", secrets, env_all,
           hint="check the mirror and proxy settings (deb.debian.org over http needs no CA; an https mirror "
                "needs the base image's ca-certificates or network.ca_certificates)")
    return env_all


def checked(box: Sandbox, argv: list[str], what: str, env: Mapping[str, str], hint: str | None = None) -> str:
    """stdout of argv in the container; LockError with apt's own errors (proxy logins masked) when it fails."""
    return _check(box, argv, what, _proxies(env)[1], env, hint)


def _proxies(env: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The proxy variables of `env` and the credentials inside them, to mask in messages. apt reads only the
    lower-case names: an upper-case one (HTTP_PROXY) is passed under both when the lower-case one is unset."""
    proxies = {}
    for name in PROXY_VARIABLES:
        value = env.get(name) or env.get(name.upper())
        if value:
            proxies[name] = proxies[name.upper()] = value
    secrets = []
    for value in proxies.values():
        parts = urllib.parse.urlsplit(value if "://" in value else f"http://{value}")
        secrets += [s for s in (parts.username, parts.password) if s]
    return proxies, secrets


def _pins(requests: Sequence[AptRequest], previous: Sequence[OsPackage], upgrade: bool,
          upgrade_packages: Sequence[str]) -> dict[str, str]:
    """name -> version of the previous lock that stays, unless upgraded or pinned by the step itself."""
    if upgrade:
        return {}
    named = {DEBIAN.package_name(p) for r in requests for p in r.packages if DEBIAN.version_separator in p}
    free = set(upgrade_packages) | named
    return {p.name: p.version for p in sorted(previous, key=lambda p: p.name) if p.name not in free}


def _configure(box: Sandbox, mirror: MirrorSources | None, ca_pem: str | None, pins: Mapping[str, str],
               secrets: list[str]) -> None:
    files: list[tuple[str, str]] = []
    if mirror:
        written, stale = mirror
        files += written
        if stale:
            _check(box, ["rm", "-f", "--", *stale], "remove the default apt sources", secrets)
    if ca_pem:
        bundle = box.run(["cat", IMAGE_BUNDLE])
        files += [(CA_FILE, (bundle.stdout if bundle.rc == 0 else "") + "\n" + ca_pem),
                  (CA_CONF, f'Acquire::https::CAInfo "{CA_FILE}";\n')]
    if pins:
        files.append((PREFERENCES, apt_parse.preferences(pins.items())))
    box.write(files)


def _simulate(box: Sandbox, requests: Sequence[AptRequest], env: Mapping[str, str], secrets: list[str],
              where: str, say: Callable[[str], None], *, pinned_any: bool) -> dict[str, OsPackage]:
    hint = ("check the package names (`apt-cache policy NAME` in a container of the image); packages from "
            "repositories the plan adds (NVIDIA's) cannot be resolved where the lock is made")
    if pinned_any:
        hint += ("; when apt names a package kept at its locked version, `toolkit lock --upgrade-package NAME` "
                 "(or --upgrade) lets it move")
    step_of: dict[str, str] = {}
    last: list[apt_parse.Inst] = []
    wanted: list[str] = []
    for request in requests:
        if not request.packages:
            continue
        wanted += request.packages
        say(f"resolving {request.step}: {' '.join(request.packages)}")
        out = _check(box, [*APT, "install", "-s", "--no-install-recommends", "--", *wanted],
                     f"resolve {request.step} ({' '.join(request.packages)}) in {where}", secrets, env, hint=hint)
        last = apt_parse.parse_inst(out)
        for inst in last:
            step_of.setdefault(inst.name, request.step)
    order = {r.step: n for n, r in enumerate(requests)}
    ordered = sorted(last, key=lambda i: (order[step_of[i.name]], i.name))
    return {i.name: OsPackage(i.name, i.version, i.arch, step_of[i.name]) for i in ordered}


def _kept_or_refused(box: Sandbox, found: Mapping[str, OsPackage], pins: Mapping[str, str],
                     env: Mapping[str, str]) -> None:
    """LockError for each pinned package the archive no longer has at its locked version."""
    gone = sorted(n for n, p in found.items() if n in pins and p.version != pins[n])
    if not gone:
        return
    offered = apt_parse.parse_madison(box.run(["apt-cache", "madison", "--", *gone], env).stdout)
    lines = [f"{n} {pins[n]} (the archive has {', '.join(offered.get(n, [])) or 'no version'})" for n in gone]
    raise LockError("the archive no longer has the locked version of "
                    f"{'these packages' if len(gone) > 1 else 'this package'}: " + "; ".join(lines),
                    UPGRADE_HINT.replace("NAME", " --upgrade-package ".join(gone)))


def _check(box: Sandbox, argv: list[str], what: str, secrets: list[str], env: Mapping[str, str] | None = None,
           hint: str | None = None) -> str:
    res = box.run(argv, env)
    if res.rc != 0:
        why = redact.text(apt_parse.apt_errors(res.stdout, res.stderr), secrets)
        raise LockError(f"could not {what}:\n{why}", hint)
    return res.stdout
