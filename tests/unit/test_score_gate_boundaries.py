"""Boundaries of the grade table and the gate's recorded verdict (mutation survivors, bench/mutation.py)."""

from __future__ import annotations

import pytest

from apiaudit.errors import EXIT_GATE_FAILED, EXIT_OK
from apiaudit.gate import GateResult, decide, record
from apiaudit.model import Report, Severity
from apiaudit.score import grade_for


@pytest.mark.parametrize(("score", "grade"), [
    (100, "A"), (90, "A"), (89.99, "B"), (80, "B"), (79.99, "C"), (70, "C"), (69.99, "D"), (60, "D"),
    (59.99, "F"), (0, "F"), (None, None),
])
def test_grade_floors_are_inclusive(score: float | None, grade: str | None) -> None:
    assert grade_for(score) == grade


def _report(errors: list[dict[str, str]]) -> Report:
    return Report(kind="scan", targets=["http://127.0.0.1:1"], started_at="2026-12-05T00:00:00Z", duration_s=0.1,
                  score={"overall": 90}, checklist=[], findings=[], errors=errors)


def test_crashed_checks_fail_the_gate_naming_at_most_three() -> None:
    errors = [{"where": f"check mod.c{i}", "message": "boom"} for i in range(4)] + [{"where": "logs", "message": "x"}]
    result = decide(_report(errors), fail_on=None, min_score=None)
    assert result.exit_code == EXIT_GATE_FAILED and not result.passed
    assert result.reasons == ["4 check(s) crashed, so the audit is incomplete: mod.c0, mod.c1, mod.c2"]


def test_record_writes_the_verdict_every_renderer_shows() -> None:
    report = _report([])
    record(report, GateResult(EXIT_OK, [], [], Severity.HIGH))
    assert report.stats["gate"] == {"passed": True, "reasons": [], "fail_on": "high", "failing": []}
    record(report, GateResult(EXIT_GATE_FAILED, ["r"], ["f1"], None), exit_zero=True)
    assert report.stats["gate"] == {"passed": False, "reasons": ["r"], "fail_on": None, "failing": ["f1"],
                                    "exit_zero": True}
