"""Connection pooling and transaction checks against live sessions and role/database settings."""

from __future__ import annotations

import time

import psycopg
import pytest

from .conftest import findings, status

pytestmark = pytest.mark.pg


def test_idle_in_transaction_long_transaction_and_no_pool(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db()
    leaky = psycopg.connect(dsn, application_name="leaky")
    crowd = [psycopg.connect(dsn, application_name="crowd", autocommit=True) for _ in range(4)]
    try:
        leaky.execute("SELECT 1")  # psycopg opens a transaction and leaves it open
        time.sleep(1.2)
        report = audit(
            dsn,
            thresholds={
                "db_idle_in_tx_max_s": 1,
                "db_long_xact_max_s": 1,
                "db_app_connections_max": 3,
                "db_connections_warn_pct": 1,
            },
        )
    finally:
        leaky.close()
        for c in crowd:
            c.close()
    # pg_stat_activity is cluster-wide: other tests' sessions may show up too, so look at ours.
    db = dsn.rsplit("/", 1)[1]
    idle = [f for f in findings(report, "db.tx.idle-in-transaction") if f.location["target"] == db]
    assert [f.location["application"] for f in idle] == ["leaky"]
    assert idle[0].evidence["age_s"] >= 1
    assert "leaky" in {f.location["application"] for f in findings(report, "db.tx.long-running")}
    assert "crowd" in {f.location["application"] for f in findings(report, "db.pool.no-pool")}
    assert findings(report, "db.pool.connections-high")
    assert status(report, "database.transactions") == "fail"


def test_defaults_pass_with_few_connections(fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db()
    report = audit(dsn)
    db = dsn.rsplit("/", 1)[1]
    for rule in ("db.tx.idle-in-transaction", "db.tx.long-running"):
        assert [f for f in findings(report, rule) if f.location["target"] == db] == [], rule
    assert findings(report, "db.pool.connections-high") == []


def test_timeouts_missing_vs_set_per_database_or_role(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    bare = fresh_db()
    report = audit(bare)
    assert {f.rule for f in report.findings if f.rule.startswith("db.tx.no-")} == {
        "db.tx.no-idle-timeout",
        "db.tx.no-statement-timeout",
    }
    fixed = fresh_db()
    name = fixed.rsplit("/", 1)[1]
    pg.psql(f"ALTER DATABASE {name} SET idle_in_transaction_session_timeout = '60s'")
    pg.psql("DO $$ BEGIN CREATE ROLE app_role; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    pg.psql(f"ALTER ROLE app_role IN DATABASE {name} SET statement_timeout = '30s'")
    report = audit(fixed)
    assert [f.rule for f in report.findings if f.rule.startswith("db.tx.no-")] == []
