"""Index hygiene against a real schema: duplicate vs prefix-redundant vs distinct opclass/collation/
predicate, constraint-backed indexes, booleans, small tables, unused indexes, HOT-blocking updates,
seq-scan-heavy tables."""

from __future__ import annotations

import pytest

from .conftest import findings, indexes_of, tables_of, wait_for_stats

pytestmark = pytest.mark.pg

SCHEMA = """
CREATE TABLE big (id int PRIMARY KEY, email text, name text, flag boolean, v int, w int, status text);
INSERT INTO big SELECT g, 'u' || g || '@x', 'n' || g, g % 2 = 0, g % 500, g % 700, 's' || (g % 3)
FROM generate_series(1, 5000) g;
CREATE INDEX big_v ON big (v);
CREATE INDEX big_v_again ON big (v);                      -- duplicate of big_v
CREATE INDEX big_v_w ON big (v, w);                       -- big_v is a prefix of this
CREATE INDEX big_w_desc ON big (w DESC);                  -- distinct sort order: not a prefix of anything
CREATE INDEX big_w_x ON big (w, v);                       -- (w DESC) is not a prefix of (w ASC, v)
CREATE INDEX big_name ON big (name);
CREATE INDEX big_name_pattern ON big (name text_pattern_ops);  -- distinct opclass: not a duplicate
CREATE INDEX big_name_c ON big (name COLLATE "C");       -- distinct collation: not a duplicate
CREATE INDEX big_name_partial ON big (name) WHERE flag;   -- distinct predicate: not a duplicate
CREATE INDEX big_lower ON big (lower(email));
CREATE INDEX big_lower_again ON big (lower(email));       -- identical expression: duplicate
CREATE UNIQUE INDEX big_id_unique ON big (id);            -- identical to the PK: flagged, PK never
CREATE UNIQUE INDEX big_email_u ON big (email);
CREATE INDEX big_email ON big (email);                    -- duplicate of the unique index
CREATE INDEX big_flag ON big (flag);                      -- boolean: low cardinality
CREATE INDEX big_status ON big (status);                  -- 3 distinct values (pg_stats)
CREATE INDEX big_flag_v ON big (flag, v);                 -- multi-column: not judged as low-cardinality
CREATE TABLE tiny (id int PRIMARY KEY, code text);
INSERT INTO tiny SELECT g, 'c' || g FROM generate_series(1, 20) g;
CREATE INDEX tiny_code ON tiny (code);                    -- small table
ANALYZE;
"""

USE_INDEXES = """
SET enable_seqscan = off;
SELECT count(*) FROM big WHERE v = 1;
SELECT count(*) FROM big WHERE v = 1 AND w = 2;
SELECT count(*) FROM big WHERE email = 'u1@x';
"""


@pytest.fixture(scope="module")
def hygiene_db(pg):  # type: ignore[no-untyped-def]
    name = "dbhygiene"
    pg.psql(f"DROP DATABASE IF EXISTS {name}")
    pg.psql(f"CREATE DATABASE {name}")
    pg.psql(SCHEMA, name)
    pg.psql("SELECT pg_stat_reset()", name)  # a known statistics history (stats_reset is NULL before)
    pg.psql(USE_INDEXES, name)
    wait_for_stats(pg, name, "SELECT sum(idx_scan) >= 3 FROM pg_stat_user_indexes")
    return pg.dsn(name)


def test_duplicates_and_redundant_prefixes(hygiene_db, audit) -> None:  # type: ignore[no-untyped-def]
    report = audit(hygiene_db)
    dup = {f.location["index"]: f.message for f in findings(report, "db.index.duplicate")}
    # Of two identical indexes the later name is reported; a non-unique copy of a unique index,
    # and a plain unique index identical to the PK, are reported; the PK / unique constraint never.
    assert set(dup) == {"big_v_again", "big_lower_again", "big_email", "big_id_unique"}
    assert "big_pkey" in dup["big_id_unique"] and "big_email_u" in dup["big_email"]
    # big_v leads big_v_w, big_flag leads big_flag_v; big_v_again is already reported as a duplicate.
    assert indexes_of(report, "db.index.redundant") == {"big_v", "big_flag"}
    fix = next(f.fix for f in findings(report, "db.index.redundant") if f.location["index"] == "big_v")
    assert fix == "DROP INDEX CONCURRENTLY public.big_v;"


def test_low_cardinality_and_small_table(hygiene_db, audit) -> None:  # type: ignore[no-untyped-def]
    report = audit(hygiene_db)
    assert indexes_of(report, "db.index.low-cardinality") == {"big_flag", "big_status"}
    assert indexes_of(report, "db.index.small-table") == {"tiny_code"}


def test_unused_indexes_skip_used_and_constraint_ones(pg, hygiene_db, audit) -> None:  # type: ignore[no-untyped-def]
    unused = indexes_of(audit(hygiene_db, thresholds={"db_unused_min_stats_days": 0}), "db.index.unused")
    assert {"big_w_desc", "big_name_pattern", "big_flag", "tiny_code"} <= unused
    # Unique and PK indexes are never "unused" (they enforce a constraint).
    assert not unused & {"big_pkey", "big_email_u", "big_id_unique"}
    # Whatever USE_INDEXES scanned (the planner picks among the twins) is not reported.
    scanned = set(
        pg.psql("SELECT indexrelname FROM pg_stat_user_indexes WHERE idx_scan > 0", "dbhygiene").split()
    )
    assert scanned and not unused & scanned


def test_unused_needs_old_enough_statistics(pg, hygiene_db, audit) -> None:  # type: ignore[no-untyped-def]
    pg.psql("SELECT pg_stat_reset()", "dbhygiene")  # stats_reset = now: younger than 7 days
    report = audit(hygiene_db)
    assert findings(report, "db.index.unused") == []
    (info,) = findings(report, "db.index.unused-unjudged")
    assert info.severity.name == "INFO" and "0.0 days old" in info.message
    report = audit(hygiene_db, thresholds={"db_unused_min_stats_days": 0})
    assert "big_w_desc" in indexes_of(report, "db.index.unused")


def test_update_heavy_vs_hot_twin(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db("""
    CREATE TABLE hot_blocked (id int PRIMARY KEY, counter int, note text);
    CREATE INDEX hot_blocked_counter ON hot_blocked (counter);
    CREATE TABLE hot_ok (id int PRIMARY KEY, counter int, note text) WITH (fillfactor = 30);
    CREATE INDEX hot_ok_note ON hot_ok (note);
    INSERT INTO hot_blocked SELECT g, 0, 'x' FROM generate_series(1, 2000) g;
    INSERT INTO hot_ok SELECT g, 0, 'x' FROM generate_series(1, 2000) g;
    ANALYZE;
    """)
    db = dsn.rsplit("/", 1)[1]
    # The indexed column changes: no update can be HOT. The twin updates an unindexed column.
    pg.psql("UPDATE hot_blocked SET counter = counter + 1; UPDATE hot_blocked SET counter = counter + 1;", db)
    pg.psql("UPDATE hot_ok SET counter = counter + 1;", db)
    pg.psql("UPDATE hot_ok SET counter = counter + 1;", db)
    wait_for_stats(pg, db, "SELECT sum(n_tup_upd) = 8000 FROM pg_stat_user_tables")
    report = audit(dsn)
    assert tables_of(report, "db.index.update-heavy") == {("public", "hot_blocked", ())}


def test_seq_scan_heavy_vs_indexed_twin(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db("""
    CREATE TABLE scanned (id int PRIMARY KEY, v int);
    CREATE TABLE looked_up (id int PRIMARY KEY, v int);
    INSERT INTO scanned SELECT g, g % 10 FROM generate_series(1, 3000) g;
    INSERT INTO looked_up SELECT g, g % 10 FROM generate_series(1, 3000) g;
    ANALYZE;
    """)
    db = dsn.rsplit("/", 1)[1]
    pg.psql(
        "SELECT count(*) FROM scanned WHERE v = 3;\n" * 120 + "SELECT v FROM looked_up WHERE id = 7;\n" * 150,
        db,
    )
    wait_for_stats(pg, db, "SELECT sum(seq_scan) >= 120 AND sum(idx_scan) >= 150 FROM pg_stat_user_tables")
    report = audit(dsn)
    assert tables_of(report, "db.table.seq-scan-heavy") == {("public", "scanned", ())}
