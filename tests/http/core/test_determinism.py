"""Issue 13, determinism: the same healthy target scanned 6 times in a row gives identical checklist
statuses and exit codes — no item flips on timing noise or on the tool's own rate-limit hits.

The target is a real FastAPI app under uvicorn that does everything right: gzip, weak ETags with 304s,
Cache-Control, capped pagination with metadata and next links, field selection, RateLimit headers from
a token bucket (429 + Retry-After when empty), /metrics with a latency histogram and status labels.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import serve_asgi
from fastapi import FastAPI, Request, Response
from fastapi.middleware.gzip import GZipMiddleware

from apiaudit.config import Config
from apiaudit.gate import decide
from apiaudit.http.audit import ScanOptions, run_scan
from apiaudit.model import Severity

ITEMS = [{"id": i, "name": f"item {i}", "price": i * 3 % 97, "stock": i % 11} for i in range(500)]
CAPACITY, REFILL_PER_S = 60, 60.0
METRICS = """# HELP http_request_duration_seconds Request latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{route="/api/items",le="0.05"} 10
http_request_duration_seconds_bucket{route="/api/items",le="0.1"} 12
http_request_duration_seconds_bucket{route="/api/items",le="+Inf"} 12
http_request_duration_seconds_sum{route="/api/items"} 0.4
http_request_duration_seconds_count{route="/api/items"} 12
# TYPE http_requests_total counter
http_requests_total{route="/api/items",status="200"} 12
"""


class Bucket:
    """A token bucket per client (guide, "Rate limiting"): refills continuously."""

    def __init__(self) -> None:
        self.tokens, self.at, self.lock = float(CAPACITY), time.monotonic(), threading.Lock()

    def take(self) -> tuple[bool, int]:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(CAPACITY, self.tokens + (now - self.at) * REFILL_PER_S)
            self.at = now
            if self.tokens < 1:
                return False, 0
            self.tokens -= 1
            return True, int(self.tokens)


def app() -> Any:
    api = FastAPI()
    api.add_middleware(GZipMiddleware, minimum_size=500)
    bucket = Bucket()

    @api.middleware("http")
    async def limit(request: Request, call_next: Callable[..., Any]) -> Response:
        ok, left = bucket.take()
        headers = {"RateLimit-Limit": str(CAPACITY), "RateLimit-Remaining": str(left), "RateLimit-Reset": "1"}
        if not ok:
            return Response('{"error": "rate limited"}', 429, {**headers, "Retry-After": "1"},
                            media_type="application/json")
        response: Response = await call_next(request)
        response.headers.update(headers)
        return response

    @api.api_route("/api/items", methods=["GET", "HEAD"])  # HEAD where GET works (RFC 9110 §9.3.2)
    def items(request: Request, limit: int = 20, offset: int = 0, fields: str | None = None) -> Response:
        limit, offset = max(1, min(limit, 100)), max(0, offset)
        page = ITEMS[offset:offset + limit]
        if fields:
            wanted = set(fields.split(","))
            page = [{k: v for k, v in row.items() if k in wanted} for row in page]
        nxt = f"/api/items?limit={limit}&offset={offset + limit}" if offset + limit < len(ITEMS) else None
        body = json.dumps({"items": page, "total": len(ITEMS), "limit": limit, "offset": offset, "next": nxt})
        etag = 'W/"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
        headers = {"Cache-Control": "max-age=300", "ETag": etag,
                   "Last-Modified": "Tue, 01 Sep 2026 10:00:00 GMT", "Server-Timing": "db;dur=1.2"}
        if request.headers.get("if-none-match") == etag or request.headers.get("if-modified-since"):
            # GZipMiddleware adds Vary to the 200 only; RFC 9110 §15.4.5: the 304 repeats it.
            return Response(status_code=304, headers={**headers, "Vary": "Accept-Encoding"})
        return Response(body, media_type="application/json", headers=headers)

    @api.get("/metrics")
    def metrics() -> Response:
        return Response(METRICS, media_type="text/plain; version=0.0.4")

    return api


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    with serve_asgi(app()) as url:
        yield url


def test_six_scans_give_the_same_verdict(make_config: Callable[..., Config], target: str) -> None:
    cfg = make_config()
    verdicts = []
    for _ in range(6):
        report = run_scan(ScanOptions.from_cli(cfg, urls=[f"{target}/api/items"], quiet=True, samples=5), cfg)
        gate = decide(report, fail_on=Severity.LOW, min_score=None)
        verdicts.append(({c.id: c.status for c in report.checklist}, gate.exit_code,
                         sorted(f.rule for f in report.findings if f.severity > Severity.INFO)))
    first = verdicts[0]
    flips = [(i, {k: (first[0][k], v[0][k]) for k in first[0] if v[0][k] != first[0][k]}, v[1:])
             for i, v in enumerate(verdicts) if v != first]
    assert not flips, flips
    statuses = first[0]
    # A healthy target is judged, not merely left unassessed.
    judged = {k for k, v in statuses.items() if v != "not_assessed"}
    assert {"api.pagination", "api.compression", "caching.http_headers", "monitoring.latency"} <= judged, statuses
    assert first[2] == [] and first[1] == 0, first  # healthy: no finding above info, the gate passes
