"""Issue 13: the evidence contract in the core (checks -> assemble -> score -> gate).

An item is ``pass`` only if a check judged it on evidence it had and found nothing: a crashed check, a
missing requirement or a sampled log leaves it ``not_assessed`` (with the reason), info findings never
judge, and the gate refuses exit 0 when a check crashed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from apiaudit import checks
from apiaudit.assemble import assemble
from apiaudit.checks import CheckContext, CheckRun, CheckSpec, check, load_checks, run_checks
from apiaudit.db.evidence import DbEvidence
from apiaudit.db.logs.evidence import LogEvidence, SingleSelectTx
from apiaudit.errors import EXIT_GATE_FAILED
from apiaudit.gate import decide
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.model import Finding, Report
from apiaudit.requirements import Req
from apiaudit.rules import load_rules

RULES = load_rules()
URL = "http://api.test/items"


def ctx() -> CheckContext:
    return CheckContext(ruleset=RULES, thresholds={})


def report_of(kind: str, run: CheckRun) -> Report:
    return assemble(kind=kind, targets=["t"], run=run, ruleset=RULES, started_at="2026-12-05T00:00:00Z",
                    duration_s=0.1)


def status(report: Report, item: str) -> tuple[str, str]:
    row = next(c for c in report.checklist if c.id == item)
    return row.status, row.reason or ""


def big_json_evidence() -> ScanEvidence:
    body = b"[" + b",".join(b'{"id": %d, "name": "item"}' % i for i in range(80)) + b"]"
    base = Exchange(id="b", purpose="base", method="GET", url=URL, status=200, body=body, body_size=len(body),
                    request_headers=[("Accept-Encoding", "gzip")], body_sha256="x",
                    response_headers=[("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                                      ("Vary", "Accept-Encoding"), ("Cache-Control", "max-age=60")],
                    content_coding="gzip", wire_size=200)
    return ScanEvidence(endpoints=[Endpoint(url=URL, exchanges=[base])])


def test_crashed_check_leaves_its_item_unjudged_and_fails_the_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    load_checks("scan")

    def broken(ev: Any, c: CheckContext) -> Iterator[Finding]:
        raise KeyError("content-type")
        yield  # pragma: no cover

    spec = CheckSpec(name="tests.broken", kind="scan", rules=("http.compression.larger",), fn=broken)
    monkeypatch.setitem(checks.REGISTRY, spec.name, spec)
    rep = report_of("scan", run_checks("scan", big_json_evidence(), ctx()))
    item, why = status(rep, "api.compression")  # the real compression check judged it and found nothing
    assert item == "not_assessed" and "crashed" in why, (item, why)
    assert any(e["where"] == "check tests.broken" for e in rep.errors)
    gate = decide(rep, fail_on=None, min_score=None)  # even with --fail-on none
    assert gate.exit_code == EXIT_GATE_FAILED and "crashed" in gate.reasons[0]


def test_info_finding_never_judges_an_item() -> None:
    run = CheckRun(findings=[Finding("http.static.no-cdn-hit", {"url": URL, "method": "GET"}, {"count": 1})],
                   kinds={"scan"}, reasons={"scaling.cdn": "no CDN seen"})
    assert status(report_of("scan", run), "scaling.cdn") == ("not_assessed", "no CDN seen")


def test_unmeasured_item_with_a_real_finding_is_judged_and_keeps_why() -> None:
    where = {"url": URL, "method": "GET"}
    found = Finding("http.pagination.unbounded", where, {"items": 500, "max": 100, "key": "items", "metadata": "none"})
    run = CheckRun(findings=[found],
                   kinds={"scan"}, unmeasured={"api.pagination": "pagination probe skipped: budget"})
    assert status(report_of("scan", run), "api.pagination") == ("fail", "pagination probe skipped: budget")


def log_evidence(*, sampled: bool) -> LogEvidence:
    logs = LogEvidence(stats={"log_statements": 400, "log_formats": {"stderr": 1}, "log_parsed": 400,
                              "log_reads": 300, "log_lines": 400})
    logs.single_select_tx = [SingleSelectTx(fingerprint="f", sample="SELECT 1", transactions=1, calls=1)]
    logs.sampled = sampled  # type: ignore[attr-defined]  # LogEvidence.sampled (db-logs, issue 13)
    logs.min_duration_ms = 250.0  # type: ignore[attr-defined]
    return logs


def test_sampled_log_judges_neither_transactions_nor_application_cache() -> None:
    full = report_of("db", run_checks("db", DbEvidence(logs=log_evidence(sampled=False)), ctx()))
    sampled = report_of("db", run_checks("db", DbEvidence(logs=log_evidence(sampled=True)), ctx()))
    for item in ("database.transactions", "caching.application_cache"):
        assert status(full, item)[0] == "pass", item  # a complete log with nothing wrong
        got, why = status(sampled, item)
        assert got == "not_assessed" and "sampled" in why, (item, got, why)


def test_half_not_asked_for_does_not_block_the_other() -> None:
    # A log-only audit: no DSN is "not asked", not "refused"; the log still judges its items.
    rep = report_of("db", run_checks("db", DbEvidence(logs=log_evidence(sampled=False)), ctx()))
    assert status(rep, "database.indexes") == ("not_assessed", "no database given (apiaudit db DSN)")
    assert status(rep, "database.transactions")[0] == "pass"


def test_requirements_are_typed_and_declared_by_every_check() -> None:
    with pytest.raises(TypeError):
        check("http.size.too-large", kind="scan", requires=("http.base-answer",))  # type: ignore[arg-type]
    for kind in ("scan", "db", "cache", "monitor"):
        for spec in load_checks(kind):
            assert spec.requires or spec.findings_only, f"{spec.name} declares no requirement"
            assert all(isinstance(r, Req) for r in (*spec.requires, *spec.pass_requires))

