"""The sample API's non-JSON routes: a home page, its static assets, /metrics and /openapi.json."""

from __future__ import annotations

from typing import Any

from apiaudit.demo.endpoints import STATIC_CSS, STATIC_JS, Handler, Reply, Request
from apiaudit.demo.httpkit import Histogram

INDEX_HTML = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>apiaudit demo shop</title>
<link rel="stylesheet" href="{STATIC_CSS}"><script src="{STATIC_JS}" defer></script></head>
<body><h1>apiaudit demo shop</h1><p>A sample API with deliberate performance problems.
See <a href="/openapi.json">/openapi.json</a>.</p></body></html>
"""
# Big enough (> 1 KB) that compression matters for the assets too.
APP_JS = "/* demo shop client */\n" + "".join(
    f"export function load{i}() {{ return fetch('/api/products?offset={i * 20}').then(r => r.json()); }}\n"
    for i in range(40)
)
STYLES_CSS = "/* demo shop styles */\n" + "".join(
    f".item-{i} {{ margin: {i}px; padding: {i % 7}px; color: #{i * 4099 % 0xFFFFFF:06x}; }}\n"
    for i in range(60)
)

# (path, summary, collection, example path parameters)
OPERATIONS: tuple[tuple[str, str, bool, dict[str, int]], ...] = (
    ("/api/customers", "All customers (unbounded)", True, {}),
    ("/api/customers/{id}/orders", "A customer's orders", True, {"id": 42}),
    ("/api/products", "Products, offset-paginated", True, {}),
    ("/api/export/products", "Every product with its description", True, {}),
    ("/api/recommendations", "Recommended products", True, {}),
    ("/api/orders/recent", "Recent orders with customer and product", True, {}),
    ("/api/posts", "Blog posts, cursor-paginated", True, {}),
    ("/api/posts/{id}", "One blog post", False, {"id": 7}),
    ("/api/categories", "Product categories", True, {}),
)


def openapi_document(base_url: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, summary, _collection, examples in OPERATIONS:
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}, "example": value}
            for name, value in examples.items()
        ]
        paths[path] = {
            "get": {"summary": summary, "parameters": params, "responses": {"200": {"description": "OK"}}}
        }
    return {
        "openapi": "3.0.3",
        "info": {"title": "apiaudit demo shop", "version": "1.0"},
        "servers": [{"url": base_url}],
        "paths": paths,
    }


def pages(metrics: Histogram) -> dict[str, Handler]:
    def index(req: Request) -> Reply:
        return Reply(200, INDEX_HTML, content_type="text/html; charset=utf-8")

    def js(req: Request) -> Reply:
        return Reply(200, APP_JS, content_type="text/javascript; charset=utf-8")

    def css(req: Request) -> Reply:
        return Reply(200, STYLES_CSS, content_type="text/css; charset=utf-8")

    def prometheus(req: Request) -> Reply:
        return Reply(200, metrics.exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")

    def openapi(req: Request) -> Reply:
        return Reply(200, openapi_document(req.base_url))

    return {"index": index, "js": js, "css": css, "metrics": prometheus, "openapi": openapi}
