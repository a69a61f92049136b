"""OpenSSH public keys from an authorized_keys-style file a profile names (`users[].authorized_keys`).

Only plain keys are taken: `TYPE BASE64 [COMMENT]`, the blob checked to be a key of that type
(cryptography parses it; RSA needs 2048 bits or more; DSA is refused, as OpenSSH does). Refused with
the line at fault: options before the key (`command=`, `from=`, `no-pty`...; a key with options means
something else than the profile shows), private keys (never echoed), control or bidi characters and
anything else. Pure: the caller reads the file through toolkit.inputs.
"""

from __future__ import annotations

import base64
import binascii
import struct
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
REFUSED_TYPES = {"ssh-dss": "DSA keys are refused by OpenSSH itself (since 7.0)"}
MAX_LINE = 16384
MAX_COMMENT = 256
MIN_RSA_BITS = 2048
PRIVATE_MARKS = ("PRIVATE KEY", "PuTTY-User-Key-File")
_NOT_TEXT = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
HINT = "give the .pub file (one `TYPE KEY [COMMENT]` line per key, as ssh-keygen writes it)"


@dataclass(frozen=True)
class KeyProblem:
    line: int
    message: str
    hint: str = HINT


def _blob_type(blob: bytes) -> str | None:
    if len(blob) < 4:
        return None
    (n,) = struct.unpack(">I", blob[:4])
    if n > 64 or len(blob) < 4 + n:
        return None
    try:
        return blob[4:4 + n].decode("ascii")
    except UnicodeDecodeError:
        return None


def _key_problem(kind: str, b64: str) -> str | None:
    try:
        blob = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return "the key is not valid base64"
    if _blob_type(blob) != kind:
        return f"the key data is not a {kind} key"
    if kind.startswith("sk-"):
        return None                  # security-key types: cryptography cannot parse them; the type matched
    try:
        key = load_ssh_public_key(f"{kind} {b64}".encode("ascii"))
    except (ValueError, TypeError, NotImplementedError):
        return f"the key data is not a valid {kind} key"
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        return f"RSA key of {key.key_size} bits; OpenSSH and toolkit want {MIN_RSA_BITS} or more"
    return None


def _comment_problem(comment: str) -> str | None:
    if len(comment) > MAX_COMMENT:
        return f"comment longer than {MAX_COMMENT} characters"
    for i, ch in enumerate(comment):
        if unicodedata.category(ch) in _NOT_TEXT and ch != "\t":
            return f"control or invisible formatting character U+{ord(ch):04X} in the comment (position {i + 1})"
    return None


def _line(text: str) -> tuple[str | None, str | None, str | None]:
    """(normalised key line, None, None), (None, why, hint) or (None, None, None) for blank/comment lines."""
    stripped = text.strip(" \t\r")
    if not stripped or stripped.startswith("#"):
        return None, None, None
    if len(stripped) > MAX_LINE:
        return None, f"line longer than {MAX_LINE} characters", HINT
    words = stripped.split(None, 2)
    kind = words[0]
    if kind in REFUSED_TYPES:
        return None, REFUSED_TYPES[kind], "use an ed25519 key: ssh-keygen -t ed25519"
    if kind not in KEY_TYPES:
        if any(t in stripped for t in (*KEY_TYPES, *REFUSED_TYPES)):
            return None, ("the key has options before it (such as command=, from= or no-pty); they would restrict "
                          "or replace what the account can do, unseen in the profile"), \
                "give the plain key (TYPE KEY [COMMENT]); restrict logins in sshd_config instead"
        return None, "not an OpenSSH public key (it must start with a key type such as ssh-ed25519)", HINT
    if len(words) < 2:
        return None, f"{kind} with no key after it", HINT
    why = _key_problem(kind, words[1])
    if why:
        return None, why, HINT
    comment = words[2].strip() if len(words) > 2 else ""
    why = _comment_problem(comment)
    if why:
        return None, why, "keep comments to printable text"
    return " ".join(w for w in (kind, words[1], comment) if w), None, None


def parse(text: str) -> tuple[list[str], list[KeyProblem]]:
    """The key lines of an authorized_keys-style text (normalised `TYPE KEY [COMMENT]`) and its problems."""
    lines = text.split("\n")
    private = next((n for n, raw in enumerate(lines, 1) if any(mark in raw for mark in PRIVATE_MARKS)), None)
    if private is not None:
        return [], [KeyProblem(private, "holds a PRIVATE key (not shown); a private key never leaves its owner's "
                               "machine", "name the matching .pub file instead, and consider this key exposed")]
    keys: list[str] = []
    problems: list[KeyProblem] = []
    for n, raw in enumerate(lines, 1):
        if any(unicodedata.category(ch) in ("Zl", "Zp") or ch in "\x0b\x0c\x85" for ch in raw):
            problems.append(KeyProblem(n, "a line or paragraph separator inside a line", HINT))
            continue
        line, why, hint = _line(raw)
        if why:
            problems.append(KeyProblem(n, why, hint or HINT))
        elif line and fingerprint(line) not in {fingerprint(k) for k in keys}:
            keys.append(line)      # one line per key: the first comment wins
    if not keys and not problems:
        problems.append(KeyProblem(1, "holds no public key", HINT))
    return keys, problems


def fingerprint(line: str) -> str:
    """`TYPE BASE64` of a normalised key line: what identifies the key whatever its comment."""
    return " ".join(line.split(" ", 2)[:2])
