"""setup.sh on a real Debian 12 container: applies, then a second run changes nothing.

The plan comes from a real profile (apt package, CA bundle of this machine so pip gets through
the TLS-intercepting proxy, venv, pip package, user, git config), rendered and run as root in a
fresh container from the base image.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
import time
import uuid

import pytest

from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile
from toolkit.render import script

from . import harness

pytestmark = pytest.mark.docker

PROFILE = """\
name: script-idempotent
description: light plan for the setup.sh idempotency test
os:
  distro: debian
  version: "12"
python:
  version: system
  venv: /opt/venv
packages:
  apt: [jq]
  pip: ["six==1.16.0"]
user:
  name: alice
  uid: 1500
  gid: 1500
git:
  enabled: true
  config:
    init.defaultBranch: main
env:
  PROFILE_TEST_VALUE: "a b=c, d"
"""


@pytest.fixture
def plan(tmp_path, host_ca_bundle):
    text = PROFILE
    if host_ca_bundle is not None:
        shutil.copy(host_ca_bundle, tmp_path / "host-ca.crt")
        text += "network:\n  ca_certificates: [host-ca.crt]\n"
    (tmp_path / "profile.yaml").write_text(text)
    return build_plan(load_profile(tmp_path / "profile.yaml"))


@pytest.fixture
def container(docker_engine, base_image):
    c = docker_engine.containers.run(
        base_image, ["sleep", "infinity"], detach=True, name=f"toolkit-test-script-{uuid.uuid4().hex[:8]}",
        labels={harness.TEST_LABEL: "1"},
    )
    yield c
    harness.remove_container(c)


def put_script(container, text: str) -> None:
    data = text.encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("setup.sh")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
    assert container.put_archive("/root", buf.getvalue())


def run(container, *args: str) -> tuple[int, str, float]:
    start = time.monotonic()
    rc, out = container.exec_run(["bash", "/root/setup.sh", *args], user="root")
    return rc, out.decode(errors="replace"), time.monotonic() - start


def outcomes(output: str) -> list[str]:
    return re.findall(r"^\[(ok\] unchanged|changed|would change|failed)", output, flags=re.M)


def test_second_run_changes_nothing(plan, container, capsys):
    put_script(container, script.render(plan).files["setup.sh"])
    count = len(plan.steps)

    rc, first, t1 = run(container)
    assert rc == 0, first[-4000:]
    assert "changed" in outcomes(first) and "failed" not in outcomes(first)
    assert len(outcomes(first)) == count

    rc, second, t2 = run(container)
    assert rc == 0, second[-4000:]
    assert outcomes(second) == ["ok] unchanged"] * count, second

    rc, dry, _ = run(container, "--dry-run")
    assert rc == 0 and "[would change]" not in dry and f"0 step(s) would change, {count} unchanged" in dry, dry

    rc, state = container.exec_run(["cat", "/var/lib/toolkit/state.json"])
    doc = json.loads(state)
    assert doc["profile"] == plan.name and doc["digest"] == plan.digest and doc["status"] == "ok"
    assert doc["changed"] == 0 and doc["unchanged"] == count
    assert [s["outcome"] for s in doc["steps"]] == ["unchanged"] * count

    rc, out = container.exec_run(["sh", "-c", "jq --version && id alice && /opt/venv/bin/python -c 'import six' "
                                  "&& git config --system init.defaultBranch && stat -c %U /opt/venv/bin "
                                  "&& . /etc/profile.d/toolkit.sh && printf '%s\\n' \"$PROFILE_TEST_VALUE\""])
    text = out.decode()
    assert rc == 0, text
    assert "uid=1500(alice)" in text and "\nmain\n" in text and "\nalice\n" in text
    assert text.rstrip().endswith("a b=c, d")
    with capsys.disabled():
        print(f"\nsetup.sh: first run {t1:.1f}s ({count} steps), second run {t2:.2f}s (all unchanged)")


def test_failure_names_the_step_and_exits_nonzero(plan, container):
    put_script(container, script.render(plan).files["setup.sh"])
    # A different user already holds the uid: the script must refuse, not take it over.
    container.exec_run(["useradd", "--uid", "1500", "someone"])
    rc, out, _ = run(container)
    assert rc == 1, out
    assert re.search(r"^\[failed\] step \d+/\d+: user: user alice", out, flags=re.M), out
    assert "uid 1500 already belongs to user 'someone'" in out
    rc, state = container.exec_run(["cat", "/var/lib/toolkit/state.json"])
    doc = json.loads(state)
    assert doc["status"] == "failed" and doc["failed_step"]["title"] == "user alice"
