"""The GPU probe for targets without Python (toolkit.gpu.probe_sh) gathers what the Python probe does,
run here on this machine through a real shell."""

from __future__ import annotations

import subprocess

import pytest

from toolkit.gpu import diagnose, probe, probe_sh


def here(argv: list[str]) -> tuple[int, str, str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.process
def test_the_shell_probe_gathers_the_same_facts_as_the_python_probe():
    by_sh, by_python = probe_sh.gather(here), probe.gather()
    assert set(by_sh) == set(by_python)
    assert set(by_sh["commands"]) == set(by_python["commands"])
    for name, result in by_python["commands"].items():
        assert (by_sh["commands"][name] is None) == (result is None), name
        if result is not None and name in ("lsmod", "lspci"):
            assert by_sh["commands"][name]["out"] == result["out"]
    for key in ("kernel", "container", "files", "dev_nvidia", "env", "pci_sysfs", "smi_fields", "schema",
                "secure_boot_efivar"):
        assert by_sh[key] == by_python[key], key
    assert abs((by_sh["shm_bytes"] or 0) - (by_python["shm_bytes"] or 0)) <= 1 << 20
    assert [f.code for f in diagnose(by_sh)] == [f.code for f in diagnose(by_python)]


def test_a_missing_command_is_absent_but_a_failing_one_keeps_its_status():
    assert probe_sh._command(here, ["toolkit-no-such-command"]) is None
    failed = probe_sh._command(here, ["sh", "-c", "echo out; echo err >&2; exit 127"])
    assert failed == {"rc": 127, "out": "out\n", "err": "err\n"}
