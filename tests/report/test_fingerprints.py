"""Fingerprints survive re-runs: same rule + location -> same fingerprint, whatever the numbers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import serve_wsgi

from apiaudit.assemble import assemble
from apiaudit.checks import CheckRun
from apiaudit.model import Finding, Report
from apiaudit.rules import RuleSet

USERS = json.dumps(
    [{"id": i, "name": f"user {i}", "email": f"u{i}@example.com"} for i in range(300)]
).encode()
Lists = dict[str, list[Finding]]
ITEMS = json.dumps({"items": [{"id": 1}], "next": None}).encode()


def run(findings: list[Finding], rs: RuleSet) -> Report:
    return assemble(
        kind="scan",
        targets=["http://127.0.0.1:8000"],
        ruleset=rs,
        started_at="2026-11-29T04:00:00Z",
        duration_s=1.0,
        run=CheckRun(findings=findings, covered=set(), kinds={"scan"}),
    )


def by_fingerprint(report: Report) -> dict[str, tuple[str, str]]:
    return {f.fingerprint: (f.rule, json.dumps(f.location, sort_keys=True)) for f in report.findings}


def test_two_assembles_of_the_same_findings_agree(ruleset: RuleSet, finding_lists: Lists) -> None:
    findings = finding_lists["scan"] + finding_lists["db"]
    first, second = run(findings, ruleset), run(list(reversed(findings)), ruleset)
    assert by_fingerprint(first) == by_fingerprint(second)
    assert [f.fingerprint for f in first.findings] == [f.fingerprint for f in second.findings]


def test_numbers_and_samples_do_not_change_the_fingerprint(ruleset: RuleSet, finding_lists: Lists) -> None:
    base = finding_lists["scan"][0]
    changed = Finding(
        base.rule_id, dict(base.location), {"items": 7000, "limit_tried": 1000}, {"items": 7000}
    )
    assert run([base], ruleset).findings[0].fingerprint == run([changed], ruleset).findings[0].fingerprint
    q = finding_lists["db"][1]
    resampled = Finding(q.rule_id, {**q.location, "sample": "SELECT * FROM orders WHERE status = $2"}, q.vars)
    assert run([q], ruleset).findings[0].fingerprint == run([resampled], ruleset).findings[0].fingerprint


def test_another_location_or_rule_changes_it(ruleset: RuleSet, finding_lists: Lists) -> None:
    base = finding_lists["scan"][0]
    moved = Finding(base.rule_id, {**base.location, "url": base.location["url"] + "2"}, base.vars)
    other = Finding("http.ratelimit.missing", dict(base.location), {})
    prints = {run([f], ruleset).findings[0].fingerprint for f in (base, moved, other)}
    assert len(prints) == 3


def _app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
    body = {"/api/users": USERS, "/api/items": ITEMS}.get(environ["PATH_INFO"])
    if body is None:
        start("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]
    start("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def test_two_real_scans_of_an_unchanged_server_give_the_same_fingerprints(
    run_cli: Any, tmp_path: Path
) -> None:
    with serve_wsgi(_app) as base:
        urls = [f"{base}/api/users", f"{base}/api/items"]
        for name in ("a.json", "b.json"):
            res = run_cli("scan", *urls, "--format", "json", "-o", str(tmp_path / name), "--fail-on", "none")
            assert res.code == 0, res
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    prints_a = {f["fingerprint"]: f["rule"] for f in a["findings"]}
    prints_b = {f["fingerprint"]: f["rule"] for f in b["findings"]}
    # 300 unpaginated users without cache validators: the scan must have found something to compare
    assert any(rule.startswith("http.pagination") for rule in prints_a.values())
    assert prints_a == prints_b


SCHEMA_SQL = """
CREATE TABLE customer (id int PRIMARY KEY, email text);
CREATE TABLE purchase (id int PRIMARY KEY, customer_id int REFERENCES customer(id), note text);
CREATE INDEX purchase_note_idx ON purchase (note);
INSERT INTO customer SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 3000) g;
INSERT INTO purchase SELECT g, 1 + g % 3000, 'n' FROM generate_series(1, 6000) g;
ANALYZE;
"""


@pytest.mark.pg
def test_two_real_db_audits_give_the_same_fingerprints(
    pg: Any, fresh_db: Any, run_cli: Any, tmp_path: Path
) -> None:
    dsn = fresh_db(SCHEMA_SQL)
    dbname = dsn.rsplit("/", 1)[1]
    for i in range(1, 4):
        pg.psql(f"SELECT * FROM purchase WHERE customer_id = {i}", dbname)
    for name in ("a.json", "b.json"):
        res = run_cli("db", dsn, "--format", "json", "-o", str(tmp_path / name), "--fail-on", "none")
        assert res.code == 0, res
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    prints_a = {f["fingerprint"]: f["rule"] for f in a["findings"]}
    assert "db.fk.unindexed" in prints_a.values()
    assert prints_a == {f["fingerprint"]: f["rule"] for f in b["findings"]}
    # and the real db report satisfies the published JSON Schema
    schema = json.loads(
        (Path(__file__).resolve().parents[2] / "apiaudit" / "report" / "schema.json").read_text()
    )
    jsonschema.Draft202012Validator(schema).validate(a)
