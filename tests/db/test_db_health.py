"""Database health against the real PostgreSQL the tests start: sequences advanced with setval, integer
key widths, transaction ID age, dead tuples on a table with autovacuum off, session churn."""

from __future__ import annotations

import psycopg
import pytest

from apiaudit.db.checks.health import autovacuum_off, sequence_fix

from .conftest import findings, status, wait_for_stats

pytestmark = pytest.mark.pg

INT4_MAX = 2147483647


def test_sequence_near_int4_end_is_reported(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db(f"""
        CREATE TABLE orders (id serial PRIMARY KEY, note text);
        CREATE TABLE halfway (id serial PRIMARY KEY);
        -- a bigint identity feeding an int4 column: the column, not the sequence, caps it
        CREATE SEQUENCE narrow_id_seq AS bigint;
        CREATE TABLE narrow (id int PRIMARY KEY DEFAULT nextval('narrow_id_seq'));
        ALTER SEQUENCE narrow_id_seq OWNED BY narrow.id;
        SELECT setval('orders_id_seq', {int(INT4_MAX * 0.978)});
        SELECT setval('halfway_id_seq', {INT4_MAX // 2});
        SELECT setval('narrow_id_seq', {int(INT4_MAX * 0.95)});
    """)
    report = audit(dsn)
    got = {(f.location["table"], f.location["columns"][0]): f for f in findings(report, "db.sequence.exhaustion")}
    assert set(got) == {("orders", "id"), ("narrow", "id")}  # 50 %: none
    orders = got[("orders", "id")]
    assert "97.8% used" in orders.message and str(INT4_MAX) in orders.message
    assert "ALTER TABLE public.orders ALTER COLUMN id TYPE bigint;" in orders.fix
    assert "ALTER SEQUENCE public.orders_id_seq AS bigint" in orders.fix
    narrow = got[("narrow", "id")]
    assert "capped by its integer column public.narrow.id" in narrow.message
    assert "ALTER SEQUENCE" not in narrow.fix  # the bigint sequence already goes far enough
    assert orders.checklist == "database.indexes"


def test_sequence_threshold_is_configurable(fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db(f"CREATE TABLE t (id serial PRIMARY KEY); SELECT setval('t_id_seq', {INT4_MAX // 2});")
    assert not findings(audit(dsn), "db.sequence.exhaustion")
    assert findings(audit(dsn, thresholds={"db_sequence_used_pct": 40}), "db.sequence.exhaustion")


def test_sequence_fix_for_unowned_sequence() -> None:
    row = {"schema": "s", "sequence": "Odd Seq", "sequence_type": "integer", "seq_max": str(INT4_MAX),
           "table": None, "column_type": None}
    assert sequence_fix(row) == 'ALTER SEQUENCE s."Odd Seq" AS bigint MAXVALUE 9223372036854775807;'


def test_int4_and_int8_keys_referencing_each_other(fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db("""
        CREATE TABLE accounts (id bigserial PRIMARY KEY);
        CREATE TABLE users (id serial PRIMARY KEY);
        CREATE TABLE posts (id bigserial PRIMARY KEY,
                            account_id int REFERENCES accounts,      -- int4 -> int8
                            user_id bigint REFERENCES users,          -- int8 -> int4
                            same_id bigint REFERENCES accounts);      -- same width: fine
    """)
    got = {f.location["columns"][0]: f for f in findings(audit(dsn), "db.sequence.key-type-mismatch")}
    assert set(got) == {"account_id", "user_id"}
    assert got["account_id"].fix == "ALTER TABLE public.posts ALTER COLUMN account_id TYPE bigint;"
    assert got["user_id"].fix == (
        "ALTER TABLE public.users ALTER COLUMN id TYPE bigint;  ALTER SEQUENCE public.users_id_seq AS bigint;")
    assert "referenced side runs out" in got["user_id"].message


def test_xid_age_both_sides_of_the_threshold(fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db("CREATE TABLE t (id int); INSERT INTO t VALUES (1);")
    fresh = audit(dsn)
    assert not findings(fresh, "db.health.xid-wraparound")  # a fresh cluster is far from 50 %
    low = audit(dsn, thresholds={"db_xid_age_warn_pct": 0.000001})
    got = findings(low, "db.health.xid-wraparound")
    scopes = {f.location.get("scope", "table") for f in got}
    assert scopes == {"database", "table"}
    db = next(f for f in got if f.location.get("scope") == "database")
    assert "autovacuum_freeze_max_age (200000000)" in db.message
    assert db.fix.startswith("VACUUM (FREEZE, VERBOSE);")
    assert db.checklist == "database.transactions"
    assert status(low, "database.transactions") == "fail"


def test_dead_tuples_and_autovacuum_disabled(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    name = "health_vacuum"
    dsn = fresh_db("""
        CREATE TABLE churned (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = false);
        INSERT INTO churned SELECT g, 0 FROM generate_series(1, 20000) g;
        DELETE FROM churned WHERE id > 5000;
        CREATE TABLE off_but_clean (id int) WITH (autovacuum_enabled = off);
        CREATE TABLE tuned (id int) WITH (fillfactor = 90);
    """, name=name)
    wait_for_stats(pg, name, "SELECT n_dead_tup >= 15000 FROM pg_stat_user_tables WHERE relname = 'churned'")
    report = audit(dsn)
    dead = findings(report, "db.health.dead-tuples")
    assert [f.location["table"] for f in dead] == ["churned"]
    assert "15000 dead tuples vs 5000 live (300%)" in dead[0].message
    assert "switched off" in dead[0].message and "last vacuum never" in dead[0].message
    off = {f.location["table"] for f in findings(report, "db.health.autovacuum-disabled")}
    assert off == {"churned", "off_but_clean"}  # fillfactor alone is not "disabled"
    assert dead[0].checklist == "database.query_plans"
    # above the thresholds: no dead-tuple finding
    quiet = audit(dsn, thresholds={"db_dead_tuples_min": 20000})
    assert not findings(quiet, "db.health.dead-tuples")


def test_autovacuum_off_spellings() -> None:
    assert all(autovacuum_off(v) for v in ("false", "OFF", "no", "0", "f"))
    assert not any(autovacuum_off(v) for v in (None, "true", "on", "1"))


def test_session_churn(fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db()
    for _ in range(60):  # 60 short sessions, as an application connecting per request does
        psycopg.connect(dsn).close()
    calm = audit(dsn, thresholds={"db_churn_min_sessions": 50, "db_sessions_per_min_max": 1e9})
    assert not findings(calm, "db.pool.session-churn")
    churn = audit(dsn, thresholds={"db_churn_min_sessions": 50, "db_sessions_per_min_max": 1})
    got = findings(churn, "db.pool.session-churn")
    assert len(got) == 1 and got[0].checklist == "database.connection_pooling"
    assert got[0].evidence["sessions"] >= 60
    assert "new sessions/min" in got[0].message and "max_connections" in got[0].message
    assert (status(calm, "database.connection_pooling"), status(churn, "database.connection_pooling")) == (
        "pass", "warn")  # medium severity
    # default minimum (1000 sessions) not reached: not judged as churn
    assert not findings(audit(dsn), "db.pool.session-churn")


def test_refused_health_query_leaves_item_not_assessed(fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    from apiaudit.db.availability import available
    from apiaudit.db.evidence import DbEvidence
    from apiaudit.requirements import Req

    ev = DbEvidence(target="postgresql://x/db", server={"database": "db"})
    ev.refused["sequences"] = "permission denied for table pg_sequence"
    got = available(ev, Req.CATALOG_SEQUENCES)
    assert isinstance(got, str) and "permission denied" in got


def test_sequences_are_read_in_batches(fresh_db, audit, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Reading last_value locks each sequence: batches (here of 2) each in their own transaction, and
    every sequence is still seen, also past a batch of never-called ones (no last_value)."""
    import apiaudit.db.catalog as catalog

    monkeypatch.setattr(catalog, "SEQUENCE_BATCH", 2)
    sql = "CREATE SCHEMA other; CREATE SEQUENCE other.a; CREATE SEQUENCE other.b; CREATE SEQUENCE other.c;"
    sql += "".join(f"CREATE TABLE t{i} (id serial PRIMARY KEY); SELECT setval('t{i}_id_seq', {INT4_MAX - i});"
                   for i in range(5))
    dsn = fresh_db(sql)
    got = {f.location["table"] for f in findings(audit(dsn), "db.sequence.exhaustion")}
    assert got == {f"t{i}" for i in range(5)}
