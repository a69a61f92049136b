"""Proxy, extra CA certificates and apt mirror: set up before anything downloads."""

from __future__ import annotations

from pathlib import Path

from toolkit.components.base import Context, Contribution, write_file
from toolkit.errors import ProfileError
from toolkit.model.checks import check
from toolkit.model.steps import AptPackages, Environment, RunCommand, TrustCA

CODENAMES = {
    ("ubuntu", "20.04"): "focal", ("ubuntu", "22.04"): "jammy", ("ubuntu", "24.04"): "noble",
    ("debian", "11"): "bullseye", ("debian", "12"): "bookworm", ("debian", "13"): "trixie",
}
CA_DIR = "/usr/local/share/ca-certificates/toolkit"
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
CA_ENV = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "NODE_EXTRA_CA_CERTS")


def _sources(distro: str, codename: str, mirror: str) -> str:
    mirror = mirror.rstrip("/")
    if distro == "ubuntu":
        comps = "main restricted universe multiverse"
        suites = (codename, f"{codename}-updates", f"{codename}-security")
    else:
        comps = "main"
        suites = (codename, f"{codename}-updates")
    return "".join(f"deb {mirror} {suite} {comps}\n" for suite in suites)


def contribute(ctx: Context) -> Contribution:
    net = ctx.profile.network
    out = Contribution()
    proxy = net.proxy
    if proxy.http or proxy.https:
        pairs = []
        for name, value in (("http_proxy", proxy.http), ("https_proxy", proxy.https or proxy.http),
                            ("no_proxy", ",".join(proxy.no_proxy) if proxy.no_proxy else None)):
            if value:
                pairs += [(name, value), (name.upper(), value)]
        out.steps.append(Environment("network", "proxy settings", variables=tuple(pairs),
                                     build_only=not proxy.keep_in_image))
    if net.apt_mirror:
        codename = CODENAMES[(ctx.target.distro, ctx.target.os_version)]
        out.steps.append(write_file("network", "apt mirror", "/etc/apt/sources.list",
                                    _sources(ctx.target.distro, codename, net.apt_mirror)))
        deb822 = f"/etc/apt/sources.list.d/{ctx.target.distro}.sources"
        out.steps.append(RunCommand("network", "drop default deb822 sources", argv=("rm", "-f", deb822),
                                    unless=("sh", "-c", '! test -e "$1"', "probe", deb822)))
    if net.ca_certificates:
        files = []
        problems = []
        for i, ref in enumerate(net.ca_certificates):
            field = f"network.ca_certificates.{i}"
            base = ctx.source_file(field).parent
            path = (base / ref) if not Path(ref).is_absolute() else Path(ref)
            try:
                pem = path.read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as exc:
                reason = getattr(exc, "strerror", None) or exc
                problems.append(ctx.loaded.problem(field, f"cannot read CA file {str(path)!r}: {reason}",
                                                   "paths are relative to the profile that names them"))
                continue
            if "-----BEGIN CERTIFICATE-----" not in pem:
                problems.append(ctx.loaded.problem(field, f"{str(path)!r} holds no PEM certificate"))
                continue
            files.append(write_file("network", f"CA {path.name}", f"{CA_DIR}/{i:02d}-{path.stem}.crt", pem))
        if problems:
            raise ProfileError(problems)
        out.steps.append(AptPackages("network", "CA tooling", packages=("ca-certificates",)))
        out.steps.append(TrustCA("network", "trust extra CA certificates", files=tuple(files), bundle=BUNDLE))
        out.steps.append(Environment("network", "point pip, requests, curl and git at the CA bundle",
                                     variables=tuple((name, BUNDLE) for name in CA_ENV)))
        for f in files:
            out.checks.append(check("file", "network", f"CA certificate {f.path} installed",
                                    ident=f"file:{f.path}", path=f.path))
    return out
