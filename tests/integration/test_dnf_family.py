"""The RHEL family's setup.sh steps run for real with dnf: packages, a pinned-key repository and a hold.

No Rocky Linux or AlmaLinux archive (or image) is reachable here, so the test makes its own: Debian's
packages of dnf, rpm (rpmbuild, rpmsign), createrepo_c and dnf-plugins-core (versionlock) in an image
built from the Debian base image, and in a container of it
- fake noarch RPMs named like the real ones (curl-minimal providing curl, git-lfs, python3.11,
  ca-certificates, gnupg2, nvidia-container-toolkit), built with rpmbuild (the tools themselves are
  Debian's: the fakes only fill the rpm database);
- a plain local repository (file://, gpgcheck=0) standing in for BaseOS/AppStream;
- a signed repository (rpmsign with a throwaway OpenPGP key, createrepo_c) served over HTTPS on the
  container's loopback (a self-signed certificate the container trusts), standing in for NVIDIA's RPM
  repository: setup.sh downloads its key, accepts it only when it is the pinned fingerprint, writes the
  .repo file, and dnf checks the package signature against it.
setup.sh (rendered from a plan of the rhel family) runs twice: the first run changes every step, the
second changes nothing. Then the hold (dnf_hold, setup.sh's versionlock function) is applied twice and
a newer package in the repository is not taken by `dnf upgrade`. The rpm gatherer of the verify probe
reads the same rpm database. Last, the NVIDIA driver step (install: always) against a CUDA repository
stand-in with modular metadata: key, module stream, EPEL, kernel-devel, packages, nouveau, versionlock;
no kernel module is built or loaded (the fakes hold no module and there is no GPU).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shlex
import tarfile
import uuid

import pytest

from toolkit.model.checks import check
from toolkit.model.osfamily import DNF
from toolkit.model.plan import Plan, Target
from toolkit.model.steps import NvidiaDriver, OsPackages, PackageRepository
from toolkit.render import script
from toolkit.verify import facts
from toolkit.verify.evaluate import FAILED, PASSED, evaluate

from . import harness

pytestmark = pytest.mark.docker

IMAGE_REPO = "toolkit-test/dnf"
DOCKERFILE = """\
FROM {base}
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      dnf dnf-plugins-core rpm createrepo-c gnupg ca-certificates curl openssl python3 file \\
 && rm -rf /var/lib/apt/lists/*
RUN mkdir -p /etc/yum.repos.d /etc/dnf/vars && echo 9 >/etc/dnf/vars/releasever \\
 && sed -i 's/^enabled *=.*/enabled = 0/' /etc/dnf/plugins/local.conf
"""
REPO_URL = "https://localhost:8443/nvidia/"

# Builds the fake packages and both repositories, starts the HTTPS server; prints the key's fingerprint.
PREPARE = r"""
set -eu
export GNUPGHOME=/root/.gnupg
mkdir -p -m 700 "$GNUPGHOME" /srv/www/nvidia /srv/base
gpg --batch --passphrase '' --quick-gen-key 'toolkit test repo <repo@example.invalid>' rsa2048 sign never 2>/dev/null
fpr=$(gpg --with-colons --list-keys | awk -F: '$1 == "fpr" { print $10; exit }')
gpg --armor --export "$fpr" >/srv/www/key.asc
fake() {   # fake NAME VERSION [PROVIDES] [RELEASE]
  cat >"/tmp/$1.spec" <<SPEC
Name: $1
Version: $2
Release: ${4:-1}
Summary: fake $1 for toolkit tests
License: MIT
BuildArch: noarch
${3:+Provides: $3}
%description
A stand-in named like the real package.
%install
mkdir -p %{buildroot}/usr/share/toolkit-fake
echo "$1 $2" >%{buildroot}/usr/share/toolkit-fake/$1
%files
/usr/share/toolkit-fake/$1
SPEC
  rpmbuild -bb --quiet --define "_topdir /tmp/rpmbuild" "/tmp/$1.spec" >/dev/null
}
fake curl-minimal 7.76.1 "curl = 7.76.1"
fake git-lfs 3.4.1
fake python3.11 3.11.9
fake ca-certificates 2024.2.69
fake gnupg2 2.3.3
fake epel-release 9
# kernel-devel of the running kernel, spelled so that kernel-devel-$(uname -r) is its name-version-release
kernel=$(uname -r)
case "$kernel" in
  *-*-*) fake "kernel-devel-${kernel%-*-*}" "$(echo "$kernel" | awk -F- '{print $(NF-1)}')" "" "${kernel##*-}" ;;
  *) fake kernel-devel "${kernel%-*}" "" "${kernel##*-}" ;;
esac
fake nvidia-container-toolkit 1.17.0
mv /tmp/rpmbuild/RPMS/noarch/nvidia-container-toolkit-* /srv/www/nvidia/
# NVIDIA's CUDA repository stand-in: the driver packages belong to the module stream nvidia-driver:560-open
mkdir -p /srv/www/cuda
fake nvidia-driver 560.35.03
fake nvidia-driver-cuda 560.35.03
mv /tmp/rpmbuild/RPMS/noarch/nvidia-driver-* /srv/www/cuda/
mv /tmp/rpmbuild/RPMS/noarch/*.rpm /srv/base/
rpmsign --addsign --define "__gpg /usr/bin/gpg" --define "_gpg_name $fpr" /srv/www/nvidia/*.rpm /srv/www/cuda/*.rpm \
  >/dev/null 2>&1
createrepo_c -q /srv/base
createrepo_c -q /srv/www/nvidia
createrepo_c -q /srv/www/cuda
cat >/tmp/modules.yaml <<'YAML'
---
document: modulemd
version: 2
data:
  name: nvidia-driver
  stream: "560-open"
  version: 1
  context: "00000000"
  arch: noarch
  summary: fake NVIDIA driver stream for toolkit tests
  description: fake
  license:
    module: [MIT]
  profiles:
    default:
      rpms: [nvidia-driver, nvidia-driver-cuda]
  artifacts:
    rpms:
      - nvidia-driver-0:560.35.03-1.noarch
      - nvidia-driver-cuda-0:560.35.03-1.noarch
...
YAML
modifyrepo_c --mdtype=modules /tmp/modules.yaml /srv/www/cuda/repodata >/dev/null
printf '[base]\nname=base\nbaseurl=file:///srv/base\nenabled=1\ngpgcheck=0\n' >/etc/yum.repos.d/base.repo
openssl req -x509 -newkey rsa:2048 -nodes -keyout /srv/tls.key -out /srv/tls.crt -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost 2>/dev/null
cp /srv/tls.crt /usr/local/share/ca-certificates/toolkit-test.crt
update-ca-certificates >/dev/null 2>&1
cat >/srv/serve.py <<'PY'
import functools, http.server, ssl
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="/srv/www")
server = http.server.ThreadingHTTPServer(("127.0.0.1", 8443), handler)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain("/srv/tls.crt", "/srv/tls.key")
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
nohup python3 /srv/serve.py >/srv/serve.log 2>&1 &
for _ in $(seq 50); do curl -fsS -o /dev/null https://localhost:8443/key.asc && break; sleep 0.1; done
echo "$fpr"
"""

# A newer nvidia-container-toolkit in the signed repository, for the hold.
PUBLISH_NEWER = r"""
set -eu
export GNUPGHOME=/root/.gnupg
fpr=$(gpg --with-colons --list-keys | awk -F: '$1 == "fpr" { print $10; exit }')
sed -i 's/^Version: 1.17.0/Version: 1.18.0/; s/"nvidia-container-toolkit 1.17.0"/"nvidia-container-toolkit 1.18.0"/' \
  /tmp/nvidia-container-toolkit.spec
rpmbuild -bb --quiet --define "_topdir /tmp/rpmbuild" /tmp/nvidia-container-toolkit.spec >/dev/null
mv /tmp/rpmbuild/RPMS/noarch/nvidia-container-toolkit-1.18.0-* /srv/www/nvidia/
rpmsign --addsign --define "__gpg /usr/bin/gpg" --define "_gpg_name $fpr" /srv/www/nvidia/*1.18.0*.rpm >/dev/null 2>&1
createrepo_c -q --update /srv/www/nvidia
"""


def dnf_image(client, base_image: str) -> str:
    base_id = harness.image_id(client, base_image)
    if base_id is None:
        raise RuntimeError(f"base image {base_image} is missing ({harness.ENSURE_BASE_IMAGE})")
    text = DOCKERFILE.format(base=base_image)
    tag = f"{IMAGE_REPO}:{hashlib.sha256((text + base_id).encode()).hexdigest()[:16]}"
    if harness.image_id(client, tag) is None:
        harness.build_image(client, tag, {"Dockerfile": (text, 0o644)})
    return tag


@pytest.fixture(scope="module")
def rhel_box(docker_engine, base_image):
    """A running container with dnf, both repositories and the HTTPS server; yields (container, fingerprint)."""
    image = dnf_image(docker_engine, base_image)
    box = docker_engine.containers.run(image, ["sleep", "infinity"], detach=True,
                                       name=f"toolkit-test-dnf-{uuid.uuid4().hex[:8]}",
                                       labels={harness.TEST_LABEL: "1"})
    try:
        rc, out = box.exec_run(["bash", "-c", PREPARE])
        text = out.decode(errors="replace")
        assert rc == 0, text[-3000:]
        fingerprint = text.strip().splitlines()[-1]
        assert re.fullmatch(r"[0-9A-F]{40}", fingerprint), text[-3000:]
        yield box, fingerprint
    finally:
        harness.remove_container(box)


def rhel_plan(fingerprint: str) -> Plan:
    target = Target(distro="rocky", os_version="9", base_image="rockylinux/rockylinux:9", python_version="3.11",
                    python_bin="python3.11", venv="/opt/venv", user=None, uid=None, gid=None, home=None, gpu=False)
    repo = PackageRepository("driver", "signed test repository", name="toolkit-test", url=REPO_URL,
                             key_url="https://localhost:8443/key.asc", key_fingerprint=fingerprint,
                             signed_by=DNF.keyring("toolkit-test"), family=DNF.name)
    steps = (
        OsPackages("os", "OS packages", packages=("curl", "git-lfs", "python3.11"), family=DNF.name),
        repo,
        OsPackages("driver", "container toolkit", packages=("nvidia-container-toolkit",), family=DNF.name),
    )
    return Plan(name="dnf-family", description="the rhel family's package, repository and hold steps",
                digest="ab" * 32, target=target, steps=steps, checks=(), versions=(("os", "rocky-9"),))


def put(container, path: str, text: str) -> None:
    data = text.encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(path.rsplit("/", 1)[1])
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
    assert container.put_archive(path.rsplit("/", 1)[0], buf.getvalue())


def sh(container, command: str) -> tuple[int, str]:
    rc, out = container.exec_run(["bash", "-c", command])
    return rc, out.decode(errors="replace")


def outcomes(output: str) -> list[str]:
    return re.findall(r"^\[(ok\] unchanged|changed|would change|failed)", output, flags=re.M)


def library_functions(setup: str, *names: str) -> str:
    """The named shell functions as setup.sh defines them (each from `name() {` to its closing `}`)."""
    out = []
    for name in names:
        match = re.search(rf"^{name}\(\) {{\n.*?^}}\n", setup, flags=re.M | re.S)
        assert match, f"setup.sh defines no {name}()"
        out.append(match.group(0))
    return "".join(out)


def test_setup_sh_with_dnf_first_run_changes_second_changes_nothing(rhel_box):
    box, fingerprint = rhel_box
    plan = rhel_plan(fingerprint)
    setup = script.render(plan).files["setup.sh"]
    assert "dnf -y --setopt=install_weak_deps=False install --" in setup
    put(box, "/root/setup.sh", setup)

    rc, first = sh(box, "bash /root/setup.sh")
    assert rc == 0, first[-4000:]
    assert outcomes(first) == ["changed"] * len(plan.steps), first[-4000:]
    assert f"signing key {fingerprint} checked and installed as /etc/pki/rpm-gpg/toolkit-test.asc" in first

    rc, second = sh(box, "bash /root/setup.sh")
    assert rc == 0, second[-4000:]
    assert outcomes(second) == ["ok] unchanged"] * len(plan.steps), second[-4000:]

    # what dnf installed: curl through the package that provides it, the signed package from the HTTPS repo
    rc, out = sh(box, "rpm -q --qf '%{NAME} %{VERSION}\\n' curl-minimal git-lfs python3.11 nvidia-container-toolkit"
                      " && cat /etc/yum.repos.d/toolkit-test.repo && rpm -q gpg-pubkey --qf '%{VERSION}\\n'")
    assert rc == 0, out
    assert "curl-minimal 7.76.1\ngit-lfs 3.4.1\npython3.11 3.11.9\nnvidia-container-toolkit 1.17.0\n" in out
    assert f"baseurl={REPO_URL}\n" in out and "gpgcheck=1\n" in out
    assert fingerprint[-8:].lower() in out.lower()      # dnf imported the pinned key to check the signature

    # verify: the shipped probe (its rpm gatherer) on the same rpm database, judged by the os_package checks
    checks = [check("os_package", "os", f"{n} installed", ident=f"os_package:{n}", name=n, family=DNF.name)
              for n in ("curl", "git-lfs", "python3.11", "nvidia-container-toolkit", "absent-package")]
    put(box, "/root/probe.py", facts.shipped_source())
    rc, out = sh(box, f"python3 /root/probe.py probe {shlex.quote(json.dumps(facts.request_for(checks)))}")
    assert rc == 0, out[-3000:]
    results = {r.id: r for r in (evaluate(c, json.loads(out)) for c in checks)}
    assert results["os_package:curl"].status == PASSED and "(as curl-minimal)" in results["os_package:curl"].found
    assert all(results[f"os_package:{n}"].status == PASSED for n in ("git-lfs", "python3.11", "nvidia-container-toolkit"))
    assert results["os_package:absent-package"].status == FAILED


def test_a_key_that_is_not_the_pinned_one_is_refused(rhel_box):
    box, fingerprint = rhel_box
    other = fingerprint[:-1] + ("0" if fingerprint[-1] != "0" else "1")
    plan = rhel_plan(other)
    plan = Plan(**{**plan.__dict__, "steps": plan.steps[1:2]})
    setup = script.render(plan).files["setup.sh"].replace("/etc/pki/rpm-gpg/toolkit-test.asc",
                                                          "/etc/pki/rpm-gpg/toolkit-wrong.asc")
    setup = setup.replace("/etc/yum.repos.d/toolkit-test.repo", "/etc/yum.repos.d/toolkit-wrong.repo")
    setup = setup.replace(REPO_URL, "https://localhost:8443/nvidia-wrong/")
    put(box, "/root/wrong.sh", setup)
    rc, out = sh(box, "bash /root/wrong.sh")
    assert rc == 1, out[-3000:]
    assert "is not the one toolkit pins: nothing was trusted" in out
    rc, _ = sh(box, "test ! -e /etc/yum.repos.d/toolkit-wrong.repo && test ! -e /etc/pki/rpm-gpg/toolkit-wrong.asc")
    assert rc == 0


def test_hold_keeps_the_version_and_a_second_hold_changes_nothing(rhel_box):
    box, fingerprint = rhel_box
    setup = script.render(rhel_plan(fingerprint)).files["setup.sh"]
    functions = "TOOLKIT_DNF_UPDATED=0\n" + library_functions(setup, "dnf_install", "dnf_hold", "installed", "held")
    put(box, "/root/hold.sh", functions + 'dnf_install nvidia-container-toolkit\ndnf_hold "$@"\nheld "$@"\n')

    rc, first = sh(box, "bash /root/hold.sh nvidia-container-toolkit")
    assert rc == 0 and "  held: nvidia-container-toolkit" in first, first
    rc, second = sh(box, "bash /root/hold.sh nvidia-container-toolkit")
    assert rc == 0 and "  already held: nvidia-container-toolkit" in second, second
    rc, out = sh(box, "dnf -q versionlock list")
    assert rc == 0 and out.count("nvidia-container-toolkit-") == 1, out

    rc, out = sh(box, PUBLISH_NEWER)
    assert rc == 0, out
    rc, out = sh(box, "dnf -q -y --refresh upgrade nvidia-container-toolkit; "
                      "rpm -q --qf '%{VERSION}\\n' nvidia-container-toolkit; dnf -q --refresh list --available "
                      "--disableexcludes=all nvidia-container-toolkit")
    assert "\n1.17.0\n" in "\n" + out and "1.18.0" in out, out    # 1.18.0 is offered, the lock keeps 1.17.0


HOSTILE_NAMES = ["--help", "-W", "$(touch pwned)", "a;touch pwned", "`id`", "git\nbash", "*", "curl*"]


def test_hostile_package_names_never_reach_a_shell_or_an_option_of_rpm(rhel_box):
    box, _ = rhel_box
    checks = [check("os_package", "os", "x", ident=f"os_package:{i}", name=n, family=DNF.name)
              for i, n in enumerate(HOSTILE_NAMES)]
    put(box, "/root/probe.py", facts.shipped_source())
    rc, out = sh(box, f"mkdir -p /tmp/h && cd /tmp/h && python3 /root/probe.py probe "
                      f"{shlex.quote(json.dumps(facts.request_for(checks)))}")
    assert rc == 0, out[-3000:]
    got = json.loads(out)["rpm"]
    assert got == {n: None for n in HOSTILE_NAMES}          # nothing provides them: no option, glob or shell
    assert all(evaluate(c, json.loads(out)).status == FAILED for c in checks)
    assert sh(box, "ls -A /tmp/h")[1] == ""


def test_driver_step_with_a_module_stream_first_run_changes_second_changes_nothing(rhel_box):
    """The RHEL driver step (install: always, as no GPU is here) against the CUDA repository stand-in: the
    pinned key, the nvidia-driver:560-open module stream (modular metadata, modifyrepo_c), EPEL,
    kernel-devel-$(uname -r), the driver packages, nouveau blacklisted, the packages version-locked."""
    box, fingerprint = rhel_box
    url = "https://localhost:8443/cuda/"
    repo = PackageRepository("driver", "NVIDIA CUDA repository", name="toolkit-cuda", url=url,
                             key_url="https://localhost:8443/key.asc", key_fingerprint=fingerprint,
                             signed_by=DNF.keyring("toolkit-cuda-archive"), family=DNF.name)
    step = NvidiaDriver("driver", "NVIDIA driver 560 (cuda-repo, open modules)", strategy="cuda-repo", branch="560",
                        packages=("nvidia-driver", "nvidia-driver-cuda"), kernel_prefix="kernel-devel-", lock=True,
                        blacklist_nouveau=True, min_version="560.35.03", install_mode="always", repository=repo,
                        module_stream="560-open")
    plan = Plan(**{**rhel_plan(fingerprint).__dict__, "steps": (step,)})
    put(box, "/root/driver.sh", script.render(plan).files["setup.sh"])

    rc, first = sh(box, "bash /root/driver.sh")
    assert rc == 0, first[-4000:]
    assert outcomes(first) == ["changed"], first[-4000:]
    assert "[reboot-required] NVIDIA driver 560 installed" in first
    rc, second = sh(box, "bash /root/driver.sh")
    assert rc == 0 and outcomes(second) == ["ok] unchanged"], second[-4000:]

    rc, out = sh(box, "rpm -q --qf '%{NAME} %{VERSION}\\n' nvidia-driver nvidia-driver-cuda epel-release "
                      "&& rpm -q \"kernel-devel-$(uname -r)\" && dnf -q versionlock list "
                      "&& dnf -q module list --enabled nvidia-driver && cat /etc/modprobe.d/blacklist-nouveau.conf")
    assert rc == 0, out
    assert "nvidia-driver 560.35.03\nnvidia-driver-cuda 560.35.03\nepel-release 9\n" in out
    assert "nvidia-driver-0:560.35.03-1.*" in out and "nvidia-driver-cuda-0:560.35.03-1.*" in out
    assert re.search(r"nvidia-driver\s+560-open \[e\]", out) and "blacklist nouveau" in out, out
