"""EXPLAIN must not run the audited database's own code (issue 12 item 2).

The unprivileged owner defines functions that record a call (a file in the data directory, which
only a superuser caller can write: the auditor) behind every door planning or EXPLAIN ANALYZE opens:
a lying IMMUTABLE function in WHERE (constant-folded), the same inside a view, a user-defined
operator, a cast function, a domain CHECK (executed by --analyze), an index expression the planner
folds when it loads the table's indexes, and a VOLATILE function behind a view with --analyze.
Each statement must be reported "not explained: calls user-defined code", nothing recorded; with
--explain-user-functions the trap fires (so the test would fail without the check).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psycopg
import pytest

from apiaudit import pgcluster
from hostile.measure import run_measured

OWNER = "coder"
MARK = "apiaudit_usercode_call_"


def _app_sql() -> str:
    rec = f"""
CREATE FUNCTION public.rec(kind text) RETURNS int LANGUAGE plpgsql VOLATILE AS $f$
BEGIN
  BEGIN
    EXECUTE pg_catalog.format('COPY (SELECT 1) TO %L', pg_catalog.concat(
      pg_catalog.current_setting('data_directory'), '/{MARK}', kind, '_', pg_catalog.md5(pg_catalog.random()::text)));
  EXCEPTION WHEN others THEN NULL;  -- the owner itself cannot write files: only the auditor (superuser) can
  END;
  RETURN 1;
END $f$;
"""
    return rec + """
CREATE TABLE customers (id int PRIMARY KEY, email text);
INSERT INTO customers SELECT g, 'u' || g || '@x.test' FROM generate_series(1, 5000) g;
CREATE FUNCTION public.tenant_id() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN PERFORM public.rec('immutable'); RETURN 1; END $f$;
CREATE FUNCTION public.view_floor() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN PERFORM public.rec('view_immutable'); RETURN 1; END $f$;
CREATE VIEW recent AS SELECT * FROM customers WHERE id > public.view_floor();
CREATE VIEW recent2 AS SELECT * FROM recent;  -- recursively through views
CREATE FUNCTION public.touch() RETURNS int LANGUAGE plpgsql VOLATILE AS $f$
BEGIN PERFORM public.rec('view_volatile'); RETURN 1; END $f$;
CREATE VIEW customer_list AS SELECT c.*, public.touch() AS t FROM customers c;
CREATE FUNCTION public.same(int, text) RETURNS bool LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN PERFORM public.rec('operator'); RETURN $1::text = $2; END $f$;
CREATE OPERATOR public.&& (LEFTARG = int, RIGHTARG = text, FUNCTION = public.same);
CREATE TYPE public.tenant AS (id int);
CREATE FUNCTION public.to_tenant(int) RETURNS public.tenant LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN PERFORM public.rec('cast'); RETURN ROW($1)::public.tenant; END $f$;
CREATE CAST (int AS public.tenant) WITH FUNCTION public.to_tenant(int);
CREATE FUNCTION public.positive(int) RETURNS bool LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN PERFORM public.rec('domain'); RETURN $1 > 0; END $f$;
CREATE DOMAIN public.customer_id AS int CHECK (public.positive(VALUE));
CREATE FUNCTION public.shard() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN PERFORM public.rec('index_expression'); RETURN 0; END $f$;
CREATE TABLE gadgets (id int PRIMARY KEY, owner int);
INSERT INTO gadgets SELECT g, g % 100 FROM generate_series(1, 3000) g;
CREATE INDEX gadgets_shard ON gadgets ((owner + public.shard()));
ANALYZE;
"""


TRAPS = {
    "immutable": "SELECT * FROM customers WHERE email = 'a@b' AND id > tenant_id()",
    "view_immutable": "SELECT id, email FROM recent2 WHERE email = 'u7@x.test'",
    "operator": "SELECT * FROM customers WHERE 5 && '5'",
    "cast": "SELECT * FROM customers WHERE (5::tenant) IS NOT NULL",
    "domain": "SELECT * FROM customers WHERE id = 5::customer_id",
    "index_expression": "SELECT * FROM gadgets WHERE id = 7",
    "view_volatile": "SELECT id, email FROM customer_list",
}
LEGIT = "SELECT * FROM customers WHERE email = 'u9@x.test'"


def _calls(pg: pgcluster.Cluster) -> list[str]:
    return sorted(p.name[len(MARK):].rsplit("_", 1)[0] for p in pg.datadir.glob(f"{MARK}*"))


@pytest.fixture
def trapped(pg: pgcluster.Cluster, tmp_path: Path) -> dict[str, Any]:
    db = f"usercode_{os.getpid()}_{len(list(tmp_path.parent.iterdir()))}"
    pg.psql(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER}') THEN "
            f"CREATE ROLE {OWNER} LOGIN; END IF; END $$")
    pg.psql(f'CREATE DATABASE "{db}" OWNER {OWNER}')
    with psycopg.connect(pg.dsn(db, user=OWNER), autocommit=True) as conn:
        conn.execute(_app_sql())
    for p in pg.datadir.glob(f"{MARK}*"):
        p.unlink()
    log = tmp_path / "workload.sql"
    log.write_text("".join(f"{s};\n" for s in [*TRAPS.values(), LEGIT]))
    return {"dsn": pg.dsn(db), "log": log}


def _plans(run: Any) -> dict[str, dict[str, Any]]:
    rep = run.report() or {}
    top = {q["fingerprint"]: q["sample"] for q in rep.get("measurements", {}).get("top_queries", [])}
    return {top.get(p["fingerprint"], p["fingerprint"]): p for p in rep["measurements"]["plans"]}


@pytest.mark.parametrize("analyze", [False, True], ids=["explain", "analyze"])
def test_statements_reaching_user_code_are_reported_and_never_planned(
    pg: pgcluster.Cluster, trapped: dict[str, Any], analyze: bool
) -> None:
    extra = ["--analyze"] if analyze else []
    run = run_measured("db", trapped["dsn"], "--log", str(trapped["log"]), *extra, "--format", "json",
                       "--top", "20", timeout=120)
    assert not run.has_traceback() and not run.internal_error() and run.code in (0, 1), run
    assert _calls(pg) == [], "the audit ran the database's own code"
    plans = _plans(run)
    reasons = " ".join(p["refused"] or "" for p in plans.values())
    for name in ("tenant_id", "view_floor", "touch", "same", "to_tenant", "positive", "shard"):
        assert f"public.{name}" in reasons, (name, reasons)
    assert sum("user-defined code" in (p["refused"] or "") for p in plans.values()) == len(TRAPS), plans
    assert sum(p["refused"] is None and p["error"] is None for p in plans.values()) == 1, plans  # LEGIT
    notes = " ".join(e["message"] for e in (run.report() or {})["errors"])
    assert "--explain-user-functions" in notes, notes


def test_the_traps_are_live_with_explain_user_functions(pg: pgcluster.Cluster, trapped: dict[str, Any]) -> None:
    """The opt-in switch EXPLAINs them: planning then runs the lying IMMUTABLE functions."""
    run = run_measured("db", trapped["dsn"], "--log", str(trapped["log"]), "--explain-user-functions",
                       "--format", "json", timeout=120)
    assert run.code in (0, 1), run
    called = set(_calls(pg))
    assert {"immutable", "view_immutable", "index_expression"} <= called, called
    assert not any("user-defined code" in (p["refused"] or "") for p in _plans(run).values())


def test_schema_per_tenant_search_path_from_the_dsn_and_pgoptions(
    pg: pgcluster.Cluster, tmp_path: Path
) -> None:
    db = f"tenants_{os.getpid()}"
    pg.psql(f'CREATE DATABASE "{db}"')
    pg.psql(
        "CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b;"
        "CREATE TABLE tenant_a.orders (id int PRIMARY KEY, customer_id int, note text);"
        "INSERT INTO tenant_a.orders SELECT g, g % 500, 'n' FROM generate_series(1, 20000) g;"
        "CREATE TABLE tenant_b.orders (id int PRIMARY KEY, customer_id int, note text); ANALYZE;",
        db,
    )
    log = tmp_path / "tenant.sql"
    log.write_text("SELECT * FROM orders WHERE customer_id = 42;\n" * 3)

    def plan(dsn: str, env: dict[str, str] | None = None) -> dict[str, Any]:
        run = run_measured("db", dsn, "--log", str(log), "--format", "json", timeout=120, env=env)
        assert run.code in (0, 1), run
        plans = (run.report() or {})["measurements"]["plans"]
        assert len(plans) == 1, plans
        return plans[0]

    bare = plan(pg.dsn(db))  # "$user", public: the app's table is not found
    assert bare["error"] and "orders" in bare["error"], bare
    with_options = plan(pg.dsn(db) + "?options=-c%20search_path%3Dtenant_a")
    assert with_options["error"] is None and with_options["refused"] is None, with_options
    assert with_options["cost"] and with_options["cost"] > 100, with_options  # 20,000 rows scanned
    from_env = plan(pg.dsn(db), env={"PGOPTIONS": "-c search_path=tenant_a,public"})
    assert from_env["error"] is None and from_env["cost"] == with_options["cost"], from_env
