"""Units of work on logs a real PostgreSQL wrote under real drivers and pools (issue 15, points 1, 2, 4):
independent requests on a reused connection are never N+1; a real lazy load is, with the right parent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from logs import drivers as d
from logs.conftest import LogLab
from logs.test_real_logs import analyze, findings

pytestmark = pytest.mark.pg
HIGH_NPLUSONE = "db.nplusone.lazy-load"


@pytest.fixture(scope="module")
def runs(log_cluster: LogLab) -> dict[str, dict[str, Path]]:
    lab = log_cluster
    lab.cluster.psql(d.SCHEMA, "shop")
    return {
        "asyncpg": lab.run("asyncpg", d.asyncpg_requests),
        "asyncpg_lazy": lab.run("asyncpg_lazy", lambda dsn: d.asyncpg_requests(dsn, lazy=True)),
        "psycopg_pool": lab.run("psycopg_pool", d.psycopg_pool_requests),
        "sqla_get": lab.run("sqla_get", lambda dsn: d.sqlalchemy_psycopg2(dsn, lazy=False)),
        "sqla_lazy": lab.run("sqla_lazy", lambda dsn: d.sqlalchemy_psycopg2(dsn, lazy=True)),
        "django": lab.run("django", d.django_requests),
        "django_plans": lab.run("django_plans", lambda dsn: d.django_requests(dsn, lazy_plans=True)),
        "varied_paused": lab.run("varied_paused", lambda dsn: d.varied_requests(dsn, pause_s=0.15)),
    }


def n_plus_one(path: Path) -> tuple[Any, dict[str, list[Any]]]:
    ev = analyze(path)
    assert ev.errors == [], ev.errors
    return ev, findings(ev)


@pytest.mark.parametrize("name", ["asyncpg", "psycopg_pool", "sqla_get", "django"])
@pytest.mark.parametrize("fmt", ["stderr", "jsonlog"])
def test_independent_requests_are_not_n_plus_one(runs: dict[str, dict[str, Path]], name: str, fmt: str) -> None:
    ev, found = n_plus_one(runs[name][fmt])
    assert ev.stats["log_statements"] >= d.REQUESTS
    assert found.get(HIGH_NPLUSONE, []) == []
    assert [p.child_sample for p in ev.nplusone] == []
    assert ev.stats["log_units"] >= d.REQUESTS  # one unit of work per request (or more)


@pytest.mark.parametrize("fmt", ["stderr", "csvlog"])
def test_asyncpg_pool_lazy_handler_found_with_its_parent(runs: dict[str, dict[str, Path]], fmt: str) -> None:
    _ev, found = n_plus_one(runs["asyncpg_lazy"][fmt])
    [f] = found[HIGH_NPLUSONE]
    assert f.location["sample"] == "SELECT id, name FROM customers WHERE id = $1"
    assert f.evidence["parent_sample"].startswith("SELECT id, customer_id FROM invoices ORDER BY total, id LIMIT ")
    assert f.evidence["units"] == 2 and f.evidence["statements"] == 30  # two requests, 15 rows each


@pytest.mark.parametrize("fmt", ["stderr", "jsonlog"])
def test_sqlalchemy_psycopg2_uuid_lazy_load(runs: dict[str, dict[str, Path]], fmt: str) -> None:
    """Point 2: ``customers.id = '…'::uuid::UUID`` (a chain of casts on one parameter) is a key read."""
    _ev, found = n_plus_one(runs["sqla_lazy"][fmt])
    [f] = found[HIGH_NPLUSONE]
    assert "customers.id = CAST(CAST($1 AS UUID) AS UUID)" in f.location["sample"] or \
        "customers.id = $1::uuid::UUID" in f.location["sample"]
    assert f.evidence["parent_sample"].startswith("SELECT invoices.id, invoices.customer_id")
    assert f.evidence["units"] == d.REQUESTS
    assert "= ANY(" in f.vars["batched_sql"]


@pytest.mark.parametrize("fmt", ["stderr", "jsonlog"])
def test_django_lazy_fk_with_repeated_keys_is_n_plus_one_not_cache(runs: dict[str, dict[str, Path]],
                                                                   fmt: str) -> None:
    """Point 4: ``plans.id = … LIMIT 21`` once per subscription row (3 plans, 20 rows) is select_related's
    N+1, inside each request; it is not an application-cache candidate."""
    _ev, found = n_plus_one(runs["django_plans"][fmt])
    [f] = found[HIGH_NPLUSONE]
    assert f.location["sample"].startswith('SELECT "plans"."id", "plans"."name" FROM "plans"')
    assert f.evidence["parent_sample"].startswith('SELECT "subscriptions"."id"')
    assert f.evidence["units"] == d.REQUESTS and f.evidence["statements"] == 20 * d.REQUESTS
    assert "db.cache.hot-read" not in found


def test_idle_gaps_relative_to_the_session_rhythm(runs: dict[str, dict[str, Path]]) -> None:
    """Handlers in random order on one autocommit connection (nothing to learn a signature from), 150 ms
    apart while a request's statements follow each other within milliseconds: far below the absolute
    1 s idle gap, far above the session's own rhythm — one unit per request."""
    ev, found = n_plus_one(runs["varied_paused"]["stderr"])
    assert ev.stats["log_units_rhythm"] >= 15 and ev.stats["log_units"] >= 20
    assert ev.nplusone == [] and "db.nplusone.lazy-load" not in found
    patient = analyze(runs["varied_paused"]["stderr"], idle_gap_ms=60_000)  # the absolute gap plays no part
    assert patient.stats["log_units_rhythm"] >= 15 and patient.nplusone == []
