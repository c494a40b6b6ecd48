"""Database rules raised against the real PostgreSQL of the test session that the other db tests do
not produce (rule-coverage gate, issue 13): buffer hit rate, idle connections and the query-lint
rules that need real statements. Thresholds are lowered through the config where the real condition
needs a busy production server (the figures still come from the live catalog)."""

from __future__ import annotations

import psycopg
import pytest

from apiaudit.pgcluster import wait_for_log

from .conftest import findings, wait_for_stats

pytestmark = pytest.mark.pg


def test_buffer_hit_rate_low_and_critical_from_real_block_reads(pg, fresh_db, audit, pg_version) -> None:  # type: ignore[no-untyped-def]
    # A table larger than the bulk-write ring (16 MB) and a quarter of shared_buffers: CREATE TABLE AS
    # leaves most of it out of shared buffers, and the seq scan reads those blocks from the OS.
    dsn = fresh_db("CREATE TABLE big AS SELECT g AS id, repeat('x', 20) AS pad FROM generate_series(1, 600000) g")
    db = dsn.rsplit("/", 1)[1]
    pg.psql("SELECT count(*) FROM big", db)
    wait_for_stats(pg, db, "SELECT heap_blks_read > 0 FROM pg_statio_user_tables WHERE relname = 'big'")
    low = audit(dsn, thresholds={"cache_hit_rate_warn_pct": 100, "cache_hit_rate_critical_pct": 0,
                                 "db_min_cache_blocks": 1})
    crit = audit(dsn, thresholds={"cache_hit_rate_warn_pct": 100, "cache_hit_rate_critical_pct": 100,
                                  "db_min_cache_blocks": 1})
    (warned,) = [f for f in findings(low, "db.cache.hit-rate-low") if f.location["scope"] == "tables"]
    assert warned.evidence["reads"] > 0 and warned.evidence["rate"] < 100
    assert [f.location["scope"] for f in findings(crit, "db.cache.hit-rate-critical")][:1] == ["tables"]
    if pg_version < 180000:  # PostgreSQL 18 (asynchronous I/O) reads more of this fresh table from the OS
        assert not findings(audit(dsn), "db.cache.hit-rate-low")  # the guide's 80 %: this table is mostly cached


def test_idle_connections_counted_from_pg_stat_activity(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db()
    held = [psycopg.connect(dsn, application_name="idle-holder") for _ in range(3)]
    try:
        report = audit(dsn, thresholds={"db_idle_connections_pct": 3})  # 3 idle of max_connections 100
    finally:
        for conn in held:
            conn.close()
    (found,) = findings(report, "db.pool.idle-connections")
    assert found.evidence["idle"] >= 3 and found.evidence["max_connections"] == 100


def test_query_lint_rules_from_real_statements(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db(
        "CREATE TABLE customer (id int PRIMARY KEY, email text, name text);"
        "INSERT INTO customer SELECT g, 'u' || g || '@example.com', 'n' || g FROM generate_series(1, 2000) g;"
    )
    db = dsn.rsplit("/", 1)[1]
    pg.psql("SELECT pg_stat_statements_reset()", db)
    for sql in (
        "SELECT id FROM customer",  # 2000 rows to count them: count-by-fetch
        "SELECT id FROM customer WHERE lower(email) = 'u7@example.com'",  # function on the filtered column
        "SELECT 'lint-marker-1'",
    ):
        pg.psql(sql, db)
    assert wait_for_log(pg.csv_log, "lint-marker-1", timeout_s=10)
    report = audit(dsn, logs=[str(pg.csv_log)])
    assert any("from customer" in f.location["sample"].lower() for f in findings(report, "db.query.count-by-fetch"))
    assert any("lower(email)" in f.message.lower() for f in findings(report, "db.query.function-on-column"))
    # A literal '%…' pattern never reaches the lint: pg_stat_statements and the log fingerprint both mask
    # literals (db.query.leading-wildcard is allow-listed for that reason).
    assert not findings(report, "db.query.leading-wildcard")
