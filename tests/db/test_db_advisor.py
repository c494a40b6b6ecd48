"""EXPLAIN on the real workload (pg_stat_statements), HypoPG verification both ways, PG 15 generic
plans for ``$n`` queries, refusals, --analyze and a statement timeout mid-audit."""

from __future__ import annotations

import psycopg
import pytest

from apiaudit.db.connect import SessionSettings, apply_timeouts, connect
from apiaudit.db.evidence import DbEvidence
from apiaudit.db.explain import explain
from apiaudit.db.plan import walk

from .conftest import findings, tables_of

pytestmark = pytest.mark.pg

SCHEMA = """
CREATE TABLE parent (id int PRIMARY KEY, name text);
CREATE TABLE child (id int PRIMARY KEY, parent_id int, flag boolean, note text, created int);
INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 2000) g;
INSERT INTO child SELECT g, 1 + g % 2000, g % 2 = 0, 'n' || g, g FROM generate_series(1, 60000) g;
CREATE SEQUENCE counter;
ANALYZE;
"""
# Literals: pg_stat_statements stores them as $n, so the audit sees generic shapes.
WORKLOAD = """
SELECT id, note FROM child WHERE parent_id = 17;
SELECT id, note FROM child WHERE parent_id = 18;
SELECT id, note FROM child WHERE parent_id = 19;
SELECT count(*) FROM child WHERE flag = true;
SELECT count(*) FROM child WHERE flag = false;
SELECT id FROM child ORDER BY id USING > LIMIT 5;
"""
WRITES = """
WITH gone AS (DELETE FROM child WHERE id = 60000 RETURNING *) SELECT count(*) FROM gone;
SELECT nextval('counter');
"""


# Severity follows the time saved; these queries take a few ms, so the tests that look at the shape
# of the advice lower the bar (tests/db/test_index_advisor.py covers the severity itself).
ANY_GAIN_IS_HIGH = {"db_index_high_call_ms": 0, "db_index_high_total_ms": 0}


def _load(pg, fresh_db, *, hypopg: bool) -> str:  # type: ignore[no-untyped-def]
    dsn = fresh_db(SCHEMA + ("CREATE EXTENSION hypopg;" if hypopg else ""))
    db = dsn.rsplit("/", 1)[1]
    pg.psql("SELECT pg_stat_statements_reset()", db)
    pg.psql(WORKLOAD, db)
    pg.psql(WRITES, db)
    return dsn


def _plan_for(report, needle: str) -> dict:  # type: ignore[no-untyped-def]
    by_fp = {w["fingerprint"]: w["sample"] for w in report.workload}
    return next(p for p in report.measurements["plans"] if needle in by_fp[p["fingerprint"]])


def test_hypopg_keeps_the_index_that_cuts_cost(pg, fresh_db, audit, hypopg_available) -> None:  # type: ignore[no-untyped-def]
    dsn = _load(pg, fresh_db, hypopg=True)
    report = audit(dsn, thresholds=ANY_GAIN_IS_HIGH)
    (f,) = findings(report, "db.plan.missing-index")
    assert f.location == {"schema": "public", "table": "child", "columns": ["parent_id"]}
    assert f.fix == "CREATE INDEX CONCURRENTLY ON public.child (parent_id);"
    assert f.evidence["cost_after"] <= 0.5 * f.evidence["cost_before"]
    # flag = $1: the generic plan expects half the rows; an index on a boolean does not help and
    # HypoPG shows no cost drop, so nothing is reported for it.
    flag = _plan_for(report, "flag")
    assert flag["candidates"] and all(c["verified"] is False for c in flag["candidates"])
    assert findings(report, "db.plan.index-candidate") == []


def test_cost_drop_threshold_decides(pg, fresh_db, audit, hypopg_available) -> None:  # type: ignore[no-untyped-def]
    dsn = _load(pg, fresh_db, hypopg=True)
    report = audit(dsn, thresholds={"db_min_cost_drop_pct": 100})  # no index makes a plan free
    assert findings(report, "db.plan.missing-index") == []
    plan = _plan_for(report, "parent_id")
    assert [c["verified"] for c in plan["candidates"]] == [False]
    assert plan["candidates"][0]["cost_after"] < plan["candidates"][0]["cost_before"]


def test_without_hypopg_candidates_are_unverified_with_a_notice(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = _load(pg, fresh_db, hypopg=False)
    report = audit(dsn)
    assert findings(report, "db.plan.missing-index") == []
    # parent_id (2000 distinct values) is kept; flag (2 distinct values per pg_stats) is dropped.
    assert tables_of(report, "db.plan.index-candidate") == {("public", "child", ("parent_id",))}
    (f,) = findings(report, "db.plan.index-candidate")
    assert f.severity.label == "low" and f.evidence["confidence"] == "low"
    assert any("HypoPG is not installed" in e["message"] for e in report.errors if e["where"] == "notice")


def test_writes_in_the_workload_are_refused_and_not_run(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = _load(pg, fresh_db, hypopg=False)
    db = dsn.rsplit("/", 1)[1]
    before = pg.psql("SELECT count(*) FROM child; SELECT last_value FROM counter", db)
    report = audit(dsn, analyze=True)
    assert pg.psql("SELECT count(*) FROM child; SELECT last_value FROM counter", db) == before
    refused = {p["refused"] for p in report.measurements["plans"] if p["refused"]}
    assert any("DELETE" in r for r in refused)
    assert any("nextval" in r for r in refused)


def test_unparseable_query_is_kept_and_said(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = _load(pg, fresh_db, hypopg=False)
    report = audit(dsn)
    assert any("USING >" in w["sample"] for w in report.workload)  # kept in the workload
    plan = _plan_for(report, "USING >")
    assert plan["refused"].startswith("not parseable")
    assert any("could not be parsed by sqlglot" in e["message"] for e in report.errors)


def test_pg15_generic_plan_for_placeholders(pg, fresh_db) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db(SCHEMA)
    conn = connect(dsn, SessionSettings())
    try:
        version = int(conn.info.server_version)
        node = explain(conn, "SELECT id FROM child WHERE parent_id = $1 AND created IN ($2, $3)", version)
        scans = [n for n, _ in walk(node) if n.get("Relation Name") == "child"]
        assert scans and "parent_id = $1" in scans[0]["Filter"]  # a generic plan keeps the placeholders
        node = explain(conn, "SELECT id FROM child WHERE id = $1", version)
        assert any(n.get("Index Name") == "child_pkey" for n, _ in walk(node))
        with conn.cursor() as cur:  # the prepared statement did not survive the rolled-back transaction
            cur.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cur.fetchone()[0] == 0
    finally:
        conn.close()


def test_analyze_runs_only_plain_selects(pg, fresh_db) -> None:  # type: ignore[no-untyped-def]
    from apiaudit.db.advisor import AdvisorOptions, advise_one
    from apiaudit.db.workload import WorkloadQuery

    dsn = fresh_db(SCHEMA)
    conn = connect(dsn, SessionSettings())
    ev = DbEvidence(target="x", server={}, tables=[], indexes=[])
    opts = AdvisorOptions(analyze=True)
    try:
        plain = WorkloadQuery("a", "SELECT count(*) FROM child", 1, "pg_stat_statements")
        cte = WorkloadQuery(
            "b", "WITH c AS (SELECT id FROM child) SELECT count(*) FROM c", 1, "pg_stat_statements"
        )
        param = WorkloadQuery("c", "SELECT count(*) FROM child WHERE id > $1", 1, "pg_stat_statements")
        assert advise_one(conn, plain, ev, 150000, set(), opts).analyzed["actual_rows"] == 1
        assert advise_one(conn, cte, ev, 150000, set(), opts).analyzed is None
        assert advise_one(conn, param, ev, 150000, set(), opts).analyzed is None
    finally:
        conn.close()


def test_statement_timeout_mid_audit_goes_on(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db("""
    CREATE TABLE parent (id int PRIMARY KEY);
    CREATE TABLE kid (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
    CREATE TABLE x (i int);
    """)
    db = dsn.rsplit("/", 1)[1]
    pg.psql("SELECT pg_stat_statements_reset()", db)
    pg.psql("SELECT count(*) FROM x a CROSS JOIN x b", db)  # no constant: --analyze may run it
    pg.psql("INSERT INTO x SELECT generate_series(1, 6000)", db)  # now 36M rows: far beyond 300 ms
    report = audit(dsn, analyze=True, statement_timeout_ms=300)
    plan = next(p for p in report.measurements["plans"] if p["error"])
    assert "statement timeout" in plan["error"]
    assert tables_of(report, "db.fk.unindexed-small") == {("public", "kid", ("parent_id",))}


def test_session_is_read_only_with_timeouts(fresh_db) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db()
    settings = SessionSettings(statement_timeout_ms=1234, lock_timeout_ms=567)
    conn = connect(dsn, settings)
    try:
        apply_timeouts(conn, settings)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT current_setting('default_transaction_read_only'),"
                " current_setting('statement_timeout'),"
                " current_setting('lock_timeout'), current_setting('application_name')"
            )
            assert cur.fetchone() == ("on", "1234ms", "567ms", "apiaudit")
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                cur.execute("CREATE TABLE nope (id int)")
    finally:
        conn.close()


def test_antipatterns_from_pg_stat_statements(pg, fresh_db, audit, pg_version) -> None:  # type: ignore[no-untyped-def]
    cols = ", ".join(f"c{i} int" for i in range(12))
    dsn = fresh_db(
        f"CREATE TABLE wide (id int PRIMARY KEY, {cols});INSERT INTO wide (id) SELECT generate_series(1, 50);"
    )
    db = dsn.rsplit("/", 1)[1]
    pg.psql("SELECT pg_stat_statements_reset()", db)
    in_list = ", ".join(str(i) for i in range(1, 151))
    pg.psql(
        f"SELECT * FROM wide WHERE id = 3; SELECT id FROM wide WHERE id IN ({in_list});"
        "SELECT id FROM wide ORDER BY random() LIMIT 3;",
        db,
    )
    report = audit(dsn)
    # PostgreSQL 18's pg_stat_statements squashes a constant list to "IN ($1 /*, ... */)": no count.
    expected = [] if pg_version >= 180000 else [{"values": 150}]
    assert [f.evidence for f in findings(report, "db.query.huge-in-list")] == expected
    (star,) = findings(report, "db.query.select-star")
    assert "wide where id = $1" in star.location["sample"].lower()
    assert len(findings(report, "db.query.order-by-random")) == 1


def test_partial_index_candidate_from_a_constant_predicate(pg, fresh_db, audit, hypopg_available) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db("""
    CREATE EXTENSION hypopg;
    CREATE TABLE account (id int PRIMARY KEY, org_id int, active boolean, note text);
    INSERT INTO account SELECT g, g % 3000, g % 100 = 0, 'n' FROM generate_series(1, 60000) g;
    ANALYZE;
    """)
    db = dsn.rsplit("/", 1)[1]
    pg.psql("SELECT pg_stat_statements_reset()", db)
    pg.psql("SELECT id, note FROM account WHERE active AND org_id = 300", db)
    (f,) = findings(audit(dsn, thresholds=ANY_GAIN_IS_HIGH), "db.plan.missing-index")
    assert f.fix == "CREATE INDEX CONCURRENTLY ON public.account (org_id) WHERE active;"


def test_refused_statements_leave_the_explain_slots_to_selects_and_failures_reach_errors(  # type: ignore[no-untyped-def]
    pg, fresh_db, audit, tmp_path
) -> None:
    # pg_stat_statements ranks the setup DDL and writes (timed) above a log's SELECT (no timings);
    # with --top 3, refused statements must not use the EXPLAIN slots (H18).
    dsn = fresh_db(SCHEMA + "CREATE TABLE t1 (a int); CREATE TABLE t2 (a int); CREATE TABLE t3 (a int);")
    log = tmp_path / "w.sql"
    log.write_text("SELECT name FROM parent WHERE id = 7;\n" * 3)
    locker = psycopg.connect(dsn)
    try:
        locker.execute("LOCK TABLE parent IN ACCESS EXCLUSIVE MODE")  # held until the rollback below
        report = audit(dsn, logs=[str(log)], top=3, db={"lock_timeout_ms": 200})
    finally:
        locker.rollback()
        locker.close()
    plan = _plan_for(report, "FROM parent WHERE")
    assert plan["refused"] is None and "lock timeout" in plan["error"]
    assert sum(1 for p in report.measurements["plans"] if not p["refused"]) <= 3
    assert [w["source"] for w in report.workload[:5]] == ["pg_stat_statements"] * 5  # the log's SELECT ranks late
    (err,) = [e for e in report.errors if e["where"] == f"explain {plan['fingerprint']}"]
    assert err["message"].startswith("not EXPLAINed: LockNotAvailable") and "FROM parent WHERE" in err["message"]

