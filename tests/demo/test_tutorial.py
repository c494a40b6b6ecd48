"""docs/tutorial.md's claims: the gate fails on the deliberate problem and passes once it is fixed.

HTTP: /api/customers honours limit=1000 with no pagination metadata (high findings, gate fails);
``--fix pagination`` caps it at 100 with a cursor (gate passes at the default --fail-on high).
Database: orders.customer_id/product_id are unindexed FKs and the email lookup scans customers; the
three CREATE INDEX statements of the tutorial remove every high finding.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable
from typing import Any

import pytest

from apiaudit import pgcluster
from apiaudit.demo.data import PgStore
from apiaudit.demo.database import analyze
from apiaudit.demo.drive import drive
from apiaudit.demo.sample_api import start_sample_api

SCHEMA = str(importlib.resources.files("apiaudit.demo") / "schema.sql")
TUTORIAL_INDEXES = (
    "CREATE INDEX CONCURRENTLY ON orders (customer_id, id)",
    "CREATE INDEX CONCURRENTLY ON orders (product_id)",
    "CREATE INDEX CONCURRENTLY ON customers (email)",
)


def test_pagination_fix_turns_the_scan_gate_green(run_cli: Callable[..., Any]) -> None:
    before = start_sample_api()
    try:
        failed = run_cli("scan", before.url + "/api/customers", "--format", "json")
    finally:
        before.stop()
    assert failed.code == 1, failed
    assert "gate FAILED" in failed.stderr
    after = start_sample_api(fixes=frozenset({"pagination"}))
    try:
        passed = run_cli("scan", after.url + "/api/customers", "--format", "json")
    finally:
        after.stop()
    assert passed.code == 0, passed


@pytest.mark.pg
def test_tutorial_indexes_turn_the_db_gate_green(
    fresh_db: Callable[..., str], pg: pgcluster.Cluster, run_cli: Callable[..., Any]
) -> None:
    dsn = fresh_db(file=SCHEMA)
    dbname = dsn.rsplit("/", 1)[1]
    analyze(pg, dbname)
    api = start_sample_api(PgStore(dsn, size=2))
    try:
        drive(api.url)  # the workload pg_stat_statements records, as in the demo
    finally:
        api.stop()
    failed = run_cli("db", dsn, "--format", "json")
    assert failed.code == 1, failed
    for statement in TUTORIAL_INDEXES:
        pg.psql(statement, dbname)
    passed = run_cli("db", dsn, "--format", "json")
    assert passed.code == 0, passed
