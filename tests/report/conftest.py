"""Realistic reports for the renderer tests, built through the real pipeline (checks' findings ->
``assemble`` -> resolve, redact, fingerprint, score) with the fixture rules in ``fixtures/rules.yaml``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apiaudit.assemble import assemble, merge_reports
from apiaudit.checks import CheckRun
from apiaudit.model import Finding, Report
from apiaudit.redact import clear_secrets, register_secret
from apiaudit.rules import RuleSet, load_rules

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
API = "http://127.0.0.1:8000"
XSS_SCRIPT = "<script>alert('xss')</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'
DSN_PASSWORD = "pw-Sup3rS3cret-41"
AUTH_TOKEN = "tok-4f9a8b7c6d5e4f3a2b1c"
COOKIE_VALUE = "sessval-93f0e1d2c3b4a5"


@pytest.fixture(scope="session")
def ruleset(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    d = tmp_path_factory.mktemp("rules")
    shutil.copy(ROOT / "rules" / "checklist.yaml", d / "checklist.yaml")
    shutil.copy(HERE / "fixtures" / "rules.yaml", d / "fixture.yaml")
    return load_rules(d)


def _run(
    kind: str, findings: list[Finding], covered: set[str], reasons: dict[str, str] | None = None
) -> CheckRun:
    return CheckRun(findings=findings, covered=covered, reasons=reasons or {}, kinds={kind})


def scan_findings() -> list[Finding]:
    return [
        Finding(
            "http.pagination.unbounded",
            {"url": f"{API}/api/users", "method": "GET"},
            {"items": 5000, "limit_tried": 1000},
            {"items": 5000, "limit_param_tried": "limit=1000"},
        ),
        Finding(
            "http.compression.missing",
            {"url": f"{API}/api/products", "method": "GET"},
            {"bytes": 482133},
            {"content_length": 482133, "accept_encoding": "gzip, br, zstd"},
        ),
        Finding(
            "http.cache.no-validator",
            {"url": f"{API}/api/products", "method": "GET"},
            {"bytes": 482133, "etag_example": "v1-8c2f"},
            {"status": 200, "headers": {"cache-control": None}},
        ),
        Finding(
            "http.latency.p95-high",
            {"url": f"{API}/api/orders", "method": "GET"},
            {"p95_ms": 812.4, "samples": 40, "threshold_ms": 500},
            {"p50_ms": 210.0, "p95_ms": 812.4},
        ),
        Finding(
            "http.ratelimit.missing", {"url": f"{API}/api/users", "method": "GET"}, {}, {"headers_seen": []}
        ),
    ]


SCAN_COVERED = {
    "api.pagination",
    "api.compression",
    "caching.http_headers",
    "monitoring.latency",
    "scaling.rate_limiting",
    "api.field_selection",
    "scaling.stateless",
}
SCAN_MEASUREMENTS: dict[str, Any] = {
    "endpoints": [
        {"url": f"{API}/api/{p}", "method": "GET"} for p in ("users", "products", "orders", "health")
    ],
    "latency": [
        {"endpoint": "GET /api/users", "p50_ms": 38.2, "p95_ms": 120.5, "p99_ms": 180.1, "samples": 40},
        {"endpoint": "GET /api/products", "p50_ms": 95.0, "p95_ms": 430.0, "p99_ms": 610.0, "samples": 40},
        {"endpoint": "GET /api/orders", "p50_ms": 210.0, "p95_ms": 812.4, "p99_ms": 1320.7, "samples": 40},
        {"endpoint": "GET /api/health", "p50_ms": 1.2, "p95_ms": 2.5},  # p99 missing: must be tolerated
    ],
    "latency_thresholds": {"warn_ms": 500, "crit_ms": 1000},
    "sizes": [
        {"endpoint": "GET /api/products", "identity": 482133, "gzip": 61020, "br": 50311, "zstd": 55870},
        {"endpoint": "GET /api/users", "identity": 120400, "gzip": 18200, "br": None},
    ],
}


def scan_report(rs: RuleSet) -> Report:
    return assemble(
        kind="scan",
        targets=[API],
        run=_run("scan", scan_findings(), SCAN_COVERED),
        ruleset=rs,
        started_at="2026-11-29T04:00:00Z",
        duration_s=3.2,
        stats={"http_requests": 57, "endpoints": 4},
        measurements=SCAN_MEASUREMENTS,
    )


def db_findings() -> list[Finding]:
    orders = {"schema": "public", "table": "orders", "columns": ["customer_id"]}
    q = {"fingerprint": "9f2c1a", "sample": "SELECT * FROM orders WHERE status = $1"}
    return [
        Finding(
            "db.fk.unindexed",
            orders,
            {"cols": "customer_id", "ref_table": "customers", "rows": 250000},
            {"rows": 250000, "fk": "orders_customer_id_fkey"},
        ),
        Finding(
            "db.query.seq-scan",
            q,
            {"calls": 77132, "scan_table": "orders", "scan_column": "status"},
            {"plan": "Seq Scan on orders  (cost=0.00..4580.00 rows=12 width=64)", "calls": 77132},
        ),
        Finding(
            "db.nplusone.pattern",
            {"fingerprint": "77ab01", "sample": "SELECT * FROM items WHERE order_id = $1"},
            {"child_table": "items", "parent_table": "orders", "occurrences": 50},
            {"occurrences": 50},
        ),
        Finding(
            "db.index.unused",
            {"schema": "public", "table": "orders", "index": "orders_note_idx"},
            {"size": "12 MB"},
            {"idx_scan": 0, "bytes": 12582912},
        ),
        Finding(
            "db.pool.none",
            {"target": "postgresql://app@127.0.0.1:5432/shop"},
            {"connections": 180, "max_connections": 200},
            {},
        ),
    ]


DB_COVERED = {
    "database.indexes",
    "database.query_plans",
    "database.n_plus_one",
    "database.connection_pooling",
}
DB_WORKLOAD = [
    {
        "fingerprint": "9f2c1a",
        "sample": "SELECT * FROM orders WHERE status = $1",
        "calls": 77132,
        "total_ms": 81250.5,
        "mean_ms": 1.05,
        "rows": 925584,
        "source": "pg_stat_statements",
    },
    {
        "fingerprint": "77ab01",
        "sample": "SELECT * FROM items WHERE order_id = $1",
        "calls": 50000,
        "total_ms": 2210.0,
        "mean_ms": 0.04,
        "rows": 150000,
        "source": "log",
    },
]
DB_MEASUREMENTS: dict[str, Any] = {
    "top_queries": [{k: w[k] for k in ("fingerprint", "sample", "calls", "total_ms")} for w in DB_WORKLOAD],
    "nplusone": [
        {
            "child": "SELECT * FROM items WHERE order_id = $1",
            "parent": "SELECT * FROM orders",
            "occurrences": 50,
            "units": 12,
        }
    ],
}


def db_report(rs: RuleSet) -> Report:
    return assemble(
        kind="db",
        targets=["postgresql://app@127.0.0.1:5432/shop"],
        run=_run("db", db_findings(), DB_COVERED, {"database.transactions": "no write workload seen"}),
        ruleset=rs,
        started_at="2026-11-29T04:01:00Z",
        duration_s=5.5,
        stats={"queries": 2, "explained": 2, "log_lines": 1200},
        workload=DB_WORKLOAD,
        measurements=DB_MEASUREMENTS,
    )


def hostile_report(rs: RuleSet) -> Report:
    """Everything the target controls carries markup: URLs, header values, bodies, SQL, labels, errors."""
    url = f"{API}/api/x?q={XSS_SCRIPT}&r={XSS_IMG}"
    body = f"</pre>{XSS_SCRIPT}]]><![CDATA[{XSS_IMG}\x00\x1b[31m"
    findings = [
        Finding(
            "http.pagination.unbounded",
            {"url": url, "method": "GET"},
            {"items": XSS_IMG, "limit_tried": XSS_SCRIPT},
            {"body_sample": body, "headers": {"x-powered-by": XSS_SCRIPT, "server": XSS_IMG}},
        ),
        Finding(
            "db.query.seq-scan",
            {"fingerprint": "abc", "sample": f"SELECT '{XSS_SCRIPT}' -- {XSS_IMG}"},
            {"calls": 3, "scan_table": XSS_SCRIPT, "scan_column": XSS_IMG},
            {"plan": body},
        ),
    ]
    measurements = {
        "latency": [{"endpoint": f"GET {XSS_SCRIPT}", "p50_ms": 1, "p95_ms": 2, "p99_ms": 3}],
        "sizes": [{"endpoint": XSS_IMG, "identity": 2000, "gzip": 500}],
        "top_queries": [{"fingerprint": "abc", "sample": XSS_SCRIPT, "calls": 1, "total_ms": 5}],
        "nplusone": [{"child": XSS_IMG, "parent": XSS_SCRIPT, "occurrences": 3, "units": 1}],
    }
    return assemble(
        kind="scan",
        targets=[url],
        run=_run("scan", findings, {"api.pagination"}),
        ruleset=rs,
        started_at="2026-11-29T04:00:00Z",
        duration_s=1.0,
        errors=[{"where": XSS_IMG, "message": body}],
        workload=[{"fingerprint": "abc", "sample": XSS_SCRIPT, "calls": 1, "total_ms": 5.0}],
        measurements=measurements,
    )


def secret_report(rs: RuleSet) -> Report:
    """The pipeline is handed a DSN password, an Authorization token and a Cookie value."""
    register_secret(f"Bearer {AUTH_TOKEN}")
    register_secret(DSN_PASSWORD)
    dsn = f"postgresql://app:{DSN_PASSWORD}@127.0.0.1:5432/shop"
    headers = {"Authorization": f"Bearer {AUTH_TOKEN}", "Cookie": f"session={COOKIE_VALUE}; theme=dark"}
    findings = [
        Finding(
            "http.cache.no-validator",
            {"url": f"{API}/api/me?access_token={AUTH_TOKEN}", "method": "GET"},
            {"bytes": 10, "etag_example": AUTH_TOKEN},
            {"request_headers": headers, "echo": f"Authorization: Bearer {AUTH_TOKEN}"},
        ),
        Finding(
            "db.pool.none",
            {"target": dsn},
            {"connections": 1, "max_connections": DSN_PASSWORD},
            {"dsn": dsn, "conninfo": f"host=db user=app password={DSN_PASSWORD}"},
        ),
    ]
    return assemble(
        kind="combined",
        targets=[API, dsn],
        run=_run("scan", findings, {"caching.http_headers", "database.connection_pooling"}),
        ruleset=rs,
        started_at="2026-11-29T04:00:00Z",
        duration_s=1.0,
        errors=[{"where": "db", "message": f"connection to {dsn} failed"}],
        measurements={"latency": [{"endpoint": f"GET /me?token={AUTH_TOKEN}", "p50_ms": 1}]},
    )


@pytest.fixture
def reports(ruleset: RuleSet) -> dict[str, Report]:
    scan, db = scan_report(ruleset), db_report(ruleset)
    combined = merge_reports([scan_report(ruleset), db_report(ruleset)], ruleset)
    return {"scan": scan, "db": db, "combined": combined, "hostile": hostile_report(ruleset)}


@pytest.fixture
def secrets_report(ruleset: RuleSet) -> Any:
    yield secret_report(ruleset)
    clear_secrets()


@pytest.fixture
def write_json(tmp_path: Path) -> Callable[[Report, str], Path]:
    def write(report: Report, name: str) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(report.to_dict()), encoding="utf-8")
        return path

    return write


@pytest.fixture
def finding_lists() -> dict[str, list[Finding]]:
    """The raw findings (as checks would yield them) behind the scan and db fixture reports."""
    return {"scan": scan_findings(), "db": db_findings()}
