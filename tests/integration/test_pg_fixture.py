"""The PostgreSQL fixture is real: it accepts connections and pg_stat_statements records queries."""

from __future__ import annotations

import psycopg

from apiaudit import pgcluster


def test_cluster_records_pg_stat_statements(pg: pgcluster.Cluster, fresh_db) -> None:
    dsn = fresh_db("CREATE TABLE t (id int PRIMARY KEY)")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for i in range(3):
            conn.execute("SELECT id FROM t WHERE id = %s", (i,))
        rows = conn.execute(
            "SELECT calls FROM pg_stat_statements WHERE query = 'SELECT id FROM t WHERE id = $1'"
        ).fetchall()
    assert rows == [(3,)]


def test_cluster_writes_statement_log_with_prefix(pg: pgcluster.Cluster, fresh_db) -> None:
    dsn = fresh_db()
    marker = "SELECT 424242 AS apiaudit_fixture_marker"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(marker)
    assert pgcluster.wait_for_log(pg.stderr_log, "apiaudit_fixture_marker")
    line = next(ln for ln in pg.stderr_log.read_text().splitlines() if "apiaudit_fixture_marker" in ln)
    # %m [%p] %c %x: timestamp, [pid], session id, xid
    assert line[:4].isdigit() and " [" in line and "LOG:  statement: " in line
    assert pgcluster.wait_for_log(pg.json_log, "apiaudit_fixture_marker")
    assert pgcluster.wait_for_log(pg.csv_log, "apiaudit_fixture_marker")


def test_hypopg_is_installable(pg: pgcluster.Cluster, hypopg_available: bool, fresh_db) -> None:
    dsn = fresh_db("CREATE EXTENSION hypopg")
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'hypopg'").fetchone()
