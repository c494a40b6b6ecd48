"""Issue 13, false greens of the db half, against real PostgreSQL roles and catalogs.

* A catalog query refused (permission denied) leaves its items not_assessed with the reason, never
  pass (before: database.indexes PASS and the HIGH FK finding vanished without a word).
* A role without pg_read_all_stats sees other roles' sessions without a state: database.transactions
  is not_assessed while another session sits idle in a transaction (before: PASS).
* Every catalog query refused: nothing of the database was seen, exit 3.
"""

from __future__ import annotations

import time

import psycopg
import pytest

from apiaudit.errors import AuditError
from apiaudit.model import Report

pytestmark = pytest.mark.pg

SCHEMA = """
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
INSERT INTO parent SELECT generate_series(1, 2000);
INSERT INTO child SELECT g, 1 + g % 2000 FROM generate_series(1, 5000) g;
ANALYZE;
"""


def item(report: Report, item_id: str) -> tuple[str, str]:
    row = next(c for c in report.checklist if c.id == item_id)
    return row.status, row.reason or ""


def role(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    pg.psql(f"DO $$ BEGIN CREATE ROLE {name} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")


def test_refused_catalog_query_is_not_assessed_never_pass(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db(SCHEMA)
    db = dsn.rsplit("/", 1)[1]
    role(pg, "verdict_auditor")
    before = audit(pg.dsn(db, user="verdict_auditor"))
    assert item(before, "database.indexes")[0] in ("warn", "fail")
    assert any(f.rule.startswith("db.fk.unindexed") for f in before.findings)
    # A hardened database: the index and constraint catalogs are not readable by PUBLIC.
    pg.psql("REVOKE SELECT ON pg_catalog.pg_constraint, pg_catalog.pg_index FROM PUBLIC", db)
    after = audit(pg.dsn(db, user="verdict_auditor"))
    status, reason = item(after, "database.indexes")
    assert status == "not_assessed", (status, reason)
    assert "could not be read" in reason and "permission denied" in reason, reason
    assert any(e["where"] == "db query foreign_keys" for e in after.errors)  # said, not silently dropped


def test_hidden_session_state_leaves_transactions_not_assessed(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db("CREATE TABLE t (id int PRIMARY KEY)")
    db = dsn.rsplit("/", 1)[1]
    # Timeouts set: the settings check finds nothing, so only the session check can decide the item.
    pg.psql(f"ALTER DATABASE \"{db}\" SET idle_in_transaction_session_timeout = '1h'; "
            f"ALTER DATABASE \"{db}\" SET statement_timeout = '1h'")
    role(pg, "verdict_nostats")
    thresholds = {"db_idle_in_tx_max_s": 0.0}
    with psycopg.connect(pg.dsn(db)) as other:  # the superuser's session, idle in a transaction
        other.execute("SELECT count(*) FROM t")
        time.sleep(0.1)
        privileged = audit(pg.dsn(db), thresholds=thresholds)
        assert item(privileged, "database.transactions")[0] == "fail"
        plain = audit(pg.dsn(db, user="verdict_nostats"), thresholds=thresholds)
        other.rollback()
    status, reason = item(plain, "database.transactions")
    assert status == "not_assessed", (status, reason)
    assert "pg_read_all_stats" in reason


def test_every_catalog_query_refused_exits_3(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db(SCHEMA)
    db = dsn.rsplit("/", 1)[1]
    role(pg, "verdict_blind")
    # Per-database catalogs and views only: a REVOKE on a shared catalog (pg_db_role_setting,
    # pg_database) would reach every database of the session's cluster.
    pg.psql("REVOKE SELECT ON pg_catalog.pg_class, pg_catalog.pg_index, pg_catalog.pg_constraint, "
            "pg_catalog.pg_settings, pg_catalog.pg_roles, pg_catalog.pg_stat_activity, pg_catalog.pg_stats, "
            "pg_catalog.pg_attribute FROM PUBLIC", db)
    with pytest.raises(AuditError, match="every catalog query was refused"):
        audit(pg.dsn(db, user="verdict_blind"))
