"""The controls the audit cites (spbe_kit/data/controls.yaml): every one known and sourced, and
the CIS Docker Benchmark ids those of v1.6.0, matching what each check checks."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import ROOT
from spbe_kit.auditors.audit import CHECKS, controls
from spbe_kit.auditors.benchmark import bench_results, compare
from spbe_kit.models.catalog import Catalog

# CIS Docker Benchmark v1.6.0, sections 4 and 5 as its reference implementation prints them:
# docker-bench-security v1.6.1 (which calls itself 1.6.0) run on the demo. Its v1.6.0 tag still
# printed the v1.5.0 numbers; from v1.6.1 on, 5.1 is "swarm mode" and every other 5.x moved up one.
BENCH = json.loads((ROOT / "tests" / "data" / "docker-bench-security-1.6.1-demo.json").read_text())
CIS_DOCKER_1_6_0 = {ref: title for ref, (title, _) in bench_results(BENCH).items()}

# What each check looks at, in words its CIS controls' titles must contain (one per control).
CHECKED = {
    "CTR-01": ("user for the container",),
    "CTR-02": ("additional privileges",),
    "CTR-03": ("capabilities",),
    "CTR-04": ("read only",),
    "CTR-05": ("memory", "CPU", "PIDs"),
    "CTR-06": ("health",),
    "CTR-07": ("Docker socket",),
    "CTR-08": ("namespace",),
    "CTR-09": ("privileged containers",),
    "CTR-10": ("seccomp",),
    "CTR-11": ("sensitive host system directories",),
    "CTR-12": ("host devices",),
    "CTR-13": ("restart policy",),
    "NET-01": ("bound to a specific host interface",),
    "NET-02": ("bound to a specific host interface",),
}


def cited() -> set[str]:
    catalog = Catalog.model_validate(yaml.safe_load((ROOT / "catalog.yaml").read_text()))
    settings = {s.control for app in catalog.apps.values() for s in app.settings.values() if s.control}
    return {c for check in CHECKS.values() for c in check.controls} | settings


def test_every_cited_control_is_in_the_file_with_a_source() -> None:
    book = controls()
    assert sorted(cited() - set(book.controls)) == []
    for control_id, entry in book.controls.items():
        source = book.sources[entry.source]
        assert source.title and source.document, control_id
        assert entry.heading and entry.description and entry.version, control_id


def test_no_control_in_the_file_goes_uncited() -> None:
    assert sorted(set(controls().controls) - cited()) == []


@pytest.mark.parametrize("control_id", sorted(c for c in cited() if c.startswith("cis-docker-")))
def test_a_cis_control_is_the_v1_6_0_recommendation_of_that_number(control_id: str) -> None:
    entry = controls().controls[control_id]
    assert (entry.framework, entry.version, entry.wording) == ("CIS Docker Benchmark", "v1.6.0", "quoted")
    assert control_id == f"cis-docker-{entry.ref}"
    assert entry.heading == CIS_DOCKER_1_6_0[entry.ref]


@pytest.mark.parametrize("check_id", sorted(CHECKED))
def test_each_check_cites_the_cis_recommendations_that_say_what_it_checks(check_id: str) -> None:
    """Citing 5.25 for no-new-privileges (its v1.5.0 number) fails here: in v1.6.0, 5.25 is
    "cgroup usage is confirmed"."""
    refs = [controls().controls[c].ref for c in CHECKS[check_id].controls if c.startswith("cis-docker-")]
    titles = [CIS_DOCKER_1_6_0[ref] for ref in refs]
    assert titles, check_id
    for ref, title in zip(refs, titles, strict=True):
        assert any(word in title for word in CHECKED[check_id]), (check_id, ref, title)
    for word in CHECKED[check_id]:  # CTR-05 checks memory, CPU and PIDs: all three cited
        assert any(word in title for title in titles), (check_id, word)


def test_kit_policy_values_are_not_attributed_to_a_regulation() -> None:
    for control_id, entry in controls().controls.items():
        if entry.basis == "kit-policy":
            assert entry.framework == "spbe-kit policy" and entry.source == "spbe-kit", control_id


def test_the_benchmark_table_is_sections_4_and_5_whole() -> None:
    assert len(CIS_DOCKER_1_6_0) == 12 + 32
    assert CIS_DOCKER_1_6_0["5.1"] == "Ensure swarm mode is not Enabled, if not needed"


def audit_result(check_id: str, status: str, *refs: str) -> dict[str, object]:
    book = controls().controls
    cis = [book[f"cis-docker-{ref}"] for ref in refs]
    return {
        "id": check_id,
        "status": status,
        "controls": [{"framework": c.framework, "ref": c.ref, "heading": c.heading} for c in cis],
    }


def test_the_comparison_agrees_on_the_same_outcome_under_the_same_number() -> None:
    report = {"results": [audit_result("CTR-13", "deviation", "5.15"), audit_result("CTR-09", "pass", "5.5")]}
    rows = compare(report, BENCH)
    assert [(r.ref, r.agrees) for r in rows] == [("5.5", True), ("5.15", True)]


def test_the_comparison_finds_another_outcome_another_title_or_a_missing_id() -> None:
    failing = {"results": [audit_result("CTR-09", "fail", "5.5")]}  # the benchmark passed it
    assert [r.agrees for r in compare(failing, BENCH)] == [False]
    old_numbers = {"results": [{**BENCH["results"][0], "id": "5.5", "desc": "Ensure sshd is not run"}]}
    row = compare({"results": [audit_result("CTR-09", "pass", "5.5")]}, old_numbers)[0]
    assert (row.agrees, row.bench_title) == (False, "Ensure sshd is not run")
    absent = compare({"results": [audit_result("CTR-07", "pass", "5.32")]}, {"results": []})[0]
    assert (absent.agrees, absent.bench_result) == (False, None)


def test_two_checks_citing_one_recommendation_report_the_worse() -> None:
    report = {"results": [audit_result("NET-01", "pass", "5.14"), audit_result("NET-02", "fail", "5.14")]}
    (row,) = compare(report, BENCH)
    assert (row.checks, row.status, row.agrees) == (("NET-01", "NET-02"), "fail", False)
