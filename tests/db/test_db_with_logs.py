"""`apiaudit db` with --log: log and pg_stat_statements rows join by fingerprint; log-only audits
leave the database-only items not_assessed; a log with nothing readable cannot be audited."""

from __future__ import annotations

import json

import pytest

from apiaudit.pgcluster import wait_for_log

pytestmark = pytest.mark.pg


def _workload(pg, fresh_db, marker: str) -> str:  # type: ignore[no-untyped-def]
    dsn = fresh_db(
        "CREATE TABLE item (id int PRIMARY KEY, name text);"
        "INSERT INTO item SELECT g, 'n' FROM generate_series(1, 50) g;"
    )
    db = dsn.rsplit("/", 1)[1]
    pg.psql("SELECT pg_stat_statements_reset()", db)
    # One statement per call: psql -c sends "a; b" as one query string, logged as one statement.
    for sql in (
        "SELECT name FROM item WHERE id = 7",
        "SELECT name FROM item WHERE id = 8",
        f"SELECT '{marker}'",
    ):
        pg.psql(sql, db)
    assert wait_for_log(pg.csv_log, marker, timeout_s=10)
    return dsn


def test_log_and_pg_stat_statements_join(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = _workload(pg, fresh_db, "join-marker-1")
    report = audit(dsn, logs=[str(pg.csv_log)])
    rows = [w for w in report.workload if "from item where id = $1" in w["sample"].lower()]
    assert [w["source"] for w in rows] == ["log+pg_stat_statements"], rows
    assert rows[0]["calls"] == 2  # pg_stat_statements' own count wins (this database only)
    assert report.stats.get("log_parsed", 0) > 0


def test_log_only_audit(pg, fresh_db, run_cli) -> None:  # type: ignore[no-untyped-def]
    _workload(pg, fresh_db, "join-marker-2")
    result = run_cli("db", "--log", str(pg.csv_log), "--format", "json", "--fail-on", "none")
    assert result.code == 0, result
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    items = {c["id"]: c for c in report["checklist"]}
    assert items["database.indexes"]["status"] == "not_assessed"
    assert items["database.indexes"]["reason"] == "no database given (apiaudit db DSN)"
    assert any(w["source"] == "log" for w in report["workload"])


def test_unreadable_log_only_is_exit_3(tmp_path, run_cli) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "junk.log"
    junk.write_bytes(bytes(range(256)) * 10)
    result = run_cli("db", "--log", str(junk))
    assert result.code == 3, result
    assert "Traceback" not in result.stderr
