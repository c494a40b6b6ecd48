"""Proof that a full audit (HypoPG, --analyze) writes nothing: pg_stat_database's tuple counters,
the relation list and a sequence are unchanged. A control write shows the counters do move."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.pg

SNAPSHOT = """
SELECT tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = current_database();
SELECT string_agg(relname || ':' || relkind::text, ',' ORDER BY relname) FROM pg_class;
SELECT last_value FROM counter;
"""


def _snapshot(pg, db: str) -> str:  # type: ignore[no-untyped-def]
    # Counters of a backend are flushed when it exits: wait until no apiaudit session is left.
    for _ in range(100):
        if (
            pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'apiaudit'").strip()
            == "0"
        ):
            break
        time.sleep(0.05)
    # ... and until two reads agree (a backend that just exited may still be flushing its counters).
    last = pg.psql(SNAPSHOT, db)
    for _ in range(40):
        time.sleep(0.1)
        now = pg.psql(SNAPSHOT, db)
        if now == last:
            return now
        last = now
    return last


def test_audit_writes_nothing(pg, fresh_db, audit, hypopg_available) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db("""
    CREATE EXTENSION hypopg;
    CREATE SEQUENCE counter;
    CREATE TABLE parent (id int PRIMARY KEY);
    CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent(id), v int);
    INSERT INTO parent SELECT generate_series(1, 2000);
    INSERT INTO child SELECT g, 1 + g % 2000, g FROM generate_series(1, 20000) g;
    ANALYZE;
    """)
    db = dsn.rsplit("/", 1)[1]
    pg.psql(
        "SELECT v FROM child WHERE parent_id = 5; SELECT count(*) FROM child; SELECT nextval('counter');", db
    )
    before = _snapshot(pg, db)
    report = audit(dsn, analyze=True)
    assert report.stats["explained"] >= 2 and report.findings  # it did audit
    assert _snapshot(pg, db) == before
    pg.psql("INSERT INTO parent VALUES (999999)", db)  # control: a real write shows up
    assert _snapshot(pg, db) != before


def test_own_statements_stay_out_of_the_workload(pg, fresh_db, audit, hypopg_available) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db("""
    CREATE EXTENSION hypopg;
    CREATE TABLE child (id int PRIMARY KEY, parent_id int);
    INSERT INTO child SELECT g, g % 500 FROM generate_series(1, 20000) g;
    ANALYZE;
    """)
    db = dsn.rsplit("/", 1)[1]
    pg.psql("SELECT pg_stat_statements_reset()", db)
    pg.psql("SELECT id FROM child WHERE parent_id = 5", db)
    audit(dsn, analyze=True)  # leaves BEGIN/SET/PREPARE/EXPLAIN/hypopg calls in pg_stat_statements
    samples = [w["sample"] for w in audit(dsn).workload]
    own = ("begin", "rollback", "set ", "prepare", "explain", "deallocate")
    assert not [s for s in samples if s.lower().startswith(own) or "hypopg" in s.lower()], samples
    assert any("parent_id = $1" in s for s in samples)
