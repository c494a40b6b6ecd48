"""The rule-coverage gate itself (tests/rule_coverage.py): what counts as raised, what fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rule_coverage
from conftest import serve_wsgi

from apiaudit.rules import load_rules


def test_gate_lists_unraised_unknown_and_stale_entries() -> None:
    rules = {"a.b.c", "a.b.d", "a.b.e"}
    assert rule_coverage.gate(rules, {"a.b.c", "a.b.d"}, {"a.b.e": "cannot be produced here, see why"}) == []
    lines = rule_coverage.gate(rules, {"a.b.c", "a.b.e"}, {"a.b.e": "r" * 30, "x.y.z": "r" * 30})
    assert lines[0].startswith("1 rule(s) never raised") and lines[1] == "  a.b.d"
    assert "do not exist: x.y.z" in lines[2] and "remove them): a.b.e" in lines[3]


def test_allowlist_entries_need_a_reason_and_name_real_rules(tmp_path: Path) -> None:
    bad = tmp_path / "allow.yaml"
    bad.write_text("allow:\n  - rule: a.b.c\n    reason: because\n")
    with pytest.raises(ValueError, match="needs a rule id and a real reason"):
        rule_coverage.load_allowlist(bad)
    allow = rule_coverage.load_allowlist()
    assert set(allow) <= set(load_rules().rules)


def test_template_check_names_missing_and_unformattable_variables() -> None:
    assert rule_coverage.check_template("r.x.y", "message", "{url} has {n:.1f} items", {"url": "u", "n": 2}) is None
    assert "needs n, which the check did not supply" in str(
        rule_coverage.check_template("r.x.y", "message", "{url} has {n} items", {"url": "u"}))
    assert "does not format" in str(rule_coverage.check_template("r.x.y", "fix", "{n:.1f}", {"n": "many"}))


def app(environ, start):  # type: ignore[no-untyped-def]
    start("200 OK", [("Content-Type", "application/json")])
    return [json.dumps([{"id": i} for i in range(150)]).encode()]


def test_live_cli_scan_is_recorded_and_replayed_evidence_is_not(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    trace = tmp_path / "trace.jsonl"
    with serve_wsgi(app) as base:
        live = run_cli("scan", f"{base}/api/items", "--samples", "0", "--save-evidence", "ev.json",
                       "--format", "json", env={rule_coverage.TRACE_ENV: str(trace)})
    assert live.code in (0, 1), live
    raised, problems = rule_coverage.read_trace(trace)
    assert raised["http.pagination.unbounded"]["source"] == "http" and not problems
    trace.unlink()
    replay = run_cli("scan", "--from-evidence", "ev.json", "--format", "json",
                     env={rule_coverage.TRACE_ENV: str(trace)})
    assert replay.code in (0, 1), replay
    assert rule_coverage.read_trace(trace) == ({}, [])  # saved evidence is not a live component
