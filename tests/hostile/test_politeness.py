"""Politeness, measured on the server: request budget, per-host concurrency, safe methods only,
Retry-After honoured but capped, and the opt-in burst probe stopping at the first 429 and its caps.

The server delays each answer so requests overlap; everything counted here is counted by the server
(DESIGN.md "Safety": budget, per-host concurrency limit, GET/HEAD/OPTIONS only, honour Retry-After).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from hostile.handlers import openapi_server
from hostile.measure import Run, run_measured
from hostile.rawserver import RawServer, Request, respond
from hostile.servers import polite_api

SAFE = {"GET", "HEAD", "OPTIONS"}


def _scan(urls: list[str], *extra: str, cwd: Path | None = None) -> Run:
    run = run_measured("scan", *urls, "--format", "json", "--timeout", "5", *extra, timeout=120, cwd=cwd)
    assert not run.timed_out and not run.has_traceback() and not run.internal_error(), run
    return run


def test_budget_and_concurrency_are_never_exceeded() -> None:
    server = polite_api(delay_s=0.15)
    with server.running() as base:
        urls = [f"{base}/api/things{i}" for i in range(12)]
        run = _scan(urls, "--max-requests", "25", "--concurrency", "2", "--samples", "3")
    c = server.counters
    assert run.code in (0, 1), run
    assert c.requests <= 25, f"budget 25, server saw {c.requests}"
    assert c.max_in_flight <= 2, f"concurrency 2, server saw {c.max_in_flight} requests in flight"
    assert set(c.methods) <= SAFE, c.methods
    rep = run.report() or {}
    # The report must own up to the endpoints it could not probe within the budget.
    assert rep.get("stats", {}).get("http_requests") == c.requests, (rep.get("stats"), c.requests)


def test_default_concurrency_is_bounded() -> None:
    server = polite_api(delay_s=0.2)
    with server.running() as base:
        urls = [f"{base}/api/c{i}" for i in range(16)]
        run = _scan(urls, "--max-requests", "60", "--samples", "2")
    assert run.code in (0, 1), run
    # DESIGN.md: per-host concurrency limit, default 4 (scan --help).
    assert server.counters.max_in_flight <= 4, server.counters.max_in_flight
    assert server.counters.requests <= 60


def test_retry_after_is_honoured_and_capped(tmp_path: Path) -> None:
    # Retry-After: 86400 on every answer; with a 2 s cap the scan must wait ~2 s, not a day.
    (tmp_path / "apiaudit.yaml").write_text("http:\n  retry_after_cap_s: 2\n")
    server = polite_api(delay_s=0.0, limit_after=0, retry_after="86400")
    with server.running() as base:
        run = _scan([f"{base}/api/limited"], "--samples", "2", "--max-requests", "10", cwd=tmp_path)
    c = server.counters
    assert run.code in (0, 1, 3), run
    assert run.wall_s < 60, run
    assert c.requests >= 1
    gaps = [b - a for a, b in zip(c.times, c.times[1:], strict=False)]
    # Honoured: after a 429 nothing arrives before the (capped) delay has passed.
    assert all(g >= 1.8 for g in gaps), f"requests after a 429 came {gaps} s apart (cap 2 s)"


def test_burst_probe_stops_at_first_429() -> None:
    server = polite_api(delay_s=0.0, limit_after=8)
    with server.running() as base:
        run = _scan([f"{base}/api/burst"], "--burst", "100", "--samples", "0", "--max-requests", "200")
    c = server.counters
    assert run.code in (0, 1), run
    first_429 = c.statuses.index(429) if 429 in c.statuses else None
    assert first_429 is not None, f"the burst never reached the limit: {c.requests} requests"
    after = len(c.statuses) - first_429 - 1
    # Requests already in flight may still land; nothing new may be started after the 429.
    assert after <= 4, f"{after} requests after the first 429"


def test_burst_probe_respects_its_count_cap() -> None:
    server = polite_api(delay_s=0.0)
    with server.running() as base:
        run = _scan([f"{base}/api/open"], "--burst", "30", "--samples", "0", "--max-requests", "200")
    assert run.code in (0, 1), run
    # The burst sends at most 30 requests; the other probes need only a handful.
    assert server.counters.requests <= 30 + 20, server.counters.requests
    assert set(server.counters.methods) <= SAFE


def test_no_burst_without_opt_in() -> None:
    server = polite_api(delay_s=0.0)
    with server.running() as base:
        run = _scan([f"{base}/api/quiet"], "--samples", "0", "--max-requests", "200")
    assert run.code in (0, 1), run
    assert server.counters.requests <= 20, f"{server.counters.requests} requests without --burst"


def test_endless_pagination_is_not_followed_forever() -> None:
    # Every page links to a next page; a pagination probe must stop after a few pages.
    server = polite_api(delay_s=0.0)
    with server.running() as base:
        run = _scan([f"{base}/api/pages"], "--samples", "0", "--max-requests", "500")
    assert run.code in (0, 1), run
    pages = [p for p in server.counters.paths if "page=" in p]
    assert len(pages) <= 20, f"followed {len(pages)} 'next' pages"
    assert server.counters.requests <= 40, server.counters.requests


def test_openapi_with_thousands_of_operations_stays_within_budget() -> None:
    paths = {f"/api/r{i}": {"get": {"responses": {"200": {"description": "ok"}}}} for i in range(5000)}
    doc = json.dumps({"openapi": "3.0.3", "info": {"title": "big", "version": "1"}, "paths": paths}).encode()
    server = openapi_server(doc)
    with server.running() as base:
        run = _scan([f"{base}/api/r0"], "--openapi", f"{base}/openapi.json", "--samples", "0", "--max-requests", "50")
    c = server.counters
    assert run.code in (0, 1), run
    assert c.requests <= 50, f"budget 50, server saw {c.requests}"
    stats = (run.report() or {}).get("stats", {})
    # The report owns up to what the budget left out.
    assert stats.get("skipped_for_budget", 0) > 0, stats  # 5,000 operations cannot fit in 50 requests


def test_burst_probe_respects_its_time_cap(tmp_path: Path) -> None:
    # A slow server that never says 429: the burst must end at burst_seconds, far short of its count.
    (tmp_path / "apiaudit.yaml").write_text("http:\n  burst_seconds: 2\n")
    server = polite_api(delay_s=0.1)
    with server.running() as base:
        run = _scan([f"{base}/api/slow"], "--burst", "1000", "--samples", "0", "--max-requests", "2000", cwd=tmp_path)
    assert run.code in (0, 1), run
    assert run.wall_s < 45, run
    # 2 s at 0.1 s per answer and at most 4 in flight is ~80 requests; 1000 would mean no time cap.
    assert server.counters.requests < 300, server.counters.requests


def test_allowing_write_methods_does_not_make_the_scan_send_them(tmp_path: Path) -> None:
    # http.allow_methods permits more; nothing in a scan has a reason to send a write.
    (tmp_path / "apiaudit.yaml").write_text("http:\n  allow_methods: [POST, PUT, PATCH, DELETE]\n")
    server = polite_api(delay_s=0.0)
    with server.running() as base:
        run = _scan([f"{base}/api/a", f"{base}/api/b"], "--samples", "2", "--burst", "10", cwd=tmp_path)
    assert run.code in (0, 1), run
    assert set(server.counters.methods) <= SAFE, server.counters.methods


def _off_host_visits(tmp_path: Path, *, openapi: bool, swagger: bool = False, only_openapi: bool = False) -> list[str]:
    """Off-target URLs planted everywhere a probe might look: Link rel=next, a JSON "next" cursor URL,
    HTML asset references and the OpenAPI servers list. A canary on another host name counts visits."""
    canary = polite_api(delay_s=0.0)
    with canary.running() as canary_url:
        away = canary_url.replace("127.0.0.1", "localhost")
        paths = {"/api/items": {"get": {"responses": {"200": {"description": "ok"}}}}}
        info = {"title": "t", "version": "1"}
        if swagger:  # Swagger 2: the host field names the server
            host = away.split("://", 1)[1]
            doc = json.dumps({"swagger": "2.0", "info": info, "host": host, "basePath": "/", "paths": paths})
        else:
            doc = json.dumps({"openapi": "3.0.3", "info": info, "servers": [{"url": away}], "paths": paths})

        async def handler(req: Request, w: asyncio.StreamWriter, srv: RawServer) -> bool:
            if req.target.startswith("/openapi.json"):
                return await respond(w, srv, 200, [("Content-Type", "application/json")], doc.encode())
            if req.target.startswith("/page"):
                html = f'<html><script src="{away}/app.js"></script><link rel="stylesheet" href="{away}/s.css">'
                return await respond(w, srv, 200, [("Content-Type", "text/html")], html.encode())
            body = json.dumps({"items": [{"id": 1}], "next": f"{away}/api/items?cursor=2"}).encode()
            headers = [("Content-Type", "application/json"), ("Link", f'<{away}/api/items?page=2>; rel="next"')]
            return await respond(w, srv, 200, headers, body, head_only=req.method == "HEAD")

        target = RawServer(handler)
        with target.running() as base:
            (tmp_path / "apiaudit.yaml").write_text(f"static:\n  - {base}/page\n")
            extra = ["--openapi", f"{base}/openapi.json"] if openapi else []
            urls = [] if only_openapi else [f"{base}/api/items"]
            run = _scan(urls, *extra, "--samples", "1", cwd=tmp_path)
    assert run.code in (0, 1, 3), run
    return canary.counters.paths


def test_links_to_another_host_are_never_followed(tmp_path: Path) -> None:
    visits = _off_host_visits(tmp_path, openapi=False)
    assert not visits, f"off-target visits: {visits}"


@pytest.mark.parametrize(("swagger", "only_openapi"), [(False, False), (True, False), (False, True)])
def test_openapi_servers_cannot_redirect_the_scan_to_another_host(
    tmp_path: Path, swagger: bool, only_openapi: bool
) -> None:
    # The document is served by the target; a hostile one must not aim the scan at another host
    # (an SSRF lever: servers: [{url: http://169.254.169.254/}]) unless http.allow_hosts says so.
    visits = _off_host_visits(tmp_path, openapi=True, swagger=swagger, only_openapi=only_openapi)
    assert not visits, f"off-target visits via the OpenAPI servers list: {visits}"
