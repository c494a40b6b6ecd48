"""schema.sql and the in-memory store agree row for row, and the schema has the problems it claims to have."""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable

import httpx
import pytest

from apiaudit import pgcluster
from apiaudit.demo.data import MemoryStore, PgStore
from apiaudit.demo.database import analyze, find_demo_bindir
from apiaudit.demo.endpoints import FIXES
from apiaudit.demo.httpkit import TokenBucket, accepts_gzip, etag_matches
from apiaudit.demo.run import parse_fixes
from apiaudit.demo.sample_api import start_sample_api
from apiaudit.errors import UsageError

SCHEMA = str(importlib.resources.files("apiaudit.demo") / "schema.sql")
PATHS = (
    "/api/customers?limit=300",
    "/api/products?offset=40&limit=30",
    "/api/products?in_stock=false&limit=100",
    "/api/export/products",
    "/api/posts?limit=100",
    "/api/posts?cursor=aWQ6Mzkw",
    "/api/posts/7",
    "/api/categories",
    "/api/orders/recent",
    "/api/customers/42/orders",
    "/api/customers/lookup?email=customer42@example.com",
    "/api/customers/lookup?email=nobody@example.com",
)


def _strip_links(body: object) -> object:
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k != "next"}  # absolute URLs differ by port
    return body


@pytest.mark.pg
def test_postgres_and_memory_serve_identical_data(fresh_db: Callable[..., str]) -> None:
    dsn = fresh_db(file=SCHEMA)
    pg_api, mem_api = start_sample_api(PgStore(dsn, size=2)), start_sample_api(MemoryStore())
    try:
        for path in PATHS:
            a, b = httpx.get(pg_api.url + path), httpx.get(mem_api.url + path)
            assert (a.status_code, _strip_links(a.json())) == (b.status_code, _strip_links(b.json())), path
    finally:
        pg_api.stop()
        mem_api.stop()


@pytest.mark.pg
def test_schema_has_the_deliberate_problems(fresh_db: Callable[..., str], pg: pgcluster.Cluster) -> None:
    dsn = fresh_db(file=SCHEMA)
    db = dsn.rsplit("/", 1)[1]
    counts = pg.psql("SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM customers)", db).strip()
    assert counts == "30000|5000"  # both above the 1000-row small-table threshold
    indexed = pg.psql(
        "SELECT string_agg(indexdef, E'\\n' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'",
        db,
    )
    assert "orders (customer_id" not in indexed and "customers USING btree (email" not in indexed
    assert "products USING btree (in_stock)" in indexed and "posts USING btree (author_id)" in indexed
    analyze(pg, db)
    distinct = pg.psql(
        "SELECT n_distinct FROM pg_stats WHERE tablename = 'products' AND attname = 'in_stock'", db
    )
    assert float(distinct) == 2.0  # a two-valued column
    # ANALYZE after the load's own counts are published: statistics match the real row counts.
    for table, rows in (("orders", 30000), ("customers", 5000), ("products", 3000), ("posts", 400)):
        live = pg.psql(f"SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = '{table}'", db).strip()
        assert int(live) == rows, table


def test_parse_fixes() -> None:
    assert parse_fixes(["cache,compression", "session"]) == {"cache", "compression", "session"}
    assert parse_fixes(["all"]) == set(FIXES)
    with pytest.raises(UsageError, match="unknown problem"):
        parse_fixes(["speed"])


def test_pg_bindir_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIAUDIT_PG_BINDIR", "/nonexistent")
    assert find_demo_bindir() is None


def test_http_helpers() -> None:
    assert (
        etag_matches('W/"a", "b"', ['"b"'])
        and etag_matches('"a"', ['W/"a"'])
        and not etag_matches(None, ['"a"'])
    )
    assert accepts_gzip("br, gzip;q=0.5") and not accepts_gzip("gzip;q=0") and not accepts_gzip("identity")
    bucket = TokenBucket(capacity=2, rate=0.001)
    assert [bucket.take("k")[0] for _ in range(3)] == [True, True, False]
    assert bucket.take("other")[1] == 1  # per-client buckets
