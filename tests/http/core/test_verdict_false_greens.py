"""Issue 13, false greens of the HTTP half: no item is ``pass`` without evidence it measured.

One real FastAPI app under uvicorn; each test scans the endpoints of one defect. Before the fix every
asserted ``not_assessed``/``warn`` below was ``pass``.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import serve_asgi
from fastapi import FastAPI, Request, Response

from apiaudit.config import Config
from apiaudit.demo.sample_api import start_sample_api
from apiaudit.http.audit import ScanOptions, run_scan
from apiaudit.model import Report

ASSET = "/static/app.3f2a1b9c.js"
ASSET_BODY = ("function f(){return 1}\n" * 3200).encode()  # ~73 KB of JavaScript


def app() -> Any:
    api = FastAPI()
    counter = itertools.count()
    seen: dict[str, int] = {}

    @api.get("/small")
    def small() -> Response:  # 80 bytes: rightly uncompressed, says nothing about large bodies
        return Response(json.dumps([{"id": 1, "name": "a"}]), media_type="application/json",
                        headers={"Cache-Control": "max-age=60", "ETag": '"s1"'})

    @api.get("/page")
    def page() -> Response:
        html = f'<html><head><script src="{ASSET}"></script></head><body>hi</body></html>'
        return Response(html, media_type="text/html", headers={"Cache-Control": "max-age=60", "ETag": '"p1"'})

    @api.get(ASSET)
    def asset() -> Response:  # fingerprinted, immutable, never compressed, no CDN in front
        return Response(ASSET_BODY, media_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=31536000, immutable", "ETag": '"a1"'})

    @api.api_route("/volatile", methods=["GET", "HEAD"])  # HEAD answered: only the ETag is at issue
    def volatile() -> Response:  # a new ETag and body on every request (a timestamp in it)
        n = next(counter)
        return Response(json.dumps({"n": n}), media_type="application/json",
                        headers={"Cache-Control": "max-age=60", "ETag": f'"v{n}"'})

    @api.get("/limited")
    def limited(request: Request) -> Response:  # one request, then a bare 429 (our own rate-limit hits)
        key = request.url.path
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            return Response('{"error": "too many"}', status_code=429, media_type="application/json")
        return Response('{"ok": 1}', media_type="application/json",
                        headers={"Cache-Control": "max-age=60", "ETag": '"l1"'})

    @api.get("/coldstart")
    def coldstart(request: Request) -> Response:  # slow first and cache-busted, fast repeats: timing only
        key = "bust" if "_apiaudit_nocache" in request.url.query else "plain"
        seen[key] = seen.get(key, 0) + 1
        if key == "bust" or seen[key] == 1:
            time.sleep(0.25)
        return Response('{"ok": 1}', media_type="application/json",
                        headers={"Cache-Control": "max-age=60", "ETag": '"c1"'})

    return api


@pytest.fixture
def base() -> Iterator[str]:
    with serve_asgi(app()) as url:  # per test: the rate-limit and counter state starts fresh
        yield url


def scan(cfg: Config, *urls: str, **kw: Any) -> Report:
    opts = ScanOptions.from_cli(cfg, urls=list(urls), quiet=True, **kw)
    return run_scan(opts, cfg)


def status(report: Report, item: str) -> tuple[str, str | None]:
    row = next(c for c in report.checklist if c.id == item)
    return row.status, row.reason


def test_small_bodies_and_own_timing_pass_nothing(make_config: Callable[..., Config], base: str) -> None:
    rep = scan(make_config(), f"{base}/small", samples=3)
    assert status(rep, "api.compression")[0] == "not_assessed"
    assert "under 1024 bytes" in (status(rep, "api.compression")[1] or "")
    # apiaudit's own six requests say how fast the API is, not that anyone monitors it.
    assert status(rep, "monitoring.latency")[0] == "not_assessed"
    assert status(rep, "monitoring.error_rates")[0] == "not_assessed"


def test_large_uncompressed_asset_counts_and_no_cdn_is_not_a_pass(make_config: Callable[..., Config],
                                                                   base: str) -> None:
    rep = scan(make_config(), f"{base}/page", samples=0)
    assert status(rep, "api.compression")[0] == "warn"
    missing = [f for f in rep.findings if f.rule == "http.compression.missing"]
    assert [f.location["url"] for f in missing] == [f"{base}{ASSET}"]
    cdn, why = status(rep, "scaling.cdn")
    assert cdn == "not_assessed" and "no CDN" in (why or "")
    assert any(f.rule == "http.static.no-cdn-hit" for f in rep.findings)  # still reported


def test_etag_changing_on_every_request_is_not_a_pass(make_config: Callable[..., Config], base: str) -> None:
    rep = scan(make_config(), f"{base}/volatile", samples=0)
    item, why = status(rep, "caching.http_headers")  # never pass; warn only from another real finding
    assert item != "pass" and "ETag changed" in (why or ""), (item, why)


def test_own_rate_limit_hits_leave_probes_unjudged(make_config: Callable[..., Config], base: str) -> None:
    rep = scan(make_config(), f"{base}/limited", samples=0)
    item, why = status(rep, "caching.http_headers")
    assert item == "not_assessed" and "429" in (why or ""), (item, why)


def test_repeat_latency_drop_alone_never_judges_application_cache(make_config: Callable[..., Config],
                                                                  base: str) -> None:
    rep = scan(make_config(), f"{base}/coldstart", samples=3)
    assert status(rep, "caching.application_cache")[0] == "not_assessed"


def test_budget_spent_items_are_not_assessed_not_pass(make_config: Callable[..., Config]) -> None:
    api = start_sample_api()
    try:
        rep = scan(make_config(), f"{api.url}/api/products", max_requests=1)
    finally:
        api.stop()
    item, why = status(rep, "api.pagination")  # warn with the full budget (deep-offset-slow)
    assert item == "not_assessed" and "budget" in (why or ""), (item, why)
    assert {(s["what"], s["reason"]) for s in rep.skipped} >= {("pagination", "request budget of 1 spent")}
    assert rep.to_dict()["skipped"] == rep.skipped
