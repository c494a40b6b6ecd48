"""HTTP rules raised against a real server that the other scan tests do not produce (rule-coverage
gate, issue 13): a stdlib WSGI app with a broken next link, a rate-limit header that never counts
down and one that is not a number, Server-Timing, and a /metrics exposition without histograms."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from conftest import serve_wsgi

from apiaudit.config import Config
from apiaudit.http.audit import ScanOptions, run_scan
from apiaudit.model import Report
from apiaudit.rules import load_rules

METRICS = b"""# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{path="/api/items"} 12
"""


def app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
    path, query = environ["PATH_INFO"], environ.get("QUERY_STRING", "")
    headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
    if path == "/metrics":
        start("200 OK", [("Content-Type", "text/plain; version=0.0.4")])
        return [METRICS]
    if path == "/api/items" and "page=2" in query:
        start("500 Internal Server Error", headers)  # the next link leads to an error
        return [b'{"error": "boom"}']
    if path == "/api/items":
        body = {"items": [{"id": i} for i in range(20)], "next": "/api/items?page=2"}
        start("200 OK", [*headers, ("X-RateLimit-Remaining", "100")])  # never counts down
        return [json.dumps(body).encode()]
    if path == "/api/timed":
        start("200 OK", [*headers, ("Server-Timing", 'db;dur=12.5, app;dur=3.25;desc="render"'),
                         ("X-RateLimit-Remaining", "lots")])
        return [b'{"id": 1}']
    start("404 Not Found", headers)
    return [b'{"error": "not found"}']


@pytest.fixture(scope="module")
def report() -> Report:
    cfg = Config(ruleset=load_rules())
    with serve_wsgi(app) as base:
        opts = ScanOptions.from_cli(cfg, urls=[f"{base}/api/items", f"{base}/api/timed"], samples=4, quiet=True)
        return run_scan(opts, cfg)


def _one(report: Report, rule: str) -> Any:
    found = [f for f in report.findings if f.rule == rule]
    assert len(found) == 1, (rule, [f.rule for f in report.findings])
    return found[0]


def test_next_link_answering_500_is_broken(report: Report) -> None:
    f = _one(report, "http.pagination.next-broken")
    assert f.location["url"].endswith("/api/items") and "status 500" in f.message


def test_remaining_that_never_counts_down(report: Report) -> None:
    f = _one(report, "http.ratelimit.no-countdown")
    assert f.location["url"].endswith("/api/items") and set(f.evidence["remaining"]) == {100}


def test_rate_limit_header_that_is_not_a_number(report: Report) -> None:
    f = _one(report, "http.ratelimit.invalid-header")
    assert "X-RateLimit-Remaining" in f.message and "lots" in f.message


def test_server_timing_medians_are_reported(report: Report) -> None:
    f = _one(report, "http.latency.server-timing")
    assert f.location["url"].endswith("/api/timed")
    assert f.evidence["median_ms"] == {"db": 12.5, "app": 3.2}  # 3.25 rounded to one decimal


def test_metrics_without_a_duration_histogram(report: Report) -> None:
    f = _one(report, "http.monitoring.no-histogram")
    assert f.location["url"].endswith("/metrics") and f.evidence == {"families": 1, "types": ["counter"]}

