"""GPU detection against recordings made on real machines by scripts/record-gpu-host.sh.

Each folder under fixtures/recorded/ is one machine: the probe's JSON (what `toolkit doctor` reads),
the same commands' output as a person sees it, SOURCE.md (where the machine came from) and
expected.json (what a person checked the machine to be). See fixtures/recorded/README.md.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from toolkit.gpu import diagnose
from toolkit.gpu.parse import (
    parse_dpkg,
    parse_lspci,
    parse_modinfo,
    parse_mokutil,
    parse_nvidia_smi,
    parse_proc_version,
    read_facts,
)

RECORDED = Path(__file__).parent / "fixtures" / "recorded"
MACHINES = sorted(p for p in RECORDED.iterdir() if p.is_dir())
FILES = ["probe.json", "lspci-nn.txt", "nvidia-smi.txt", "nvidia-smi-query.txt", "proc-driver-nvidia-version.txt",
         "modinfo-nvidia.txt", "mokutil-sb-state.txt", "dpkg-l.txt", "dkms-status.txt"]


class Recording:
    def __init__(self, folder: Path):
        self.folder = folder
        with (folder / "MANIFEST.tsv").open(newline="") as fh:
            self.exit = {row["file"]: row["exit"] for row in csv.DictReader(fh, delimiter="\t")}
        self.raw = json.loads(self.text("probe.json"))

    def text(self, name: str) -> str:
        return (self.folder / name).read_text()

    def ran(self, name: str) -> bool:
        """The command was installed (its output is the command's, not the shell's "not found")."""
        return self.exit.get(name) not in ("127", "absent", None)

    def observed(self) -> dict:
        """What toolkit reads from the recording, in expected.json's shape."""
        host = read_facts(self.raw)
        smi = host.smi
        return {
            "container": host.container,
            "nvidia_gpus_pci": sorted(d.device for d in host.gpus_pci),
            "nvidia_smi": None if smi is None else {
                "gpus": [{"name": g.name, "driver": g.driver_version, "compute_cap": g.compute_cap} for g in smi.gpus],
                "error": smi.error, "mismatch": smi.mismatch},
            "kernel_module": None if host.module is None else {"version": host.module.version, "open": host.module.open},
            "modinfo_version": host.modinfo.get("version"),
            "module_signed": bool(host.modinfo.get("signer") or host.modinfo.get("sig_id")) if host.modinfo else None,
            "secure_boot": host.secure_boot,
            "packages_installed": None if host.packages is None else sorted(p.name for p in host.packages),
            "findings": [f"{f.severity}:{f.code}" for f in diagnose(self.raw)],
        }


@pytest.fixture(params=MACHINES, ids=[p.name for p in MACHINES])
def recording(request) -> Recording:
    return Recording(request.param)


def test_there_is_at_least_one_recording():
    assert MACHINES, f"no recordings in {RECORDED}"


def test_recording_is_complete_and_says_where_it_came_from(recording):
    assert set(FILES) <= set(recording.exit), f"MANIFEST.tsv lacks {set(FILES) - set(recording.exit)}"
    for name in FILES:
        assert (recording.folder / name).is_file(), name
    source = recording.text("SOURCE.md")
    assert "WRITE WHERE IT CAME FROM" not in source, "fill in the machine line of SOURCE.md"
    assert "- machine:" in source and "- recorded:" in source
    assert recording.raw.get("schema") == 1


def test_toolkit_reads_what_the_machine_was_checked_to_be(recording):
    observed = recording.observed()
    expected_file = recording.folder / "expected.json"
    if not expected_file.exists():
        pytest.fail(f"{expected_file} is missing. What toolkit reads now is below: check it against the "
                    f"machine, then save it there:\n{json.dumps(observed, indent=2)}")
    expected = json.loads(expected_file.read_text())
    expected.pop("_comment", None)
    assert observed == expected


def test_human_output_agrees_with_the_probe(recording):
    """The commands' plain output (as people paste it) parses to the same facts as the probe's."""
    host = read_facts(recording.raw)
    expected = json.loads((recording.folder / "expected.json").read_text())
    if recording.ran("lspci-nn.txt"):
        pci = parse_lspci(recording.text("lspci-nn.txt"))
        assert pci, "lspci -nn gave no devices"
        assert sorted(d.device for d in pci if d.is_nvidia_gpu) == expected["nvidia_gpus_pci"]
    if recording.ran("nvidia-smi-query.txt"):
        smi = parse_nvidia_smi(recording.text("nvidia-smi-query.txt"))
        assert [g.name for g in smi.gpus] == [g["name"] for g in (expected["nvidia_smi"] or {}).get("gpus", [])]
    module = parse_proc_version(recording.text("proc-driver-nvidia-version.txt"))
    assert module == host.module
    if recording.ran("modinfo-nvidia.txt"):
        assert parse_modinfo(recording.text("modinfo-nvidia.txt")).get("version") == expected["modinfo_version"]
    if recording.ran("mokutil-sb-state.txt"):
        assert parse_mokutil(recording.text("mokutil-sb-state.txt")) == expected["secure_boot"]
    if recording.ran("dpkg-l.txt"):
        listed = sorted(p.name for p in parse_dpkg(recording.text("dpkg-l.txt")) if p.installed)
        assert listed == (expected["packages_installed"] or [])
