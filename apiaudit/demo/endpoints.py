"""The sample API's endpoints: what each returns and the HTTP policy (caching, gzip, rate limit) it uses.

Deliberately bad endpoints sit next to endpoints done right, so one audit shows both a FAIL and what
a PASS looks like. ``FIXES`` switch single problems off (``apiaudit demo --fix cache``) for the tutorial.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from apiaudit.demo.data import N_PRODUCTS, Store

MAX_PAGE = 100  # GUIDE.md "Pagination": at most 100 items a page
FIXES = ("cache", "compression", "pagination", "session", "ratelimit")
STATIC_JS = "/static/app.3f9c2d1e.js"
STATIC_CSS = "/static/styles.css"


class BadRequest(Exception):
    pass


@dataclass(frozen=True)
class Policy:
    cache_control: str | None = None
    etag: bool = False
    gzip: bool = False
    ratelimit: bool = False
    session_cookie: bool = False


@dataclass
class Reply:
    status: int
    body: Any
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, str]
    params: dict[str, str]
    base_url: str


Handler = Callable[[Request], Reply]


@dataclass(frozen=True)
class Route:
    template: str
    handler: Handler
    policy: Policy
    fields: bool = False  # honours ?fields=a,b

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template) + "$")


def _int(query: dict[str, str], name: str, default: int, *, low: int = 0) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    if value < low:
        raise BadRequest(f"{name} must be >= {low}")
    return value


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text.removeprefix("id:"))
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("invalid cursor") from None


def _cursor_page(req: Request, rows: list[dict[str, Any]], limit: int) -> Reply:
    """Cursor pagination (GUIDE.md "Cursor-based (recommended)"): next_cursor + has_more + Link rel=next."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    body: dict[str, Any] = {"data": rows, "has_more": has_more, "next_cursor": None}
    headers: dict[str, str] = {}
    if has_more and rows:
        cursor = encode_cursor(rows[-1]["id"])
        body["next_cursor"] = cursor
        headers["Link"] = f'<{req.base_url}{req.path}?cursor={cursor}&limit={limit}>; rel="next"'
    return Reply(200, body, headers=headers)


class Endpoints:
    """Handlers bound to a store and the enabled fixes."""

    def __init__(self, store: Store, fixes: frozenset[str]) -> None:
        self.store, self.fixes = store, fixes
        self._flaky = 0
        self._flaky_lock = threading.Lock()

    # -- deliberately bad -------------------------------------------------------------------------
    def customers(self, req: Request) -> Reply:
        """Unbounded: no default cap, honours limit=1000 (and more), no pagination metadata."""
        if "pagination" in self.fixes:
            limit = min(_int(req.query, "limit", 20, low=1), MAX_PAGE)
            after = decode_cursor(req.query["cursor"]) if req.query.get("cursor") else 0
            rows = [r for r in self.store.customers(after + limit + 1) if r["id"] > after]
            return _cursor_page(req, rows, limit)
        return Reply(200, self.store.customers(_int(req.query, "limit", 250, low=1)))

    def products(self, req: Request) -> Reply:
        """Offset pagination capped at 100 whose deep pages are slow (no ETag/Cache-Control unless fixed)."""
        offset = _int(req.query, "offset", 0)
        limit = min(_int(req.query, "limit", 20, low=1), MAX_PAGE)
        stock = req.query.get("in_stock")
        in_stock = None if stock is None else stock.lower() in ("1", "true", "yes")
        # OFFSET reads and discards every skipped row (PostgreSQL docs, "LIMIT and OFFSET"); on a
        # production-size table that cost grows with the offset. Simulated here: 20 µs a skipped row.
        time.sleep(min(offset, 20_000) * 20e-6)
        rows = self.store.products(offset, limit, in_stock)
        body: dict[str, Any] = {"data": rows, "offset": offset, "limit": limit, "next": None}
        headers: dict[str, str] = {}
        if len(rows) == limit:
            nxt = f"{req.base_url}{req.path}?offset={offset + limit}&limit={limit}"
            body["next"] = nxt
            headers["Link"] = f'<{nxt}>; rel="next"'
        return Reply(200, body, headers=headers)

    def export(self, req: Request) -> Reply:
        """Every product with its description in one uncompressed body above 1 MiB."""
        return Reply(200, self.store.product_export())

    def recommendations(self, req: Request) -> Reply:
        """Flaky: every fourth request fails with a 500, as an overloaded upstream would."""
        with self._flaky_lock:
            self._flaky += 1
            fail = self._flaky % 4 == 0
        if fail:
            return Reply(500, {"error": "recommendation service timed out"})
        return Reply(200, {"data": self.store.products(0, 5, True), "has_more": False})

    # -- database-backed lookups (the database audit judges these) -----------------------------------
    def customer_lookup(self, req: Request) -> Reply:
        email = req.query.get("email")
        if not email:
            raise BadRequest("email is required")
        row = self.store.customer_by_email(email)
        return Reply(200, row) if row else Reply(404, {"error": "no such customer"})

    def customer_orders(self, req: Request) -> Reply:
        customer_id = _int(req.params, "id", 0, low=1)
        rows = self.store.customer_orders(customer_id)
        return Reply(200, {"data": rows, "has_more": False})

    def recent_orders(self, req: Request) -> Reply:
        limit = min(_int(req.query, "limit", 20, low=1), 50)
        return Reply(200, {"data": self.store.recent_orders(limit), "has_more": False})

    # -- done right ---------------------------------------------------------------------------------
    def posts(self, req: Request) -> Reply:
        limit = min(_int(req.query, "limit", 20, low=1), MAX_PAGE)
        after = decode_cursor(req.query["cursor"]) if req.query.get("cursor") else 0
        return _cursor_page(req, self.store.posts(after, limit + 1), limit)

    def post(self, req: Request) -> Reply:
        row = self.store.post(_int(req.params, "id", 0, low=1))
        return Reply(200, row) if row else Reply(404, {"error": "no such post"})

    def categories(self, req: Request) -> Reply:
        return Reply(200, {"data": self.store.categories(), "has_more": False})

    def health(self, req: Request) -> Reply:
        return Reply(200, {"status": "ok", "store": self.store.kind, "products": N_PRODUCTS})


RATE = Policy(ratelimit=True, etag=True, gzip=True)


def routes(ep: Endpoints, pages: dict[str, Handler]) -> list[Route]:
    """The route table; ``pages`` are the non-JSON routes (/, static files, /metrics, /openapi.json)."""
    bad = Policy(session_cookie=True)
    table = [
        Route("/api/customers", ep.customers, bad),
        Route("/api/customers/lookup", ep.customer_lookup, replace(RATE, cache_control="no-store")),
        Route(
            "/api/customers/{id}/orders",
            ep.customer_orders,
            replace(RATE, cache_control="private, max-age=60"),
        ),
        Route("/api/products", ep.products, Policy(gzip=True, session_cookie=True)),
        Route("/api/export/products", ep.export, Policy()),
        Route("/api/recommendations", ep.recommendations, replace(RATE, cache_control="private, max-age=60")),
        Route("/api/orders/recent", ep.recent_orders, replace(RATE, cache_control="private, max-age=60")),
        Route("/api/posts", ep.posts, replace(RATE, cache_control="max-age=60"), fields=True),
        Route("/api/posts/{id}", ep.post, replace(RATE, cache_control="max-age=900"), fields=True),
        Route("/api/categories", ep.categories, replace(RATE, cache_control="max-age=3600")),
        Route("/health", ep.health, Policy(cache_control="no-store")),
        Route("/", pages["index"], Policy(cache_control="max-age=300", etag=True, gzip=True)),
        Route(
            STATIC_JS,
            pages["js"],
            Policy(cache_control="max-age=31536000, immutable", etag=True, gzip=True),
        ),
        Route(STATIC_CSS, pages["css"], Policy()),
        Route("/metrics", pages["metrics"], Policy(cache_control="no-store")),
        Route(
            "/openapi.json",
            pages["openapi"],
            Policy(cache_control="max-age=300", etag=True, gzip=True),
        ),
    ]
    return [_with_fixes(r, ep.fixes) for r in table]


def _with_fixes(route: Route, fixes: frozenset[str]) -> Route:
    p = route.policy
    if "cache" in fixes and p.cache_control is None:
        p = replace(p, etag=True, cache_control="max-age=300")
    if "compression" in fixes:
        p = replace(p, gzip=True)
    if "session" in fixes:
        p = replace(p, session_cookie=False)
    if "ratelimit" in fixes and route.template.startswith("/api/"):
        p = replace(p, ratelimit=True)
    return replace(route, policy=p)
