"""jupyter.proxy.cert / key: the user's certificate and private key, read and checked at plan time.

Each problem is located at the field that names the file. The key's text never reaches a message: a key
that does not load is reported by its file name and cryptography's reason only.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from toolkit import inputs
from toolkit.components.base import Context
from toolkit.components.network import certificates
from toolkit.errors import Problem, ProfileError

LIMIT = 256 * 1024
HINT = "paths are relative to the profile that names them"


def _read(ctx: Context, field: str, ref: str, what: str) -> tuple[bytes | None, Problem | None]:
    base = ctx.source_file(field).parent
    path = Path(ref) if Path(ref).is_absolute() else base / ref
    try:
        return inputs.read_bytes(path, what=what, limit=LIMIT), None
    except inputs.InputError as exc:
        return None, ctx.loaded.problem(field, f"cannot read {what} '{exc.file}': {exc.reason}", HINT)


def _public(obj) -> bytes:
    return obj.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def cert_and_key(ctx: Context) -> tuple[str, str]:
    """(certificate chain PEM, private key PEM) from jupyter.proxy.cert / key, or ProfileError."""
    proxy = ctx.profile.jupyter.proxy
    assert proxy.cert is not None and proxy.key is not None
    cf, kf = "jupyter.proxy.cert", "jupyter.proxy.key"
    raw_cert, p1 = _read(ctx, cf, proxy.cert, "certificate file")
    raw_key, p2 = _read(ctx, kf, proxy.key, "private key file")
    problems = [p for p in (p1, p2) if p]
    certs: list[str] = []
    key = None
    if raw_cert is not None:
        certs, broken, has_key = certificates(raw_cert)
        if broken or not certs:
            problems.append(ctx.loaded.problem(cf, f"{proxy.cert} holds no valid PEM certificate" if not certs
                                               else f"{proxy.cert}: {broken} CERTIFICATE block(s) are not X.509",
                                               "give the server's certificate (then its chain) in PEM format"))
        if has_key:
            problems.append(ctx.loaded.problem(cf, f"{proxy.cert} also holds a private key",
                                               "keep the key in its own file, named by jupyter.proxy.key"))
    if raw_key is not None:
        try:
            key = load_pem_private_key(raw_key, password=None)
        except (ValueError, TypeError) as exc:
            reason = "it is encrypted" if isinstance(exc, TypeError) else "it is not a PEM private key"
            problems.append(ctx.loaded.problem(kf, f"{proxy.key}: {reason}",
                                               "give an unencrypted PEM private key (openssl pkey -in K -out K2)"))
    if key is not None and certs:
        first = x509.load_pem_x509_certificate(certs[0].encode("ascii"))
        if _public(first) != _public(key):
            problems.append(ctx.loaded.problem(kf, f"{proxy.key} is not the key of the first certificate in "
                                               f"{proxy.cert}", "name the key the certificate was issued for"))
    if problems:
        raise ProfileError(problems)
    assert key is not None
    # re-encoded (PKCS#8): nothing else of the file reaches the target
    return "".join(certs), key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode("ascii")
