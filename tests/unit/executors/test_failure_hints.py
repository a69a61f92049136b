"""The cause of a failed build or apply named from recorded-style log lines (pip, apt, git, curl, proxies)."""

from __future__ import annotations

import pytest

from toolkit.executors import docker_build as db
from toolkit.executors.build_progress import BuildLog, StepRecord
from toolkit.executors.failure_hints import diagnose
from toolkit.executors.results import OutputTracker

PIP = [
    "#9 1.234 WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after "
    "connection broken by 'SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate "
    "verify failed: self-signed certificate in certificate chain (_ssl.c:1006)'))': /simple/six/",
    "#9 5.1 Could not fetch URL https://pypi.org/simple/six/: There was a problem confirming the ssl certificate: "
    "HTTPSConnectionPool(host='pypi.org', port=443): Max retries exceeded - skipping",
    "#9 5.2 ERROR: Could not find a version that satisfies the requirement six==1.16.0 (from versions: none)",
    "#9 5.2 ERROR: No matching distribution found for six==1.16.0",
]
APT = ["Err:1 https://download.example.com/repo bookworm InRelease",
       "  Certificate verification failed: The certificate is NOT trusted. The certificate issuer is unknown.  "
       "Could not handshake: Error in the certificate verification. [IP: 10.0.0.1 443]",
       "E: Failed to fetch https://download.example.com/repo/dists/bookworm/InRelease"]
GIT = ["Cloning into '/opt/src'...",
       "fatal: unable to access 'https://github.com/x/y.git/': SSL certificate problem: self-signed certificate "
       "in certificate chain"]
CURL = ["curl: (60) SSL certificate problem: unable to get local issuer certificate",
        "More details here: https://curl.se/docs/sslcerts.html"]
PROXY = ["WARNING: Retrying ... after connection broken by 'ProxyError('Cannot connect to proxy.', "
         "OSError('Tunnel connection failed: 407 Proxy Authentication Required'))': /simple/six/"]


@pytest.mark.parametrize("lines,tool", [(PIP, "pip"), (PIP[-2:-1] + PIP[1:2], "pip"), (APT, "apt"), (GIT, "git"),
                                        (CURL, "git, curl")])
def test_tls_failures_point_at_ca_certificates_and_the_proxy(lines, tool):
    hint = diagnose(lines)
    assert hint is not None and f"({tool})" in hint
    assert "network: {ca_certificates: [" in hint and "network.proxy" in hint


def test_proxy_failures_point_at_the_proxy_settings():
    assert "network.proxy.http" in diagnose(PROXY)


def test_other_failures_get_no_hint():
    assert diagnose(["E: Unable to locate package nosuch", "ERROR: No matching distribution found for x==9"]) is None


def test_build_failure_summary_uses_the_hint():
    step = StepRecord(7, 12, "RUN pip install six==1.16.0", failed=True)
    step.output.extend(PIP)
    log = BuildLog()
    log.steps.append(step)
    log.error = "process did not complete successfully: exit code: 1"
    failure = db.failure(db.BuildRequest(context=None, tag="t:1"), log, db.BUILDKIT)
    text = failure.render()
    assert "ca_certificates" in text and "rerun with -v" not in text
    plain = BuildLog()
    plain.error = "exit code: 1"
    assert "rerun with -v" in db.failure(db.BuildRequest(context=None, tag="t:1"), plain, db.BUILDKIT).render()


def test_apply_failure_carries_the_hint_of_the_failing_step():
    tracker = OutputTracker("h1", 3)
    for line in ["[run] step 1/3: os: OS packages", *APT, "[failed] step 1/3: os: OS packages (exit status 100 at "
                 "line 9 of setup.sh)"]:
        tracker.line(line)
    result = tracker.result(1, 2.0)
    assert result.status == "failed" and "(apt)" in result.hint
    ok = OutputTracker("h2", 1)
    ok.line("[run] step 1/1: x")
    ok.line("[changed] step 1/1: x")
    assert ok.result(0, 1.0).hint is None
