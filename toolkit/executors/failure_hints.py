"""Name the usual cause of a failed build or apply from its log lines: HTTPS intercepted by a proxy
whose CA is not trusted (pip, apt, git, curl), a base image no registry could give, or a proxy that
refuses or cannot be reached.

Pure functions over recorded lines; the build and apply failure summaries use the hint in place of
a bare "rerun with -v"."""

from __future__ import annotations

import re
from collections.abc import Iterable

# (tool, pattern) for TLS verification failures, as pip, apt, git, curl and wget print them
TLS_FAILURES = (
    ("pip", re.compile(r"CERTIFICATE_VERIFY_FAILED|SSLCertVerificationError|"
                       r"There was a problem confirming the ssl certificate")),
    ("apt", re.compile(r"Certificate verification failed|The certificate is NOT trusted|"
                       r"certificate verification failed: The certificate")),
    ("git", re.compile(r"SSL certificate problem|server certificate verification failed")),
    ("curl", re.compile(r"curl: \(60\)|curl: \(77\)")),
    ("wget", re.compile(r"ERROR: cannot verify .* certificate")),
)
PULL_FAILURES = re.compile(r"pull access denied|failed to resolve source metadata|manifest unknown|"
                           r"repository does not exist|failed to do request: Head \"https://|"
                           r"dial tcp: lookup registry|Get \"https://registry-1\.docker\.io")
PROXY_FAILURES = re.compile(r"ProxyError|407 Proxy Authentication Required|Tunnel connection failed|"
                            r"Could not resolve proxy|Received HTTP code 407 from proxy")

TLS_HINT = ("HTTPS certificate verification failed ({tools}): something between this machine and the "
            "server (a corporate proxy, a firewall) presents its own certificate. Add its CA certificate "
            "(PEM) to the profile: `network: {{ca_certificates: [corp-ca.pem]}}` (paths relative to the "
            "profile; on Debian/Ubuntu the host's bundle is /etc/ssl/certs/ca-certificates.crt), and set "
            "`network.proxy.http` / `https` / `no_proxy` if HTTPS goes through a proxy")
PULL_HINT = ("the base image (FROM) is not on this engine and could not be pulled from its registry. "
             "`docker load -i IMAGE.tar` loads a saved one; scripts/ensure-base-image.sh (toolkit checkout) makes "
             "local/debian:12 without a registry; then build with --base-image NAME (or set os.base_image)")
PROXY_HINT = ("the proxy refused or could not be reached: check `network.proxy.http` / `https` / `no_proxy` "
              "in the profile (and the proxy's address from the build or host)")


def diagnose(lines: Iterable[str]) -> str | None:
    """A hint naming the cause and the profile settings that fix it, or None when nothing is known."""
    text = list(lines)
    tools = [tool for tool, pattern in TLS_FAILURES if any(pattern.search(line) for line in text)]
    if tools:
        return TLS_HINT.format(tools=", ".join(tools))
    if any(PULL_FAILURES.search(line) for line in text):
        return PULL_HINT
    if any(PROXY_FAILURES.search(line) for line in text):
        return PROXY_HINT
    return None
