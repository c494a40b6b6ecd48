"""Literal-based rules read the log's real values, and every emitted fix is SQL the tests run
(issue 15 points 6 and 8). Fixes are executed on the throwaway test database, never by the product."""

from __future__ import annotations

import psycopg
import pytest

from apiaudit.db.checks.nplusone import batched_sql
from apiaudit.db.fingerprint import fingerprint
from apiaudit.db.literals import bind, parse_parameters

from .conftest import findings

pytestmark = pytest.mark.pg

SCHEMA = """
CREATE TABLE users (id int PRIMARY KEY, email text, name text);
INSERT INTO users SELECT g, 'u' || g || '@x.org', 'name' || g FROM generate_series(1, 20000) g;
CREATE TABLE accounts (id int PRIMARY KEY, email text);
INSERT INTO accounts SELECT g, 'a' || g || '@x.org' FROM generate_series(1, 20000) g;
CREATE INDEX accounts_lower_email ON accounts (lower(email));
CREATE TABLE customers (id uuid PRIMARY KEY, name text);
CREATE TABLE orders (id int PRIMARY KEY, customer_id uuid REFERENCES customers(id), created timestamptz);
ANALYZE;
"""
LOG = """
SELECT id FROM users WHERE name LIKE '%son';
SELECT id FROM users ORDER BY id LIMIT 10 OFFSET 50000;
SELECT name FROM users ORDER BY id LIMIT 10 OFFSET 0;
SELECT name FROM users ORDER BY id LIMIT 10 OFFSET 10;
SELECT id FROM users WHERE lower(email) = 'u5@x.org';
SELECT id FROM accounts WHERE lower(email) = 'a5@x.org';
"""


def _run_fix(dsn: str, fix: str) -> None:
    sql = fix.split("--", 1)[0].strip()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for stmt in filter(None, (s.strip() for s in sql.split(";"))):
            conn.execute(stmt)  # type: ignore[arg-type]


def test_literal_rules_read_logged_values_and_fixes_run(pg, fresh_db, audit, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db(SCHEMA)
    log = tmp_path / "app.sql"
    log.write_text(LOG)
    report = audit(dsn, logs=[str(log)])
    offsets = {f.location["sample"]: f.evidence.get("offset") for f in findings(report, "db.query.offset-pagination")}
    # the deep page fires with its real value; the OFFSET 0 / 10 shape never does
    assert offsets == {"SELECT id FROM users ORDER BY id LIMIT $1 OFFSET $2": 50000}
    (like,) = findings(report, "db.query.leading-wildcard")
    assert like.location["sample"] == "SELECT id FROM users WHERE name LIKE $1"
    (func,) = findings(report, "db.query.function-on-column")  # accounts has the expression index
    assert "FROM users" in func.location["sample"]
    assert func.fix.startswith("CREATE INDEX CONCURRENTLY ON public.users ((LOWER(email)))")
    assert like.fix.startswith("CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX CONCURRENTLY ON public.users")
    for f in (like, func):
        _run_fix(dsn, f.fix)
    again = audit(dsn, logs=[str(log)])
    assert findings(again, "db.query.function-on-column") == []  # the fix took effect


def test_batched_n_plus_one_fixes_keep_types_and_meaning(fresh_db) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db(SCHEMA)
    by_key = fingerprint("SELECT c.id, c.name FROM customers c WHERE c.id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"
                         "::uuid::UUID")[1]
    latest = fingerprint("SELECT o.id FROM orders o WHERE o.customer_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"
                         "::uuid ORDER BY o.created DESC LIMIT 1")[1]
    one = batched_sql(by_key)
    many = batched_sql(latest)
    assert "= ANY(" in one and "UUID[]" in one  # the key's type, not bigint[]
    assert "CROSS JOIN LATERAL" in many and "LIMIT $2" in many  # the LIMIT stays per parent key
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO customers SELECT gen_random_uuid(), 'c' FROM generate_series(1, 3)")
        conn.execute("INSERT INTO orders SELECT g, (SELECT id FROM customers ORDER BY id OFFSET g % 3 LIMIT 1), "
                     "now() - g * interval '1 day' FROM generate_series(1, 12) g")
        keys = [r[0] for r in conn.execute("SELECT id FROM customers").fetchall()]
        conn.execute(f"PREPARE one AS {one}")  # type: ignore[arg-type]
        conn.execute(f"PREPARE many AS {many}")  # type: ignore[arg-type]
        array = "'{" + ",".join(str(k) for k in keys) + "}'"
        assert len(conn.execute(f"EXECUTE one({array})").fetchall()) == 3  # type: ignore[arg-type]
        # one row per customer (its latest order), as the per-parent query gave: not 1 row in all
        assert len(conn.execute(f"EXECUTE many({array}, 1)").fetchall()) == 3  # type: ignore[arg-type]


def test_logged_parameters_bind_into_the_text() -> None:
    assert parse_parameters("parameters: $1 = '42', $2 = NULL, $3 = 'it''s'") == {
        1: "'42'", 2: "NULL", 3: "'it''s'"}
    assert bind("SELECT a FROM t WHERE b = $1 AND c = '$2' AND d = $2", "$1 = '7', $2 = 'x'") == (
        "SELECT a FROM t WHERE b = '7' AND c = '$2' AND d = 'x'")
    assert bind("SELECT a FROM t WHERE b = $3", "$1 = '7'") is None


def test_extended_protocol_parameters_from_the_server_log(pg, fresh_db, audit, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """psycopg 3 binds server-side: the server logs "execute <unnamed>: ... $1" and "DETAIL:  parameters:
    $1 = '%son'". The rules and EXPLAIN read the logged values (as Dexter does)."""
    from apiaudit.pgcluster import wait_for_log

    dsn = fresh_db(SCHEMA)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for pattern in ("%son", "%sen"):
            conn.execute("SELECT id FROM users WHERE name LIKE %s", (pattern,))
        conn.execute("SELECT email FROM users ORDER BY id LIMIT %s OFFSET %s", (10, 0))
        conn.execute("SELECT 'logged-params-done'")
    assert wait_for_log(pg.stderr_log, "logged-params-done")
    db = dsn.rsplit("/", 1)[1]
    log = tmp_path / "postgresql.log"  # this database's lines of the server's own log, as written
    log.write_text("".join(line for line in pg.stderr_log.read_text().splitlines(keepends=True)
                           if f"@{db} " in line))
    report = audit(dsn, logs=[str(log)])
    (like,) = findings(report, "db.query.leading-wildcard")
    assert like.location["sample"] == "SELECT id FROM users WHERE name LIKE $1"
    assert like.evidence["pattern"] == "%son"
    assert findings(report, "db.query.offset-pagination") == []  # OFFSET 0: the first page
    samples = {w["fingerprint"]: w["sample"] for w in report.workload}
    plan = next(p for p in report.measurements["plans"] if "LIKE" in samples.get(p["fingerprint"], ""))
    assert plan["explained_with"] == "logged values" and plan["error"] is None
