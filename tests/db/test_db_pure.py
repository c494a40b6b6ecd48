"""Pure parts of the db audit on hand-built evidence: statement safety, candidate derivation, plan
reading, anti-patterns, cache hit rate, read replicas, identifier quoting."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from apiaudit.assemble import resolve
from apiaudit.checks import CheckContext, run_checks
from apiaudit.db.candidates import index_sql, table_uses
from apiaudit.db.evidence import DbEvidence
from apiaudit.db.naming import quote_ident
from apiaudit.db.plan import find_issues
from apiaudit.db.safety import judge, judge_volatility
from apiaudit.db.sqlparse import parse_one
from apiaudit.db.workload import WorkloadQuery

from .conftest import UNFILLED, make_config


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", "DELETE"),
        ("WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x", "UPDATE"),
        ("SELECT nextval('s')", "nextval"),
        ("SELECT setval('s', 5)", "setval"),
        ("SELECT pg_terminate_backend($1)", "pg_terminate_backend"),
        ("SELECT pg_cancel_backend(pid) FROM pg_stat_activity", "pg_cancel_backend"),
        ("SELECT 1; SELECT 2", "2 statements"),
        ("SELECT 1; DELETE FROM t", "2 statements"),
        ("INSERT INTO t VALUES ($1)", "INSERT"),
        ("UPDATE t SET a = $1", "UPDATE"),
        ("DELETE FROM t", "DELETE"),
        ("CREATE TABLE t2 (a int)", "CREATE"),
        ("DROP TABLE t", "DROP"),
        ("VACUUM t", "COMMAND"),
        ("SELECT * INTO t2 FROM t", "INTO"),
        ("SELECT * FROM t FOR UPDATE", "FOR UPDATE"),
        ("SELECT a FROM t ORDER BY a USING >", "not parseable"),
    ],
)
def test_refused(sql: str, fragment: str) -> None:
    verdict = judge(sql)
    assert not verdict.ok and fragment in verdict.reason


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT a FROM t WHERE b = $1",
        "WITH x AS (SELECT a FROM t) SELECT * FROM x",
        "SELECT a FROM t UNION ALL SELECT a FROM u",
        "SELECT * FROM t ORDER BY random() LIMIT $1",
        "SELECT a FROM t WHERE c IN ($2,$3)",
    ],
)
def test_allowed(sql: str) -> None:
    assert judge(sql).ok


def test_volatile_functions_from_the_catalog_are_refused() -> None:
    verdict = judge("SELECT audit_log($1), random()")
    assert verdict.ok
    assert not judge_volatility(verdict, {"audit_log", "random"}, analyze=False).ok
    assert judge_volatility(judge("SELECT random()"), {"random"}, analyze=False).ok  # planning is harmless
    assert not judge_volatility(judge("SELECT random()"), {"random"}, analyze=True).ok  # executing is not


def _uses(sql: str) -> dict[str, Any]:
    return {u.table: (u.columns(), u.partial) for u in table_uses(parse_one(sql))}


def test_candidates_equality_then_range_then_order() -> None:
    assert _uses("SELECT * FROM o WHERE created > $2 AND $1 = customer_id ORDER BY created LIMIT 10") == {
        "o": (["customer_id", "created"], [])
    }
    assert _uses("SELECT * FROM o WHERE status IN ($1, $2) ORDER BY created, id LIMIT 5") == {
        "o": (["status", "created", "id"], [])
    }
    assert _uses("SELECT * FROM u WHERE deleted_at IS NULL AND org_id = $1") == {
        "u": (["org_id"], ["deleted_at IS NULL"])
    }
    assert _uses("SELECT * FROM u WHERE active AND email IS NOT NULL AND org_id = $1") == {
        "u": (["org_id"], ["active", "email IS NOT NULL"])
    }
    assert _uses("SELECT * FROM u WHERE NOT archived ORDER BY created LIMIT $1") == {
        "u": (["created"], ["NOT archived"])
    }


def test_candidates_join_keys_for_the_inner_side() -> None:
    got = _uses("SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = $1")
    assert got == {"orders": (["customer_id"], []), "customers": (["email"], [])}


def test_index_sql_quotes_identifiers() -> None:
    assert index_sql("public", "PlaylistTrack", ["TrackId"], None, concurrently=True) == (
        'CREATE INDEX CONCURRENTLY ON public."PlaylistTrack" ("TrackId")'
    )
    assert quote_ident("order") == '"order"' and quote_ident("orders") == "orders"


def test_plan_issues() -> None:
    plan = {
        "Node Type": "Limit",
        "Plans": [
            {
                "Node Type": "Sort",
                "Sort Key": ["created"],
                "Total Cost": 10.0,
                "Plans": [
                    {
                        "Node Type": "Seq Scan",
                        "Relation Name": "big",
                        "Schema": "public",
                        "Filter": "(a = $1)",
                    },
                    {
                        "Node Type": "Seq Scan",
                        "Relation Name": "tiny",
                        "Schema": "public",
                        "Filter": "(b = $2)",
                    },
                ],
            }
        ],
    }
    issues = find_issues(plan, {("public", "big"): 5000, ("public", "tiny"): 10}, 1000)
    assert [(i["kind"], i.get("table")) for i in issues] == [("sort_limit", None), ("seq_scan_filter", "big")]


def _run(ev: DbEvidence, **thresholds: float) -> dict[str, list[Any]]:
    cfg = make_config(thresholds)
    run = run_checks("db", ev, CheckContext(ruleset=cfg.ruleset, thresholds=cfg.thresholds))
    for r in resolve(run.findings, cfg.ruleset):  # templates fully filled by the checks' vars
        assert not UNFILLED.search(r.message + r.fix), (r.rule, r.message, r.fix)
    out: dict[str, list[Any]] = {}
    for f in run.findings:
        out.setdefault(f.rule_id, []).append(f)
    return out


def _q(sample: str, calls: int = 10, rows: int = 10) -> WorkloadQuery:
    return WorkloadQuery(_fp(sample), sample, calls, "pg_stat_statements", total_ms=1.0, rows=rows)


def _fp(sample: str) -> str:
    return hashlib.sha1(sample.encode()).hexdigest()[:16]


def _table(name: str, ncols: int = 3) -> dict[str, Any]:
    return {
        "schema": "public",
        "table": name,
        "oid": 1,
        "relkind": "r",
        "rows": 10,
        "ncols": ncols,
        "seq_scan": 0,
        "idx_scan": 0,
        "seq_tup_read": 0,
        "idx_tup_fetch": 0,
        "n_tup_ins": 0,
        "n_tup_upd": 0,
        "n_tup_del": 0,
        "n_tup_hot_upd": 0,
        "parent_oid": None,
    }


def test_antipatterns() -> None:
    ev = DbEvidence(target="x", tables=[_table("wide", 12), _table("narrow", 3)])
    ev.workload = [
        _q("SELECT * FROM wide WHERE id = $1"),
        _q("SELECT * FROM narrow WHERE id = $1"),
        _q("SELECT id, name FROM wide", calls=10, rows=50_000),
        _q("SELECT id FROM narrow", calls=2, rows=20_000),
        _q("SELECT id FROM wide ORDER BY id LIMIT $1 OFFSET $2"),
        _q("SELECT id FROM wide ORDER BY id LIMIT 10 OFFSET 5000"),
        _q("SELECT id FROM narrow WHERE name LIKE '%son'"),
        _q("SELECT id FROM narrow WHERE lower(email) = $1"),
        _q("SELECT id FROM narrow ORDER BY random() LIMIT $1"),
        _q("SELECT count(*) FROM wide", rows=10),
    ]
    in_list = "SELECT id FROM t WHERE id IN ($1)"
    ev.raw_samples = {_fp(in_list): "SELECT id FROM t WHERE id IN (" + ", ".join(f"${i}" for i in range(1, 202)) + ")"}
    ev.workload.append(_q(in_list))
    found = _run(ev)
    assert [f.vars["table_name"] for f in found["db.query.select-star"]] == ["wide"]
    assert {f.location["sample"] for f in found["db.query.no-limit"]} == {
        "SELECT id, name FROM wide",
        "SELECT id FROM narrow",
    }
    assert [f.location["sample"] for f in found["db.query.count-by-fetch"]] == ["SELECT id FROM narrow"]
    assert {f.vars["offset_text"] for f in found["db.query.offset-pagination"]} == {
        "with a parameter",
        "5000",
    }
    assert [f.vars["column"] for f in found["db.query.leading-wildcard"]] == ["name"]
    assert [f.vars["expression"] for f in found["db.query.function-on-column"]] == ["LOWER(email)"]
    assert len(found["db.query.order-by-random"]) == 1
    assert [f.vars["values"] for f in found["db.query.huge-in-list"]] == [201]


def _server(**kw: Any) -> dict[str, Any]:
    return {
        "database": "shop",
        "version_num": 150000,
        "in_recovery": False,
        "replicas": 0,
        "stats_age_s": None,
        "heap_hit": 0,
        "heap_read": 0,
        "idx_hit": 0,
        "idx_read": 0,
        **kw,
    }


def test_cache_hit_rate_thresholds() -> None:
    found = _run(DbEvidence(target="x", server=_server(heap_hit=700, heap_read=300, idx_hit=400, idx_read=600)))
    assert [f.location["scope"] for f in found["db.cache.hit-rate-low"]] == ["tables"]  # 70 %: warn
    assert [f.location["scope"] for f in found["db.cache.hit-rate-critical"]] == ["indexes"]  # 40 %: critical
    found = _run(DbEvidence(target="x", server=_server(heap_hit=990, heap_read=10, idx_hit=999, idx_read=1)))
    assert "db.cache.hit-rate-low" not in found and "db.cache.hit-rate-critical" not in found


def test_read_replica_advice() -> None:
    reads = [_q("SELECT a FROM t WHERE id = $1", calls=9500), _q("UPDATE t SET a = $1", calls=500)]
    assert "db.replica.read-heavy-no-replica" in _run(DbEvidence(target="x", server=_server(), statements=reads))
    assert "db.replica.read-heavy-no-replica" not in _run(
        DbEvidence(target="x", server=_server(replicas=1), statements=reads)
    )
    mixed = [_q("SELECT a FROM t", calls=5000), _q("UPDATE t SET a = $1", calls=5000)]
    assert "db.replica.read-heavy-no-replica" not in _run(DbEvidence(target="x", server=_server(), statements=mixed))


def _activity(app: str, state: str, n: int, xact_age: float = 0.0, state_age: float = 0.0) -> dict[str, Any]:
    return {
        "application": app,
        "role": "app",
        "database": "shop",
        "state": state,
        "connections": n,
        "max_xact_age_s": xact_age,
        "max_state_age_s": state_age,
    }


def _settings(max_connections: int = 100, **per_level: str) -> list[dict[str, Any]]:
    rows = [
        {
            "level": "server",
            "role": None,
            "name": "max_connections",
            "setting": str(max_connections),
            "unit": None,
        }
    ]
    for name in ("idle_in_transaction_session_timeout", "statement_timeout"):
        rows.append({"level": "server", "role": None, "name": name, "setting": "0", "unit": "ms"})
    for name, value in per_level.items():
        rows.append({"level": "role", "role": "app", "name": name, "setting": value, "unit": None})
    return rows


def test_pool_checks_on_activity() -> None:
    ev = DbEvidence(
        target="x",
        server=_server(),
        settings=_settings(100),
        activity=[
            _activity("web", "idle", 60),
            _activity("web", "active", 25),
            _activity("worker", "idle in transaction", 2, 400, 90),
        ],
    )
    found = _run(ev)
    assert found["db.pool.connections-high"][0].vars["connections"] == 88  # 87 + this audit's session
    assert [f.location["application"] for f in found["db.pool.no-pool"]] == ["web"]  # 85 > 50
    assert found["db.pool.idle-connections"][0].vars["idle"] == 60
    assert [f.location["application"] for f in found["db.tx.idle-in-transaction"]] == ["worker"]
    assert [f.location["application"] for f in found["db.tx.long-running"]] == ["worker"]
    assert {"db.tx.no-idle-timeout", "db.tx.no-statement-timeout"} <= set(found)


def test_pool_checks_quiet_on_a_healthy_server() -> None:
    ev = DbEvidence(
        target="x",
        server=_server(),
        activity=[_activity("web", "idle", 10), _activity("web", "active", 5)],
        settings=_settings(200, idle_in_transaction_session_timeout="60s", statement_timeout="30s"),
    )
    found = _run(ev)
    assert not {r for r in found if r.startswith(("db.pool.", "db.tx."))}


def test_a_standby_has_replicas() -> None:
    reads = [_q("SELECT a FROM t WHERE id = $1", calls=9500), _q("UPDATE t SET a = $1", calls=500)]
    cfg = make_config()
    run = run_checks(
        "db",
        DbEvidence(target="x", server=_server(in_recovery=True), statements=reads),
        CheckContext(ruleset=cfg.ruleset, thresholds=cfg.thresholds),
    )
    assert "scaling.read_replicas" in run.covered
    assert not [f for f in run.findings if f.rule_id == "db.replica.read-heavy-no-replica"]


def test_an_empty_database_is_not_a_pass() -> None:
    cfg = make_config()
    ev = DbEvidence(target="x", server=_server(), tables=[], indexes=[], foreign_keys=[])
    run = run_checks("db", ev, CheckContext(ruleset=cfg.ruleset, thresholds=cfg.thresholds))
    assert "database.indexes" not in run.covered
    assert run.reasons.get("database.indexes") == "no tables in the audited schemas"
