"""Proof that `apiaudit db --analyze` (with HypoPG) changes nothing in the audited database, even when
the workload it is handed is full of disguised writes.

The audit runs as a dedicated role ``apiaudit`` so its statements can be told apart in
pg_stat_statements. Before/after: pg_stat_database tup_inserted/updated/deleted, the set of relations,
indexes and extensions, row counts, the sequence, the side-effect table, a victim backend that a
``pg_terminate_backend`` in the workload targets, and every statement the role ran.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from apiaudit import pgcluster
from hostile.measure import run_measured

ROLE = "apiaudit"
ROLE_MIN = "apiaudit_min"
SCHEMA = """
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, name text);
CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users(id), total numeric, status text);
CREATE TABLE audit_log (id serial PRIMARY KEY, note text, at timestamptz DEFAULT now());
INSERT INTO users (email, name) SELECT 'u' || g || '@x.test', 'user ' || g FROM generate_series(1, 3000) g;
INSERT INTO orders (user_id, total, status)
  SELECT 1 + g % 3000, g % 97, CASE WHEN g % 5 = 0 THEN 'open' ELSE 'done' END
  FROM generate_series(1, 20000) g;
CREATE FUNCTION log_and_return(i int) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
BEGIN INSERT INTO audit_log (note) VALUES ('called ' || i); RETURN i; END $$;
-- Declared STABLE, but calls a VOLATILE writer: pg_proc alone does not reveal the side effect.
CREATE FUNCTION innocent_lookup(i int) RETURNS int LANGUAGE plpgsql STABLE AS $$
BEGIN RETURN log_and_return(i); END $$;
CREATE FUNCTION wipe_orders() RETURNS bigint LANGUAGE sql VOLATILE AS $$
  WITH d AS (DELETE FROM orders RETURNING 1) SELECT count(*) FROM d $$;
ANALYZE;
"""


def disguised_writes(victim_pid: int) -> list[str]:
    return [
        "WITH x AS (DELETE FROM orders WHERE id < 500 RETURNING *) SELECT count(*) FROM x",
        "WITH x AS (UPDATE users SET name = 'pwned' RETURNING id) SELECT * FROM x",
        "WITH x AS (INSERT INTO audit_log (note) VALUES ('cte') RETURNING id) SELECT id FROM x",
        "SELECT nextval('orders_id_seq')",
        "SELECT setval('orders_id_seq', 1)",
        f"SELECT pg_terminate_backend({victim_pid})",
        f"SELECT pg_cancel_backend({victim_pid})",
        "SELECT log_and_return(id) FROM users WHERE id = 1",
        "SELECT innocent_lookup(id) FROM users WHERE id = 2",
        "SELECT wipe_orders()",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT * INTO stolen_users FROM users",
        "SELECT * FROM users WHERE id = 3 FOR UPDATE",
        "SELECT 1; DELETE FROM orders",
        "EXPLAIN ANALYZE DELETE FROM orders",
        "SELECT pg_advisory_lock(42)",
        "SELECT txid_current()",
        "SELECT lo_import('/etc/hostname')",
    ]


LEGIT = [
    "SELECT * FROM orders WHERE status = 'open' AND total > 90",
    "SELECT * FROM orders WHERE user_id = 17",
    "SELECT id, name FROM users WHERE email = 'u5@x.test'",
]


def _dbname(dsn: str) -> str:
    return dsn.rsplit("/", 1)[1].split("?")[0]


def _ensure_role(pg: pgcluster.Cluster, name: str, stats: bool) -> None:
    pg.psql(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN "
        f"CREATE ROLE {name} LOGIN; END IF; END $$"
    )
    if stats:
        pg.psql(f"GRANT pg_read_all_stats TO {name}")


def snapshot(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        q = conn.execute
        return {
            # Writes to the user's tables; pg_stat_database's counters also count the catalog rows that
            # autovacuum/autoanalyze update in the background, which made this check flaky.
            "tuples": q(
                "SELECT COALESCE(sum(n_tup_ins), 0), COALESCE(sum(n_tup_upd), 0), COALESCE(sum(n_tup_del), 0) "
                "FROM pg_stat_user_tables"
            ).fetchone(),
            "relations": sorted(
                q(
                    "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', "
                    "'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
                ).fetchall()
            ),
            "extensions": sorted(q("SELECT extname FROM pg_extension").fetchall()),
            "functions": sorted(
                q("SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace").fetchall()
            ),
            "rows": q(
                "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM orders), "
                "(SELECT count(*) FROM audit_log), (SELECT count(*) FROM users WHERE name = 'pwned')"
            ).fetchone(),
            "sequence": q("SELECT last_value, is_called FROM orders_id_seq").fetchone(),
            "large_objects": q("SELECT count(*) FROM pg_largeobject_metadata").fetchone(),
        }


@pytest.fixture
def audited_db(pg: pgcluster.Cluster, fresh_db: Callable[..., str], tmp_path: Path) -> Iterator[dict[str, Any]]:
    dsn = fresh_db(SCHEMA)
    db = _dbname(dsn)
    _ensure_role(pg, ROLE, stats=True)
    pg.psql(
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ROLE}; GRANT USAGE ON ALL SEQUENCES IN SCHEMA "
        f"public TO {ROLE}; GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {ROLE}",
        db,
    )
    have_hypopg = pg.psql("SELECT count(*) FROM pg_available_extensions WHERE name = 'hypopg'").strip() == "1"
    if have_hypopg:
        pg.psql("CREATE EXTENSION IF NOT EXISTS hypopg", db)
    # The victim: a backend of the audit's own role (which pg_terminate_backend may signal).
    victim = psycopg.connect(pg.dsn(db, user=ROLE), autocommit=True, application_name="victim")
    pid = victim.info.backend_pid
    # Put the disguised writes into pg_stat_statements (as the superuser) and into a query log.
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in LEGIT * 5:
            conn.execute(sql)
        for sql in (
            "WITH x AS (DELETE FROM orders WHERE id < 0 RETURNING *) SELECT count(*) FROM x",
            "SELECT log_and_return(0) FROM users WHERE id = 0",
            "SELECT nextval('orders_id_seq')",
        ):
            conn.execute(sql)
    log = tmp_path / "workload.sql"
    log.write_text("".join(f"{s};\n" for s in [*LEGIT * 10, *disguised_writes(pid) * 6]))
    try:
        yield {"dsn": dsn, "db": db, "victim": victim, "log": log, "hypopg": have_hypopg}
    finally:
        victim.close()


def _role_statements(dsn: str, db: str, role: str) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT s.query FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid "
            "JOIN pg_database d ON d.oid = s.dbid WHERE r.rolname = %s AND d.datname = %s",
            (role, db),
        ).fetchall()
    return [r[0] for r in rows]


def _wait_for_audit_backends_to_exit(dsn: str) -> None:
    """A backend flushes its statistics when it exits, shortly after the client disconnects."""
    deadline = time.monotonic() + 15
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            left = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'apiaudit'").fetchone()
            if left == (0,):
                return
            time.sleep(0.05)


def _code_only(sql: str) -> str:
    """The statement without comments and string literals (catalog SQL explains itself in comments)."""
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    sql = re.sub(r"--[^\n]*", " ", sql)
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


ALLOWED_START = re.compile(
    r"^\s*(?:/\*.*?\*/\s*)*(select|explain|set|show|prepare|deallocate|begin|rollback|"
    r"reset|values|table|with)\b",
    re.I | re.S,
)
WRITE_WORD = re.compile(
    r"\b(insert|update|delete|merge|truncate|create|drop|alter|grant|copy|vacuum|"
    r"nextval|setval|pg_terminate_backend|pg_cancel_backend|set_config|lo_import|"
    r"log_and_return|innocent_lookup|wipe_orders)\b",
    re.I,
)


def test_db_audit_with_analyze_and_hypopg_changes_nothing(
    pg: pgcluster.Cluster, audited_db: dict[str, Any], hypopg_available: bool
) -> None:
    db, dsn = audited_db["db"], audited_db["dsn"]
    pg.psql(
        f"SELECT pg_stat_statements_reset((SELECT oid FROM pg_roles WHERE rolname = '{ROLE}'), "
        f"(SELECT oid FROM pg_database WHERE datname = '{db}'), 0)"
    )
    before = snapshot(dsn)
    run = run_measured(
        "db",
        pg.dsn(db, user=ROLE),
        "--analyze",
        "--log",
        str(audited_db["log"]),
        "--format",
        "json",
        "--top",
        "50",
        timeout=180,
    )
    _wait_for_audit_backends_to_exit(dsn)
    after = snapshot(dsn)
    assert not run.timed_out and not run.has_traceback() and not run.internal_error(), run
    assert run.code in (0, 1), run
    assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    victim = audited_db["victim"]
    assert victim.execute("SELECT 1").fetchone() == (1,), "the victim backend was terminated"
    statements = [_code_only(s) for s in _role_statements(dsn, db, ROLE)]
    assert statements, "pg_stat_statements saw nothing from the audit role"
    bad = [s for s in statements if not ALLOWED_START.match(s) or WRITE_WORD.search(s)]
    assert not bad, "the audit role ran statements other than SELECT/EXPLAIN/SET/SHOW:\n" + "\n".join(bad[:20])
    rep = run.report() or {}
    assert rep.get("stats", {}).get("explained", 0) >= 1, rep.get("stats")
    # HypoPG was there, so index advice is verified with hypothetical indexes (session-local).
    assert audited_db["hypopg"]
    assert any(f["rule"].startswith("db.plan.") for f in rep.get("findings", [])), rep


def test_restricted_role_still_gets_a_useful_report(pg: pgcluster.Cluster, fresh_db: Callable[..., str]) -> None:
    dsn = fresh_db(SCHEMA)
    db = _dbname(dsn)
    _ensure_role(pg, ROLE_MIN, stats=False)
    pg.psql(
        "REVOKE ALL ON pg_stat_statements FROM PUBLIC; "
        "REVOKE EXECUTE ON FUNCTION pg_stat_statements(boolean) FROM PUBLIC; "
        f"GRANT SELECT ON users TO {ROLE_MIN}",
        db,
    )
    before = snapshot(dsn)
    run = run_measured("db", pg.dsn(db, user=ROLE_MIN), "--analyze", "--format", "json", timeout=120)
    _wait_for_audit_backends_to_exit(dsn)
    after = snapshot(dsn)
    assert not run.timed_out and not run.has_traceback() and not run.internal_error(), run
    assert run.code in (0, 1), f"a restricted role must still get a report (not exit {run.code}): {run!r}"
    rep = run.report() or {}
    database = [c for c in rep.get("checklist", []) if c.get("section") == "database"]
    assert any(c["status"] != "not_assessed" for c in database), database
    # It must say what it could not see.
    assert re.search(r"pg_stat_statements|permission|privilege", str(rep.get("errors")) + str(database), re.I), rep
    assert after == before


def test_audit_refuses_to_run_with_a_superuser_write_attempt_in_dsn_options(
    pg: pgcluster.Cluster, fresh_db: Callable[..., str]
) -> None:
    # A DSN that tries to switch read-only off at startup must not win over the audit's own options.
    dsn = fresh_db(SCHEMA)
    hostile = dsn + "?options=-c%20default_transaction_read_only%3Doff"
    before = snapshot(dsn)
    log = Path(pg.base) / "w.sql"
    log.write_text("WITH x AS (DELETE FROM orders RETURNING 1) SELECT count(*) FROM x;\n" * 3)
    run = run_measured("db", hostile, "--analyze", "--log", str(log), "--format", "json", timeout=120)
    _wait_for_audit_backends_to_exit(dsn)
    after = snapshot(dsn)
    assert not run.has_traceback() and not run.internal_error(), run
    assert after == before


def test_locked_table_and_endless_query_cannot_hang_the_audit(
    pg: pgcluster.Cluster, fresh_db: Callable[..., str], tmp_path: Path
) -> None:
    """Another session holds ACCESS EXCLUSIVE on a table the workload reads, and the workload holds a
    query that would run for hours: lock_timeout and statement_timeout must end both, and the report
    must say so (DESIGN.md "Safety": statement_timeout, lock_timeout on every session)."""
    dsn = fresh_db(SCHEMA)
    db = _dbname(dsn)
    _ensure_role(pg, ROLE, stats=True)
    pg.psql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ROLE}", db)
    log = tmp_path / "slow.sql"
    log.write_text(
        "SELECT count(*) FROM generate_series(1, 100000000000) a;\n" * 3
        + "SELECT * FROM orders WHERE user_id = 5;\n" * 5
    )
    locker = psycopg.connect(dsn)
    try:
        locker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")  # held: the transaction stays open
        run = run_measured(
            "db",
            pg.dsn(db, user=ROLE),
            "--analyze",
            "--log",
            str(log),
            "--format",
            "json",
            "--statement-timeout",
            "2000",
            timeout=120,
        )
    finally:
        locker.rollback()
        locker.close()
    assert not run.timed_out and not run.has_traceback() and not run.internal_error(), run
    assert run.wall_s < 60, run
    assert run.code in (0, 1, 3), run
    # The lock timeout must reach the report's errors (not only measurements), so every format shows it.
    text = (run.stderr + json.dumps((run.report() or {}).get("errors", []))).lower()
    assert re.search(r"lock|timeout|cancel", text), run
