"""Hostile identifiers in the audited database: table and column names that carry SQL and markup.

The fix a finding proposes is SQL a user will copy and run. Here it is run: every fix in the report
must execute as exactly the one statement it claims to be (the victim table survives), and the
identifiers must be quoted, not interpolated (PostgreSQL docs §4.1.1, quoted identifiers).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import psycopg
import sqlglot
from sqlglot import exp

from apiaudit import pgcluster
from hostile.measure import run_measured

T = "weird; DROP TABLE victim; --"
C = 'user id")); DROP TABLE victim; --'
H = "<script>alert(1)</script>"


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


SCHEMA = f"""
CREATE TABLE victim (id int PRIMARY KEY);
CREATE TABLE users (id serial PRIMARY KEY, email text);
CREATE TABLE {q(T)} (id serial PRIMARY KEY, {q(C)} int REFERENCES users(id), {q(H)} text);
INSERT INTO users (email) SELECT 'u' || g FROM generate_series(1, 2000) g;
INSERT INTO {q(T)} ({q(C)}, {q(H)}) SELECT 1 + g % 2000, 'x' || g FROM generate_series(1, 30000) g;
ANALYZE;
"""


def test_fix_sql_for_hostile_identifiers_is_one_quoted_statement(
    pg: pgcluster.Cluster, fresh_db: Callable[..., str], hypopg_available: bool, tmp_path: Path
) -> None:
    dsn = fresh_db(SCHEMA)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        for i in range(20):  # a workload on the hostile table for the EXPLAIN advisor
            conn.execute(f"SELECT * FROM {q(T)} WHERE {q(H)} = %s", (f"x{i}",))
    out = tmp_path / "out"
    run = run_measured(
        "db",
        dsn,
        "--format",
        "json",
        "--format",
        "html",
        "--output-dir",
        str(out),
        "--top",
        "50",
        cwd=tmp_path,
        timeout=120,
    )
    assert run.code in (0, 1) and not run.has_traceback() and not run.internal_error(), run
    assert "<script>alert(1)" not in (out / "report.html").read_text(), "table/column name not escaped in HTML"
    rep = json.loads((out / "report.json").read_text())
    fixes = [f["fix"] for f in rep["findings"] if T in json.dumps(f["location"])]
    statements = [s for fix in fixes for s in _sql_in(fix)]
    assert statements, f"no fix SQL for the hostile table: {fixes}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in statements:
            parsed = [p for p in sqlglot.parse(sql, read="postgres") if p is not None]
            assert len(parsed) == 1 and isinstance(parsed[0], exp.Create), sql
            conn.execute(sql)  # the user runs the advice
        assert conn.execute("SELECT to_regclass('public.victim') IS NOT NULL").fetchone() == (True,)
        made = conn.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", (T,)).fetchone()
        assert made is not None and made[0] >= 2, "the fix did not create the index it promised"


def _sql_in(fix: str) -> list[str]:
    """CREATE INDEX statements in a fix text (up to the ';' that ends them outside quotes)."""
    out = []
    for m in re.finditer(r"CREATE INDEX", fix):
        i, in_q = m.start(), False
        for j in range(m.start(), len(fix)):
            if fix[j] == '"':
                in_q = not in_q
            elif fix[j] == ";" and not in_q:
                out.append(fix[i:j])
                break
    return out
