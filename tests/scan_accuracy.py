"""Shared by tests/http/accuracy (issue 14): a FastAPI app on real third-party middleware: Starlette's
GZipMiddleware, slowapi's
limiter with its X-RateLimit headers, fastapi-pagination's ``Page``. Served by uvicorn on 127.0.0.1.

The payloads are the shapes the issue names: single resources holding lists (an order with 30 line
items, a user with ``roles`` / ``recent_orders``, a chart ``{"data": [240 points], "unit": "ms"}``),
a bounded top-20 list, and real unpaginated collections (150 rows; 60 rows behind a ``limit``).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.middleware.gzip import GZipMiddleware
from fastapi_pagination import Page, add_pagination, paginate
from fastapi_pagination.utils import disable_installed_extensions_check
from pydantic import BaseModel, Field
from slowapi import Limiter, _rate_limit_exceeded_handler
from slowapi.errors import RateLimitExceeded
from slowapi.util import get_remote_address

from apiaudit.config import Config
from apiaudit.http.audit import ScanOptions, run_scan
from apiaudit.model import Report, ReportFinding
from apiaudit.rules import load_rules


class Product(BaseModel):
    id: int
    name: str
    price: float
    description: str


disable_installed_extensions_check()  # its advice to use the SQLAlchemy extension: no database here
PRODUCTS = [Product(id=i, name=f"product {i}", price=i * 1.5, description="d" * 40) for i in range(1, 151)]
CUSTOMERS = [{"id": i, "name": f"customer {i}", "email": f"c{i}@example.com"} for i in range(1, 61)]


def order(order_id: int) -> dict[str, Any]:
    lines = [{"sku": f"SKU-{n}", "quantity": n % 3 + 1, "price": 9.5} for n in range(30)]
    return {"id": order_id, "status": "shipped", "items": lines, "total": 285.0, "currency": "EUR"}


def user(user_id: int) -> dict[str, Any]:
    recent = [{"id": 1000 + n, "total": 12.5 * n, "status": "paid"} for n in range(12)]
    return {"id": user_id, "name": "Ada", "roles": ["admin", "editor", "viewer"], "recent_orders": recent}


def chart() -> dict[str, Any]:
    return {"data": [{"t": 1_700_000_000 + 60 * i, "v": 100 + i % 17} for i in range(240)], "unit": "ms"}


def make_app(*, limit: str = "1000/minute") -> FastAPI:
    """The issue's app. ``limit`` is slowapi's limit on ``/limited`` (the rest allows 1000/minute)."""
    limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
    app = FastAPI()
    app.state.limiter = limiter
    app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)  # type: ignore[arg-type]
    app.add_middleware(GZipMiddleware, minimum_size=1000)

    @app.get("/products")
    def products() -> Page[Product]:
        return paginate(PRODUCTS)  # fastapi-pagination: items, total, page, size, pages

    @app.get("/orders/{order_id}")
    def get_order(order_id: int) -> dict[str, Any]:
        return order(order_id)

    @app.get("/users/{user_id}")
    def get_user(user_id: int) -> dict[str, Any]:
        return user(user_id)

    @app.get("/charts/latency")
    def get_chart() -> dict[str, Any]:
        return chart()

    @app.get("/top-products")
    def top(limit: int = 20) -> Annotated[list[Product], Field(max_length=20)]:
        return PRODUCTS[: min(limit, 20)]  # bounded: never more than 20, whatever is asked

    @app.get("/legacy/products")
    def legacy_products() -> list[Product]:
        return PRODUCTS  # every row, no pagination at all

    @app.get("/legacy/customers")
    def legacy_customers(limit: int = 25) -> list[dict[str, Any]]:
        return CUSTOMERS[:limit]  # honours limit, no cap, no way to reach the next page

    @app.get("/limited")
    @limiter.limit(limit)
    def limited(request: Request, response: Response) -> dict[str, Any]:
        return {"id": 1, "name": "limited"}

    cold = {"warm": False}

    @app.get("/cache-aside")
    async def cache_aside() -> dict[str, Any]:
        if not cold["warm"]:  # the first request misses the application cache
            await asyncio.sleep(1.2)
            cold["warm"] = True
        return {"id": 1, "value": "cached"}

    add_pagination(app)  # after the routes: it wires the Page routes it finds
    return app


def make_plain_app() -> FastAPI:
    """No compression middleware: JSON bodies of 130 KB and 1.2 KB, small objects for field selection."""
    app = FastAPI()

    @app.get("/report")
    def report() -> list[dict[str, Any]]:
        return [{"id": i, "label": f"row {i}", "note": "n" * 100} for i in range(1, 1000)]

    @app.get("/summary")
    def summary() -> dict[str, Any]:
        return {"id": 1, "text": "s" * 1180}

    @app.get("/tags/{tag_id}")
    def tag(tag_id: int) -> dict[str, Any]:
        return {"id": tag_id, "name": "tag", "slug": "t", "hue": 3}  # ~50 bytes, 4 fields

    return app


def scan(urls: list[str], *, endpoints: list[dict[str, Any]] | None = None, http: dict[str, Any] | None = None,
         **cli: Any) -> Report:
    """One in-process ``apiaudit scan`` (rules from rules/*.yaml, ``--samples 0`` unless given)."""
    cfg = Config(ruleset=load_rules(), endpoints=endpoints or [], http=http or {})
    return run_scan(ScanOptions.from_cli(cfg, urls=urls, quiet=True, **{"samples": 0, **cli}), cfg)


def findings(report: Report, rule: str | None = None, path: str | None = None) -> list[ReportFinding]:
    """Findings of ``rule`` (prefix match when it ends with '.') at URLs whose path is ``path``."""
    def at(f: ReportFinding) -> bool:
        url = str(f.location.get("url") or "")
        return path is None or urlsplit(url).path == path

    def of(f: ReportFinding) -> bool:
        return rule is None or f.rule == rule or (rule.endswith(".") and f.rule.startswith(rule))

    return [f for f in report.findings if at(f) and of(f)]
