"""`apiaudit db` with --log: log and pg_stat_statements rows join by fingerprint; log-only audits
leave the database-only items not_assessed; a log with nothing readable cannot be audited."""

from __future__ import annotations

import json

import pytest

from apiaudit.errors import AuditError
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
    assert str(junk) in result.stderr  # which file could not be read (H13)


PREFIX = "2026-11-29 05:38:{s:02d}.{ms:03d} UTC [{pid}] 6b0bba58.{pid:x} 0 app@shop "


def _session(pid: int, statements: list[str]) -> str:
    return "".join(
        PREFIX.format(s=pid % 60, ms=i, pid=pid) + f"LOG:  statement: {sql}\n" for i, sql in enumerate(statements)
    )


# Items a query log can judge without a database: N+1 inside units of work, transaction boundaries
# (BEGIN; SELECT; COMMIT), statements per client session (connection churn) and identical reads
# (application cache). Everything else needs the catalog, statistics or plans.
LOG_ITEMS = {"database.n_plus_one", "database.transactions", "database.connection_pooling",
             "caching.application_cache"}


def test_log_only_checklist_has_exactly_the_log_items(tmp_path, audit) -> None:  # type: ignore[no-untyped-def]
    sessions = [_session(100 + p, ["BEGIN", "SELECT id FROM posts ORDER BY id LIMIT 10",
                                   *[f"SELECT body FROM comments WHERE post_id = {i}" for i in range(8)],
                                   "COMMIT"]) for p in range(30)]
    log = tmp_path / "app.log"
    log.write_text("".join(sessions))
    report = audit(None, logs=[str(log)])
    assessed = {c.id for c in report.checklist if c.status != "not_assessed"}
    assert assessed == LOG_ITEMS
    plans = next(c for c in report.checklist if c.id == "database.query_plans")
    assert plans.reason is not None and plans.reason.startswith("no database given")
    # A lint finding on the log's SQL is still reported (and judges the item).
    log.write_text("".join(sessions) + _session(7, ["SELECT id FROM posts ORDER BY random() LIMIT 1"]))
    report = audit(None, logs=[str(log)])
    assert "db.query.order-by-random" in {f.rule for f in report.findings}


def test_a_log_without_statements_judges_nothing(pg, tmp_path, audit) -> None:  # type: ignore[no-untyped-def]
    # Read fine, but log_statement was off: no item may pass on statements nobody saw.
    log = tmp_path / "quiet.log"
    log.write_text("".join(PREFIX.format(s=1, ms=i, pid=300 + i) + "LOG:  connection received: host=[local]\n"
                           for i in range(40)))
    with pytest.raises(AuditError, match="hold no SQL statement"):  # alone: nothing to audit (exit 3)
        audit(None, logs=[str(log)])
    report = audit(pg.dsn("postgres"), logs=[str(log)])
    cache = next(c for c in report.checklist if c.id == "caching.application_cache")  # judged by the log only
    assert cache.status == "not_assessed" and "holds no statements" in (cache.reason or ""), cache
