"""Proxy, extra CA certificates and a package mirror: set up before anything downloads."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from toolkit import inputs
from toolkit.components.base import Context, Contribution, write_file
from toolkit.errors import Problem, ProfileError
from toolkit.model.checks import check
from toolkit.model.osfamily import OsFamily
from toolkit.model.steps import CA_ENV, Environment, RunCommand, TrustCA

CERT_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]{1,65536})-----END CERTIFICATE-----")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----")


def _mirror(ctx: Context, family: OsFamily, mirror: str) -> list:
    """The family's own mirror set-up: its source file, and removing the default one that would win."""
    if family.codename(ctx.target.distro, ctx.target.os_version) is None:
        raise ProfileError([ctx.loaded.problem(
            "network.apt_mirror", f"no apt suite name is known for {ctx.target.distro} {ctx.target.os_version}",
            "leave network.apt_mirror out for this release, or use a release toolkit knows the suites of")])
    files, stale = family.mirror_files(ctx.target.distro, ctx.target.os_version, mirror)
    steps: list = [write_file("network", f"{family.package_manager} mirror", path, text) for path, text in files]
    for path in stale:
        steps.append(RunCommand("network", "drop default deb822 sources", argv=("rm", "-f", path),
                                unless=("sh", "-c", '! test -e "$1"', "probe", path)))
    return steps


def certificates(raw: bytes) -> tuple[list[str], int, bool]:
    """The X.509 certificates of a PEM file, re-encoded (nothing else of the file survives), how many
    CERTIFICATE blocks are not certificates, and whether the file holds a private key."""
    text = raw.decode("ascii", errors="replace")
    certs = []
    for m in CERT_BLOCK.finditer(text):
        try:
            with warnings.catch_warnings():       # old CAs in real bundles have e.g. negative serials
                warnings.simplefilter("ignore")
                cert = x509.load_pem_x509_certificate(m.group(0).encode("ascii"))
            certs.append(cert.public_bytes(Encoding.PEM).decode("ascii"))
        except ValueError:
            pass
    broken = text.count("-----BEGIN CERTIFICATE-----") - len(certs)
    return certs, broken, bool(PRIVATE_KEY.search(text))


def _ca_file(ctx: Context, field: str, path: Path, out: Contribution) -> str | Problem:
    """The certificates of one CA file as PEM text, or the problem that refuses it."""
    hint = "paths are relative to the profile that names them"
    try:
        raw = inputs.read_bytes(path, what="CA file", limit=inputs.MAX_BYTES)
    except inputs.InputError as exc:
        return ctx.loaded.problem(field, f"cannot read CA file '{exc.file}': {exc.reason}", hint)
    certs, broken, has_key = certificates(raw)
    name = inputs.shown(path, 200)
    if broken:
        return ctx.loaded.problem(field, f"'{name}': {broken} CERTIFICATE block(s) are not valid X.509 certificates",
                                  "export the CA certificate again in PEM format")
    if not certs:
        return ctx.loaded.problem(field, f"'{name}' holds no PEM certificate",
                                  "give a file with -----BEGIN CERTIFICATE----- blocks")
    if has_key:
        out.warnings.append(f"{field}: {name} also holds a private key; it was left out (only its certificates "
                            "are installed). Keep private keys out of CA files")
    return "".join(certs)


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
    family = ctx.family
    if net.apt_mirror:
        out.steps += _mirror(ctx, family, net.apt_mirror)
    if net.ca_certificates:
        files = []
        problems = []
        for i, ref in enumerate(net.ca_certificates):
            field = f"network.ca_certificates.{i}"
            base = ctx.source_file(field).parent
            path = (base / ref) if not Path(ref).is_absolute() else Path(ref)
            pem = _ca_file(ctx, field, path, out)
            if isinstance(pem, Problem):
                problems.append(pem)
                continue
            files.append(write_file("network", f"CA {path.name}", f"{family.ca_dir}/{family.ca_prefix}{i:02d}-{path.stem}.crt",
                                    pem))
        if problems:
            raise ProfileError(problems)
        out.steps.append(ctx.os_packages("network", "CA tooling", family.ca_packages))
        out.steps.append(TrustCA("network", "trust extra CA certificates", files=tuple(files), bundle=family.ca_bundle))
        out.steps.append(Environment("network", "point pip, requests, curl and git at the CA bundle",
                                     variables=tuple((name, family.ca_bundle) for name in CA_ENV)))
        for f in files:
            out.checks.append(check("file", "network", f"CA certificate {f.path} installed",
                                    ident=f"file:{f.path}", path=f.path))
    return out
