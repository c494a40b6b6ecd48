"""CVE-2018-1058 against the auditor: the unprivileged owner of the audited database plants
operators and functions in public (a generated matrix: 20 operator names over every ordered pair of
23 catalog types, prefix operators, and every pg_catalog overload of the functions apiaudit's SQL
calls, re-declared exact and with near argument types), and points the database's search_path at
them. Each planted routine records its call in a file, tries to switch read-only off and to widen
the search_path. The audit runs as a superuser (the README's CI example): no call may be recorded,
and the audit must still report what it reports on a clean database.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

import apiaudit.db
from apiaudit import pgcluster
from apiaudit.db.catalog import SETTING_NAMES
from apiaudit.db.connect import PINNED_PATH, readonly, verify_session
from apiaudit.db.sqlfiles import load_sql, scope_params
from hostile import pgplant
from hostile.measure import run_measured

OWNER = "hijacker"
APP_SQL = """
CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers(id), status text, total numeric);
CREATE INDEX orders_status ON orders (status);
CREATE INDEX orders_status_dup ON orders (status);
INSERT INTO customers SELECT g, 'c' || g, 'u' || g || '@x.test' FROM generate_series(1, 3000) g;
INSERT INTO orders SELECT g, 1 + g % 3000, CASE WHEN g % 7 = 0 THEN 'open' ELSE 'done' END, g % 97
  FROM generate_series(1, 20000) g;
ANALYZE;
"""
WORKLOAD = [
    "SELECT * FROM orders WHERE customer_id = 17",
    "SELECT id, name FROM customers WHERE email = 'u5@x.test'",
    "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 90",
    "SELECT * FROM orders WHERE status LIKE 'op%' ORDER BY id DESC LIMIT 10",
]


@pytest.fixture(scope="module")
def hijacked(pg: pgcluster.Cluster) -> dict[str, Any]:
    """One planted database for the module (planting ~11,000 objects takes a few seconds)."""
    db = f"hijack_{os.getpid()}"
    pg.psql(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER}') THEN "
            f"CREATE ROLE {OWNER} LOGIN; END IF; END $$")
    pg.psql(f'CREATE DATABASE "{db}" OWNER {OWNER}')
    pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; CREATE EXTENSION IF NOT EXISTS hypopg", db)
    owner = pg.dsn(db, user=OWNER)
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(APP_SQL)
        for sql in WORKLOAD * 3:
            conn.execute(sql)
    counts = pgplant.plant(pg.dsn(db), OWNER)
    with psycopg.connect(owner, autocommit=True) as conn:  # the owner may do this to its own database
        conn.execute(f'ALTER DATABASE "{db}" SET search_path = public, pg_catalog')
    return {"db": db, "dsn": pg.dsn(db), "counts": counts}


def test_the_matrix_is_planted_and_would_be_called_by_unqualified_sql(
    pg: pgcluster.Cluster, hijacked: dict[str, Any]
) -> None:
    counts = hijacked["counts"]
    assert counts["failed"] == 0 and counts["operators"] >= 10_000 and counts["functions"] >= 300, counts
    before = pgplant.calls(pg.datadir)
    with psycopg.connect(hijacked["dsn"], autocommit=True) as conn:  # the trap works on naive SQL
        conn.execute("SET client_min_messages = error")
        conn.execute("SET log_min_messages = error")  # the WARNINGs of the planted calls stay out of the log
        conn.execute("SELECT count(*) FROM pg_class WHERE oid <> 0 AND relnamespace = 11").fetchone()
    assert len(pgplant.calls(pg.datadir)) > len(before)


@pytest.mark.parametrize("extra", [[], ["--analyze", "--log", "WORKLOAD"]], ids=["plain", "analyze-log"])
def test_audit_as_superuser_calls_nothing_planted_and_still_audits(
    pg: pgcluster.Cluster, hijacked: dict[str, Any], tmp_path: Path, extra: list[str]
) -> None:
    log = tmp_path / "workload.sql"
    log.write_text("".join(f"{s};\n" for s in WORKLOAD * 5))
    args = [str(log) if a == "WORKLOAD" else a for a in extra]
    before = pgplant.calls(pg.datadir)
    run = run_measured("db", hijacked["dsn"], *args, "--format", "json", timeout=180)
    assert pgplant.calls(pg.datadir) == before, "planted operators/functions were called by the audit"
    assert not run.has_traceback() and not run.internal_error() and run.code in (0, 1), run
    rep = run.report() or {}
    errors = rep.get("errors") or []
    assert not [e for e in errors if str(e.get("where", "")).startswith("db query")], errors
    rules = {f["rule"] for f in rep.get("findings", [])}
    assert "db.fk.unindexed" in rules and any(r.startswith("db.index.") for r in rules), rules
    assert rep["stats"]["tables"] == 2 and rep["stats"]["foreign_keys"] == 1, rep["stats"]
    # The workload is there (pg_stat_statements and the log), and refused with a reason, not silently:
    plans = rep["measurements"]["plans"]
    assert plans and all(p["refused"] or p["error"] is None for p in plans), plans
    assert any("user-defined code" in (p["refused"] or "") for p in plans), plans
    assert any(e.get("where") == "database role" for e in errors), errors  # a superuser: warned


SQL_PARAMS: dict[str, dict[str, Any]] = {
    "settings": {"names": SETTING_NAMES},
    "column_stats": {**scope_params([]), "tables": []},
    "statements": {"limit": 10},
    "sequences": {**scope_params([]), "after_oid": 0, "batch": 1000},
    "volatile_functions": {"names": ["lower", "now", "format"]},
    "user_code": {"names": ["orders", "lower"], "ops": ["=", "||"], "path": ["$user", "public"],
                  "allowed": ["hypopg"]},
}


@pytest.mark.parametrize("path", ['"$user", public', "public, pg_catalog"])
def test_every_catalog_query_is_qualified_even_without_the_pinned_path(
    pg: pgcluster.Cluster, hijacked: dict[str, Any], path: str
) -> None:
    """Defence in depth: were the pin lost (a pooler dropping startup options), the SQL itself
    still resolves only pg_catalog's operators and functions."""
    sql_dir = Path(apiaudit.db.__file__).parent / "sql"
    names = sorted(p.stem for p in sql_dir.glob("*.sql") if p.stem != "statements_pg12")
    assert len(names) >= 11, names
    before = pgplant.calls(pg.datadir)
    failed = {}
    with psycopg.connect(hijacked["dsn"], autocommit=True) as conn:
        conn.execute("SET client_min_messages = error")
        conn.execute("SET log_min_messages = error")
        conn.execute(f"SET search_path = {path}")
        conn.execute("SET statement_timeout = 10000")
        for name in names:
            text = load_sql(name).replace("{pgss}", "public")
            try:
                conn.execute("BEGIN READ ONLY")
                conn.execute(text, SQL_PARAMS.get(name, scope_params([])))
            except psycopg.Error as exc:
                failed[name] = str(exc).splitlines()[0]
            finally:
                conn.execute("ROLLBACK")
    assert not failed, failed
    assert pgplant.calls(pg.datadir) == before


def test_a_session_level_change_inside_our_transaction_is_rolled_back(
    pg: pgcluster.Cluster, fresh_db: Callable[..., str]
) -> None:
    """What a hijacked function would do (set_config(..., false)) does not outlive our transaction."""
    from apiaudit.db.connect import SessionSettings, connect

    conn = connect(fresh_db(), SessionSettings())
    try:
        with readonly(conn) as cur:
            cur.execute("SELECT pg_catalog.set_config('default_transaction_read_only', 'off', false), "
                        "pg_catalog.set_config('search_path', 'public', false)")
        verify_session(conn)  # raises if either change survived
        with readonly(conn) as cur:
            cur.execute("SELECT pg_catalog.current_setting('search_path')")
            assert cur.fetchone()[0].replace(" ", "") == PINNED_PATH.replace(" ", "")
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
    finally:
        conn.close()
