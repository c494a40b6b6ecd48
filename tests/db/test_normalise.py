"""Normalisation by PostgreSQL's own parser (issue 15 point 5): typed literals keep their meaning,
the normalised text is valid SQL that the server EXPLAINs, and the new normaliser groups statements
as the old sqlglot one did wherever that one could parse them (differential, hypothesis)."""

from __future__ import annotations

import pgparse
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from legacy_normaliser import legacy_sample

from apiaudit.db.fingerprint import fingerprint
from apiaudit.db.pgnorm import typed_params

TYPED = (
    "SELECT id FROM events WHERE created_at > now() - interval '2 days' AND day = date '2024-01-05' "
    "AND at_ts < timestamptz '2024-01-01 00:00:00+00' ORDER BY id LIMIT 20"
)
# The same query as pg_stat_statements shows it: typed literals become "interval $1" (not SQL).
TYPED_PGSS = (
    "SELECT id FROM events WHERE created_at > now() - interval $1 AND day = date $2 "
    "AND at_ts < timestamptz $3 ORDER BY id LIMIT $4"
)


def test_typed_literals_keep_their_type_and_stay_parseable() -> None:
    fid, sample = fingerprint(TYPED)
    assert sample == (
        "SELECT id FROM events WHERE created_at > now() - $1::interval AND day = $2::date "
        "AND at_ts < $3::timestamptz ORDER BY id LIMIT $4"
    )
    assert "INTERVAL '1'" not in sample.upper()
    pgparse.parse(sample)  # valid SQL: PREPARE and EXPLAIN can take it
    assert fingerprint(TYPED_PGSS) == (fid, sample)  # pg_stat_statements' text: the same shape and id
    assert fingerprint(TYPED.replace("2 days", "7 days").replace("2024-01-05", "2025-02-01"))[0] == fid


def test_extract_interval_fields_and_casts() -> None:
    assert fingerprint("SELECT EXTRACT(EPOCH FROM now() - t.at) FROM t")[1] == (
        "SELECT date_part($1::text, now() - t.at) FROM t")
    assert fingerprint("SELECT 1 FROM t WHERE d > now() - interval '3' day")[1] == (
        "SELECT $1 FROM t WHERE d > now() - $2::interval day")
    assert fingerprint("SELECT * FROM c WHERE c.id = '9b2f…'::uuid::UUID")[1] == (
        "SELECT * FROM c WHERE c.id = $1::uuid::UUID")
    assert typed_params("WHERE a = $1 AND b AT TIME ZONE $2") == "WHERE a = $1 AND b AT TIME ZONE $2"


def test_pg_stat_statements_18_squashed_lists_and_reused_parameters() -> None:
    assert fingerprint("SELECT * FROM t WHERE id IN ($1 /*, ... */)")[0] == fingerprint(
        "SELECT * FROM t WHERE id IN (1, 2, 3)")[0]
    # one number per occurrence, in order: the cache key (the regex mask) cannot see reuse either
    assert fingerprint("SELECT * FROM t WHERE a = $2 OR b = $2 OR c = $1")[1] == (
        "SELECT * FROM t WHERE a = $1 OR b = $2 OR c = $3")
    assert fingerprint("SELECT * FROM t WHERE a = 0 OR b = 0 OR c = 0")[0] == fingerprint(
        "SELECT * FROM t WHERE a = $1 OR b = $1 OR c = $2")[0]


@pytest.mark.pg
def test_typed_literal_queries_are_explained_from_a_log_and_from_pg_stat_statements(
    pg, fresh_db, audit, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    dsn = fresh_db("""
    CREATE TABLE events (id int PRIMARY KEY, created_at timestamptz, day date, at_ts timestamptz);
    INSERT INTO events SELECT g, now() - g * interval '1 minute', current_date, now() FROM generate_series(1, 5000) g;
    ANALYZE events;
    """)
    db = dsn.rsplit("/", 1)[1]
    pg.psql("SELECT pg_stat_statements_reset()", db)
    pg.psql(TYPED, db)
    log = tmp_path / "typed.sql"
    log.write_text(TYPED.replace("events", "events e").replace("id", "e.id") + ";\n")
    report = audit(dsn, logs=[str(log)])
    samples = {w["fingerprint"]: w["sample"] for w in report.workload}
    typed = [p for p in report.measurements["plans"] if "::interval" in samples[p["fingerprint"]]]
    assert len(typed) == 2  # one from pg_stat_statements, one from the log
    for plan in typed:
        assert plan["refused"] is None and plan["error"] is None and plan["cost"] > 0
    # the log's copy is EXPLAINed with the values it logged; pg_stat_statements' with a generic plan
    assert sorted(p["explained_with"] for p in typed) == ["generic plan", "logged values"]


# -- differential: old (sqlglot) vs new (libpg_query) on generated SQL --------------------------------

_cols = st.sampled_from(["a", "b", "c", "created_at", "T.a"])
_values = st.one_of(
    st.integers(-10**9, 10**9).map(str),
    st.text(alphabet="xyz %'", max_size=6).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.sampled_from(["true", "false", "1.5", "$1", "$2"]),
)
_ops = st.sampled_from(["=", "<", ">=", "<>", "LIKE"])


@st.composite
def _select(draw: st.DrawFn) -> tuple[str, str]:
    """(statement, the same statement with other literal values): one shape, two texts."""
    preds = draw(st.lists(st.tuples(_cols, _ops), min_size=1, max_size=3))
    in_len = draw(st.integers(0, 4))
    limit = draw(st.booleans())

    def render() -> str:
        where = " AND ".join(f"{c} {op} {draw(_values)}" for c, op in preds)
        if in_len:
            where += " AND b IN (" + ", ".join(str(draw(st.integers(0, 99))) for _ in range(in_len)) + ")"
        tail = f" LIMIT {draw(st.integers(1, 100))}" if limit else ""
        return f"SELECT a, b FROM t AS T WHERE {where}{tail}"

    return render(), render()


@settings(max_examples=150, deadline=None)
@given(_select(), _select())
def test_differential_old_and_new_group_statements_alike(one: tuple[str, str], two: tuple[str, str]) -> None:
    (a1, a2), (b1, _) = one, two
    new = {s: fingerprint(s) for s in (a1, a2, b1)}
    assert new[a1][0] == new[a2][0]  # literal values never change the shape
    pgparse.parse(new[a1][1])  # the sample is valid SQL
    old = {s: legacy_sample(s) for s in (a1, a2, b1)}
    if old[a1] is not None and old[b1] is not None:
        assert (old[a1] == old[b1]) == (new[a1][0] == new[b1][0]), (a1, b1, old[a1], old[b1])
