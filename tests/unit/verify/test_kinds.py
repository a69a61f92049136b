"""The check-kind table: complete at import, and each part of a row agrees with the others and the probe."""

from __future__ import annotations

import dataclasses

import pytest

from toolkit.model.checks import CHECK_KINDS, from_dict
from toolkit.verify import facts, kinds, probe
from toolkit.verify.evaluate import FAILED, evaluate

from .recorded import CHECKS, GOOD


def test_one_row_per_kind_and_every_gatherer_used():
    assert set(kinds.KINDS) == set(CHECK_KINDS)
    assert set().union(*(row.gathers for row in kinds.ROWS)) == set(probe.GATHERERS)


@pytest.mark.parametrize("kind", sorted(CHECKS))
def test_sections_come_from_the_rows_gatherers(kind):
    """What a kind reads is gathered by a gatherer its row names (a fact key is "gatherer" or "gatherer:...")."""
    c = CHECKS[kind]
    row = kinds.KINDS[kind]
    assert row.sections(c)
    for section in row.sections(c):
        assert section.split(":", 1)[0] in row.gathers, (kind, section)
        assert section in GOOD, (kind, section)


def test_each_kind_asks_for_what_it_reads():
    """The probe's job list for one check alone covers that check's sections (the GPU section is always there)."""
    for c in CHECKS.values():
        jobs = probe.jobs_for(facts.request_for([c]))
        assert set(facts.sections(c)) - {"gpu"} <= set(jobs), c.kind


def _broken(**changes) -> dict:
    table = dict(kinds.KINDS)
    table["shm"] = dataclasses.replace(table["shm"], **changes)
    return table


@pytest.mark.parametrize("table,gatherers,message", [
    ({k: v for k, v in kinds.KINDS.items() if k != "shm"}, probe.GATHERERS, "kinds without a row: shm"),
    ({**kinds.KINDS, "extra": kinds.KINDS["shm"]}, probe.GATHERERS, "does not declare: extra"),
    (_broken(evaluate=None), probe.GATHERERS, "shm: missing evaluate"),
    (_broken(request="not callable"), probe.GATHERERS, "shm: missing request"),
    (_broken(gathers=()), probe.GATHERERS, "shm: missing gathers"),
    (_broken(gathers=("shm", "nvme")), probe.GATHERERS, "shm: gatherers the probe does not offer: nvme"),
    (kinds.KINDS, {**probe.GATHERERS, "pacman": None}, "probe gatherers no kind uses: pacman"),
])
def test_an_incomplete_table_is_refused(table, gatherers, message):
    with pytest.raises(TypeError, match="check-kind table") as err:
        kinds.check_complete(CHECK_KINDS, table, gatherers)
    assert message in str(err.value)


def test_a_kind_with_two_rows_is_refused():
    with pytest.raises(TypeError, match="'shm' has two rows"):
        kinds.index(kinds.ROWS + (kinds.KINDS["shm"],))


def test_os_package_carries_its_family():
    c = CHECKS["os_package"]
    assert c.p["family"] == "debian"
    assert facts.request_for([c]) == {"dpkg": ["git"]}
    assert facts.sections(c) == ["dpkg"]


def test_a_family_toolkit_cannot_query_fails_with_what_to_do():
    data = dict(CHECKS["os_package"].to_dict(), params={"name": "git", "family": "arch"})
    c = from_dict(data)
    assert facts.request_for([c]) == {} and facts.sections(c) == []
    result = evaluate(c, GOOD)
    assert result.status == FAILED
    assert "cannot query OS family 'arch'" in result.found and "debian" in result.hint and "rhel" in result.hint


def test_rhel_os_package_asks_rpm():
    data = dict(CHECKS["os_package"].to_dict(), params={"name": "curl", "family": "rhel"})
    c = from_dict(data)
    assert facts.request_for([c]) == {"rpm": ["curl"]} and facts.sections(c) == ["rpm"]


def test_suites_generated_before_the_rename_still_read():
    old = {"id": "apt_package:git", "kind": "apt_package", "component": "os", "tier": "cpu",
           "description": "package git installed", "params": {"name": "git"}}
    c = from_dict(old)
    assert (c.kind, c.p, c.id) == ("os_package", {"name": "git", "family": "debian"}, "apt_package:git")
    assert evaluate(c, GOOD).status == "passed"
