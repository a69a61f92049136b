"""The probe request, the one-line command, and the probe itself run on this machine."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from toolkit.model.checks import check
from toolkit.verify import facts

from .recorded import CHECKS, PY


def test_request_is_deterministic_and_deduplicated():
    checks = list(CHECKS.values())
    req = facts.request_for(checks)
    more = checks + [check("command", "c", "c", ident="command:a", argv=("a",), expect=None),
                     check("os_package", "os", "curl", ident="os_package:curl", name="curl", family="debian")]
    req = facts.request_for(more)
    assert req == facts.request_for(list(reversed(more)))
    assert req["dpkg"] == ["curl", "git"]
    assert facts.request_for(more + more) == req
    assert req["pythons"][PY]["pip_check"] is True
    assert req["pythons"][PY]["torch"] == {"gpu": True, "matmul": True}
    assert req["pythons"][PY]["tf"] == {"gpu": True}
    assert req["git"] == {"lfs": True, "config": ["user.name"]}
    assert req["jupyter"] == [{"python": PY, "flavor": "lab", "port": 8888}]


def test_torch_is_imported_once_in_its_own_process():
    torch = check("pip_package", "pytorch", "torch", ident="pip_package:torch", python=PY, name="torch",
                  specifier="==2.7.1", import_name="torch")
    req = facts.request_for([torch])
    assert req["pythons"][PY]["imports"] == {}
    assert req["pythons"][PY]["torch"] == {}
    assert facts.sections(torch) == ["interp:" + PY, "torch:" + PY]


def test_only_gpu_tier_asks_torch_for_the_gpu():
    req = facts.request_for([CHECKS["torch_cuda"]])
    assert req["pythons"][PY]["torch"] == {"gpu": False, "matmul": False}


def test_command_line_is_one_round_trip_and_fits_an_argument():
    template, args = facts.command_line(facts.request_for(list(CHECKS.values())))
    assert template.startswith("sh -c ")
    assert template.count("%s") == len(args)
    assert max(len(a) for a in args) < 128 * 1024          # Linux MAX_ARG_STRLEN
    assert PY in args                                      # the venv python is a fallback interpreter


def run_probe(request: dict) -> dict:
    """The shipped probe (the bootstrap line the target runs), on this machine."""
    proc = subprocess.run([sys.executable, "-c", facts.bootstrap(), "probe", json.dumps(request)], capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(proc.stdout)


@pytest.mark.process
def test_probe_answers_every_section_the_evaluator_reads(tmp_path):
    """Run on this machine: the venv does not exist here, but every section must still be present."""
    checks = list(CHECKS.values())
    gathered = run_probe(facts.request_for(checks))
    for c in checks:
        for section in facts.sections(c):
            assert section in gathered, (c.id, section)
        assert all(s in gathered["_timings"] for s in facts.sections(c))
    assert gathered[f"interp:{PY}"]["missing"] is True
    assert gathered["gpu"]["visible"] in (True, False)


def test_probe_facts_on_this_machine(tmp_path):
    (tmp_path / "there").write_text("x")
    req = facts.request_for([
        check("file", "t", "f", ident="file:a", path=str(tmp_path / "there")),
        check("file", "t", "f", ident="file:b", path=str(tmp_path / "missing")),
        check("command", "t", "c", ident="command:c", argv=(sys.executable, "-c", "print('hi')"), expect="hi"),
        check("pip_package", "t", "p", ident="pip_package:pyyaml", python=sys.executable, name="PyYAML",
              specifier=">=5", import_name=None),
        check("python_version", "t", "v", python=sys.executable, version="{}.{}".format(*sys.version_info[:2])),
        check("shm", "t", "s", min_mb=1),
    ])
    got = run_probe(req)
    assert got["files"] == {str(tmp_path / "missing"): False, str(tmp_path / "there"): True}
    cmd = got[facts.command_key([sys.executable, "-c", "print('hi')"])]
    assert (cmd["rc"], cmd["out"]) == (0, "hi\n")
    interp = got["interp:" + sys.executable]
    assert interp["dists"]["PyYAML"]["top_level"] == "yaml"        # derived, import_name was None
    assert interp["imports"]["PyYAML"] == {"module": "yaml", "ok": True, "seconds": interp["imports"]["PyYAML"]["seconds"]}
    assert interp["version"].startswith("{}.{}.".format(*sys.version_info[:2]))


def test_parse_failures():
    assert facts.parse(0, '{"a": 1}\n', "") == {"a": 1}
    broken = facts.parse(127, "", "no python3 on the target (tried: python3)")
    assert "no python3" in broken["_error"] and "_transport" not in broken
    assert facts.parse(255, "", "ssh: connect to host 127.0.0.1 port 1: Connection refused")["_transport"]
    assert facts.parse(1, "", "Error: No such container: abc")["_transport"]


def test_a_started_jupyter_server_proves_its_package_imports():
    from toolkit.verify import probe

    jupyter = CHECKS["jupyter"]
    lab = check("pip_package", "jupyter", "jupyterlab", ident="pip_package:jupyterlab", python=PY,
                name="jupyterlab", specifier="", import_name="jupyterlab")
    req = facts.request_for([jupyter, lab, CHECKS["pip_package"]])
    deferred = probe.deferred_imports(req)
    assert req["pythons"][PY]["imports"] == {"numpy": "numpy"}          # jupyterlab not imported twice
    assert req["pythons"][PY]["dists"] == ["jupyterlab", "numpy"]       # its version is still read
    key = facts.jupyter_key(jupyter.p)
    gathered = {"interp:" + PY: {"imports": {}}, key: {"api": 200}}
    probe.settle_deferred(deferred, gathered)
    assert gathered["interp:" + PY]["imports"]["jupyterlab"]["ok"] is True
    # The server did not start: the import is tried on its own (here the venv is missing).
    failed = {"interp:" + PY: {"imports": {}}, key: {"api": None, "error": "exited with 1"}}
    probe.settle_deferred(deferred, failed)
    assert failed["interp:" + PY]["imports"]["jupyterlab"]["ok"] is False
    assert "does not exist" in failed["interp:" + PY]["imports"]["jupyterlab"]["error"]
