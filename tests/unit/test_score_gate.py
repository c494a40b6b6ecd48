"""Scoring (status from the worst finding, monotone) and gate decisions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from apiaudit.assemble import assemble, merge_reports, resolve
from apiaudit.checks import CheckRun
from apiaudit.gate import decide, mark_known
from apiaudit.model import Finding, Report, Severity
from apiaudit.rules import RuleSet, load_rules
from apiaudit.score import build_checklist, compute_score, grade_for, status_for

RULES = load_rules()
ITEMS = list(RULES.checklist)


def _report(findings: list[Finding], covered: set[str], ruleset: RuleSet = RULES) -> Report:
    run = CheckRun(findings=list(findings), covered=set(covered), kinds={"scan"})
    return assemble(kind="scan", targets=["http://127.0.0.1:1"], run=run, ruleset=ruleset,
                    started_at="2026-11-29T00:00:00Z", duration_s=0.1)


def _ruleset_with_one_rule_per_item() -> RuleSet:
    """A synthetic rule per (item, severity) so properties can put any severity on any item."""
    from apiaudit.rules import Rule

    rules = {}
    for item in ITEMS:
        for sev in Severity:
            rid = f"http.test.{item.replace('.', '-')}-{sev.label}"
            rules[rid] = Rule(id=rid, title="t", checklist=item, severity=sev, summary="s",
                              message="m", why="w", fix="f")
    return RuleSet(rules=rules, checklist=RULES.checklist, thresholds=RULES.thresholds)


SYNTH = _ruleset_with_one_rule_per_item()
# Every item a check can run for (all 21 since `apiaudit monitor` judges the monitoring stack). A finding always
# belongs to an item its check judged (checks.run_checks), so properties draw from these items.
COVERED = {item for item, spec in RULES.checklist.items() if not spec.outside}
finding_st = st.builds(
    lambda rid, n: Finding(rid, {"url": f"http://127.0.0.1/{n}", "method": "GET"}),
    st.sampled_from(sorted(r for r in SYNTH.rules if SYNTH.rules[r].checklist in COVERED)), st.integers(0, 5),
)


def test_status_is_decided_by_the_worst_severity() -> None:
    assert status_for([]) == "pass"
    assert status_for([Severity.INFO]) == "pass"
    assert status_for([Severity.LOW, Severity.INFO]) == "warn"
    assert status_for([Severity.MEDIUM]) == "warn"
    assert status_for([Severity.LOW, Severity.HIGH]) == "fail"
    assert status_for([Severity.CRITICAL]) == "fail"


def test_not_assessed_items_are_excluded_and_explained() -> None:
    report = _report([], covered={"api.pagination", "api.compression"})
    statuses = {c.id: c for c in report.checklist}
    assert statuses["api.pagination"].status == "pass"
    assert statuses["database.indexes"].status == "not_assessed"
    assert "apiaudit monitor" in statuses["monitoring.alerts"].reason  # only the team's Prometheus can judge it
    assert report.score["overall"] == 100
    assert report.score["sections"]["api_design"] == {"score": 100, "assessed": 2, "total": 4}
    assert report.score["sections"]["database"]["score"] is None
    assert len(report.checklist) == 21


def test_score_formula_on_a_known_case() -> None:
    rs = SYNTH
    findings = [
        Finding("http.test.api-pagination-high", {"url": "http://127.0.0.1/a", "method": "GET"}),
        Finding("http.test.api-compression-medium", {"url": "http://127.0.0.1/a", "method": "GET"}),
    ]
    report = _report(findings, covered={"api.pagination", "api.compression", "api.field_selection"}, ruleset=rs)
    # fail 0 + warn 50 + pass 100 over three items
    assert report.score["overall"] == 50
    assert report.score["grade"] == "F"
    assert grade_for(90) == "A" and grade_for(89) == "B" and grade_for(None) is None


@settings(max_examples=200, deadline=None)
@given(base=st.lists(finding_st, max_size=12), extra=finding_st)
def test_adding_a_finding_never_raises_any_score(base: list[Finding], extra: Finding) -> None:
    covered = COVERED
    before = _report(base, covered, SYNTH).score
    after = _report([*base, extra], covered, SYNTH).score
    assert after["overall"] <= before["overall"]
    for name, sec in after["sections"].items():
        if sec["score"] is not None:
            assert sec["score"] <= before["sections"][name]["score"]


def test_fingerprints_ignore_message_numbers_and_order() -> None:
    from dataclasses import replace

    rid = "http.test.api-pagination-high"
    rs = RuleSet(rules={rid: replace(SYNTH.rules[rid], message="{url} returned {items} items")},
                 checklist=SYNTH.checklist, thresholds=SYNTH.thresholds)
    a = resolve([Finding(rid, {"url": "http://h/x", "method": "GET"}, {"items": 5})], rs)
    b = resolve([Finding(rid, {"url": "http://h/x", "method": "GET"}, {"items": 7})], rs)
    assert a[0].fingerprint == b[0].fingerprint
    assert (a[0].message, b[0].message) == ("http://h/x returned 5 items", "http://h/x returned 7 items")


def test_gate_fail_on_min_score_and_baseline() -> None:
    findings = [Finding("http.test.api-pagination-high", {"url": "http://127.0.0.1/a", "method": "GET"})]
    report = _report(findings, {"api.pagination", "api.compression"}, SYNTH)
    assert decide(report, fail_on=Severity.HIGH, min_score=None).exit_code == 1
    assert decide(report, fail_on=Severity.CRITICAL, min_score=None).exit_code == 0
    assert decide(report, fail_on=None, min_score=50).exit_code == 0
    assert decide(report, fail_on=None, min_score=51).exit_code == 1
    mark_known(report, {report.findings[0].fingerprint})
    assert decide(report, fail_on=Severity.HIGH, min_score=None).exit_code == 0
    empty = _report([], set(), SYNTH)
    assert decide(empty, fail_on=Severity.HIGH, min_score=10).exit_code == 1


def test_merge_joins_items_and_findings() -> None:
    scan = _report([Finding("http.test.api-pagination-high", {"url": "http://127.0.0.1/a", "method": "GET"})],
                   {"api.pagination"}, SYNTH)
    run = CheckRun(findings=[Finding("http.test.database-indexes-medium", {"schema": "public", "table": "t"})],
                   covered={"database.indexes"}, kinds={"db"})
    db = assemble(kind="db", targets=["postgresql://app@127.0.0.1/x"], run=run, ruleset=SYNTH,
                  started_at="2026-11-29T00:00:01Z", duration_s=0.2)
    merged = merge_reports([Report.from_dict(scan.to_dict()), Report.from_dict(db.to_dict())], SYNTH)
    statuses = {c.id: c.status for c in merged.checklist}
    assert merged.kind == "combined"
    assert statuses["api.pagination"] == "fail" and statuses["database.indexes"] == "warn"
    assert [f.id for f in merged.findings] == ["f1", "f2"]
    assert merged.score["overall"] == 25


def test_checklist_lists_findings_per_item() -> None:
    findings = resolve([Finding("http.test.api-pagination-low", {"url": "http://h/1", "method": "GET"}),
                        Finding("http.test.api-pagination-low", {"url": "http://h/2", "method": "GET"})], SYNTH)
    rows = build_checklist(SYNTH.checklist, findings, {"api.pagination"}, {})
    row = next(r for r in rows if r.id == "api.pagination")
    assert row.status == "warn" and row.findings == ["f1", "f2"]
    assert compute_score(rows)["overall"] == 50
