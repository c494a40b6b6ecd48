"""A FastAPI app with good and bad API-level endpoints, served by uvicorn on 127.0.0.1.

``make_app(limited=True)`` puts a token-bucket limiter (guide, "Rate Limiting") in front of every
route that sends IETF RateLimit headers; ``limited=False`` sends none (the "no rate limit" case).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import serve_asgi  # type: ignore[attr-defined]
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

USERS: list[dict[str, Any]] = [
    {"id": i, "name": f"user {i}", "email": f"u{i}@example.com", "bio": "x" * 60} for i in range(1, 301)
]
OFFSET_TOTAL = 20_000
IMMUTABLE = "public, max-age=31536000, immutable"


class TokenBucket:
    """The guide's token bucket: ``capacity`` tokens, refilled at ``rate`` per second."""

    def __init__(self, capacity: int, rate: float) -> None:
        self.capacity, self.rate = capacity, rate
        self.tokens, self.last = float(capacity), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode()


def make_app(*, limited: bool) -> FastAPI:
    app = FastAPI()
    # Refills slower than the scan asks (1 token/s), so the countdown shows however slow the machine is.
    general = TokenBucket(capacity=10_000, rate=1.0)
    tight = TokenBucket(capacity=8, rate=0.05)
    strict_no_retry = TokenBucket(capacity=5, rate=0.01)

    if limited:

        @app.middleware("http")
        async def ratelimit(request: Request, call_next: Any) -> Response:
            bucket = tight if request.url.path == "/limited" else general
            allowed = bucket.take()
            headers = {
                "RateLimit-Policy": f'"default";q={bucket.capacity};w={int(bucket.capacity / bucket.rate)}',
                "RateLimit": f'"default";r={int(bucket.tokens)};t=1',
            }
            if not allowed:
                return JSONResponse({"detail": "Rate limit exceeded"}, 429, {**headers, "Retry-After": "1"})
            response: Response = await call_next(request)
            response.headers.update(headers)
            return response

    @app.get("/good/users")
    def good_users(cursor: str | None = None, limit: int = 20, fields: str | None = None) -> Any:
        # The guide's cursor pagination: 400 above 100, next_cursor + has_more, and ?fields=.
        if limit > 100:
            raise HTTPException(400, "Maximum limit is 100")
        last = int(base64.urlsafe_b64decode(cursor.encode())) if cursor else 0
        rows = [u for u in USERS if u["id"] > last][: limit + 1]
        has_more = len(rows) > limit
        rows = rows[:limit]
        if fields:
            wanted = fields.split(",")
            rows = [{k: v for k, v in u.items() if k in wanted} for u in rows]
        nxt = _cursor(rows[-1]["id"]) if has_more and rows else None
        return {"data": rows, "pagination": {"next_cursor": nxt, "has_more": has_more}}

    @app.get("/bad/unbounded")
    def unbounded(limit: int | None = None) -> Any:
        # Everything by default (more than 100 items, no metadata); honours limit=1000 too.
        return USERS[:limit] if limit else USERS[:250]

    @app.get("/bad/offset")
    async def offset_items(request: Request, offset: int = 0, limit: int = 20) -> Response:
        limit = min(limit, 100)
        await asyncio.sleep(offset / OFFSET_TOTAL * 0.5)  # OFFSET reads and discards the skipped rows
        rows = [
            {"id": i, "name": f"item {i}"} for i in range(offset + 1, min(offset + limit, OFFSET_TOTAL) + 1)
        ]
        link = f'<{request.url.path}?offset={offset + limit}&limit={limit}>; rel="next"'
        return JSONResponse(rows, headers={"Link": link, "X-Total-Count": str(OFFSET_TOTAL)})

    @app.get("/bad/overlap")
    def overlap(page: int = 1) -> Response:
        rows = [{"id": i} for i in range(1, 21)]  # every page is the same page
        return JSONResponse({"items": rows, "next": f"/bad/overlap?page={page + 1}"})

    @app.get("/bad/nofields")
    def nofields(fields: str | None = None) -> Any:
        return {"data": USERS[:20], "pagination": {"next_cursor": None, "has_more": False}}

    @app.get("/bad/no-retry-after")
    def no_retry_after() -> Response:
        if not strict_no_retry.take():
            return JSONResponse({"detail": "slow down"}, 429)
        return JSONResponse({"ok": True})

    @app.get("/limited")
    def limited_route() -> Any:
        return {"id": 1, "name": "limited"}

    @app.get("/bad/session")
    def session(response: Response) -> Any:
        response.set_cookie("sessionid", "a1b2c3d4e5f6a7b8c9d0", httponly=True)
        return {"id": 1, "name": "me"}

    @app.get("/good/bearer")
    def bearer(request: Request) -> Any:
        return {"id": 1, "auth": request.headers.get("authorization", "")[:6]}

    @app.get("/cached")
    def cached(request: Request, response: Response) -> Any:
        response.headers["X-Cache"] = "HIT" if request.headers.get("x-seen") or cached.calls else "MISS"  # type: ignore[attr-defined]
        cached.calls += 1  # type: ignore[attr-defined]
        return {"id": 1, "name": "cached"}

    cached.calls = 0  # type: ignore[attr-defined]

    memo: dict[str, Any] = {}

    @app.get("/slow-cached")
    async def slow_cached(request: Request) -> Any:
        # An application cache keyed by the full URL: the first call renders slowly, repeats are instant.
        key = str(request.url)
        if key not in memo:
            await asyncio.sleep(0.3)
            memo[key] = {"id": 7, "name": "report"}
        return memo[key]

    @app.get("/slow")
    async def slow() -> Any:
        await asyncio.sleep(0.6)  # P95 above 500 ms every time
        return {"id": 8}

    @app.get("/flaky")
    def flaky() -> Response:
        flaky.calls += 1  # type: ignore[attr-defined]
        return JSONResponse({"error": "boom"}, 503 if flaky.calls % 2 else 200)  # type: ignore[attr-defined]

    flaky.calls = 0  # type: ignore[attr-defined]

    @app.get("/metrics")
    def metrics() -> PlainTextResponse:
        lines = [
            "# HELP http_requests_total Requests.",
            "# TYPE http_requests_total counter",
            'http_requests_total{code="200"} 10',
            "# HELP http_request_duration_seconds Request duration.",
            "# TYPE http_request_duration_seconds histogram",
        ]
        for le in ("0.005", "0.05", "0.5", "+Inf"):
            lines.append(f'http_request_duration_seconds_bucket{{le="{le}",path="/good/users"}} 10')
        lines += ["http_request_duration_seconds_sum 0.1", "http_request_duration_seconds_count 10"]
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")

    @app.get("/page")
    def page() -> HTMLResponse:
        return HTMLResponse(
            '<html><head><link rel="stylesheet" href="/static/site.3f2a9c1b.css">'
            '<script src="/static/app.9d8e7f6a5b.js"></script></head>'
            '<body><img src="/static/logo.png"><script src="https://cdn.example.org/x.js">'
            "</script></body></html>"
        )

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        cc = {
            "site.3f2a9c1b.css": IMMUTABLE,
            "app.9d8e7f6a5b.js": "public, max-age=600",
            "good.1a2b3c4d.js": IMMUTABLE,
        }.get(name)
        return Response(
            b"/* asset */" * 20,
            media_type="text/css" if name.endswith("css") else "text/javascript",
            headers={"Cache-Control": cc} if cc else {},
        )

    return app


@pytest.fixture(scope="module")
def api_limited() -> Iterator[str]:
    with serve_asgi(make_app(limited=True)) as url:
        yield url


@pytest.fixture(scope="module")
def api_plain() -> Iterator[str]:
    with serve_asgi(make_app(limited=False)) as url:
        yield url


def findings_by_rule(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out
