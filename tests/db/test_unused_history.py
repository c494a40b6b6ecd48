"""Unused-index DROP advice needs a statistics history (issue 15 point 9): never on a NULL or young
stats_reset, never on a standby, a replica warning on a primary with replicas, and never for an index
the advisor has just proposed."""

from __future__ import annotations

from typing import Any

import pytest

from apiaudit.checks import CheckContext, run_checks
from apiaudit.db.evidence import DbEvidence, PlanResult

from .conftest import findings, make_config

DAY = 86400.0


def _ev(**server: Any) -> DbEvidence:
    ix = {
        "schema": "public", "table": "orders", "index": "orders_status", "table_oid": 1, "key_columns": ["status"],
        "key_attnums": [2], "include_attnums": [], "opclasses": [1], "collations": [0], "options": [0],
        "expressions": None, "predicate": None, "method": "btree", "is_unique": False, "is_primary": False,
        "is_exclusion": False, "backs_constraint": False, "is_valid": True, "nkeys": 1, "idx_scan": 0,
        "bytes": 8192 * 100,
    }
    return DbEvidence(
        target="postgresql://x/db",
        server={"database": "db", "in_recovery": False, "replicas": 0, "stats_age_s": 30 * DAY, **server},
        tables=[{"schema": "public", "table": "orders", "oid": 1, "relkind": "r", "rows": 100_000}],
        indexes=[ix],
        foreign_keys=[],
        plans=[],
    )


def _rules(ev: DbEvidence) -> dict[str, list[Any]]:
    cfg = make_config()
    run = run_checks("db", ev, CheckContext(ruleset=cfg.ruleset, thresholds=cfg.thresholds))
    out: dict[str, list[Any]] = {}
    for f in run.findings:
        out.setdefault(f.rule_id, []).append(f)
    return out


@pytest.mark.parametrize(
    ("server", "reason"),
    [
        ({"stats_age_s": None}, "never reset"),
        ({"stats_age_s": 2 * DAY}, "only 2.0 days old"),
        ({"in_recovery": True}, "standby"),
    ],
)
def test_no_drop_advice_without_history(server: dict[str, Any], reason: str) -> None:
    got = _rules(_ev(**server))
    assert "db.index.unused" not in got
    (info,) = got["db.index.unused-unjudged"]
    assert reason in info.vars["reason"]


def test_old_enough_history_drops_and_warns_about_replicas() -> None:
    (plain,) = _rules(_ev())["db.index.unused"]
    assert plain.vars["replica_note"] == ""
    (with_replicas,) = _rules(_ev(replicas=2))["db.index.unused"]
    assert "2 replica(s) are connected" in with_replicas.vars["replica_note"]


def test_never_drop_what_the_advisor_proposes() -> None:
    ev = _ev()
    ev.plans = [PlanResult(fingerprint="f", sample="SELECT 1 FROM orders WHERE status = $1", calls=9,
                           candidates=[{"schema": "public", "table": "orders", "columns": ["status"],
                                        "verified": None}])]
    assert "db.index.unused" not in _rules(ev)


@pytest.mark.pg
def test_new_database_has_null_stats_reset_and_gets_no_drop_advice(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db("""
    CREATE TABLE orders (id int PRIMARY KEY, status text);
    INSERT INTO orders SELECT g, 's' || (g % 50) FROM generate_series(1, 5000) g;
    CREATE INDEX orders_status ON orders (status);
    ANALYZE orders;
    """)
    report = audit(dsn)
    assert findings(report, "db.index.unused") == []
    (info,) = findings(report, "db.index.unused-unjudged")
    assert "stats_reset is NULL" in info.message
