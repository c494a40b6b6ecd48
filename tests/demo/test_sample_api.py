"""The sample API, endpoint by endpoint, over real HTTP (in-memory data).

Expected values come from the data formulas in apiaudit/demo/data.py and from the HTTP RFCs (ETag
and If-None-Match: RFC 9110 §8.8.3 and §13.1.2; RateLimit: draft-ietf-httpapi-ratelimit-headers).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import httpx
import pytest

from apiaudit.demo.data import N_CUSTOMERS, N_POSTS
from apiaudit.demo.sample_api import BUCKET_CAPACITY, SampleApi, start_sample_api

IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture
def api() -> Iterator[SampleApi]:
    server = start_sample_api()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(api: SampleApi) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.url, timeout=30) as c:
        yield c


def test_unbounded_collection_honours_any_limit_without_metadata(client: httpx.Client) -> None:
    default = client.get("/api/customers")
    assert default.status_code == 200
    assert isinstance(default.json(), list) and len(default.json()) == 250  # above the guide's 100
    big = client.get("/api/customers", params={"limit": 1000})
    assert [c["id"] for c in big.json()] == list(range(1, 1001))
    assert "link" not in big.headers
    assert big.headers["set-cookie"].startswith("sessionid=")
    assert "etag" not in big.headers and "cache-control" not in big.headers
    assert "content-encoding" not in client.get("/api/customers", headers={"Accept-Encoding": "gzip"}).headers


def test_product_list_has_no_validator_and_no_cache_control(client: httpx.Client) -> None:
    r = client.get("/api/products", params={"offset": 40, "limit": 30})
    assert r.status_code == 200
    assert "etag" not in r.headers and "cache-control" not in r.headers and "last-modified" not in r.headers
    assert [p["id"] for p in r.json()["data"]] == list(range(41, 71))
    assert r.headers["link"] == f'<{r.json()["next"]}>; rel="next"'
    assert "offset=70" in r.json()["next"]
    capped = client.get("/api/products", params={"limit": 1000})
    assert len(capped.json()["data"]) == 100


def test_product_stock_filter_matches_formula(client: httpx.Client) -> None:
    r = client.get("/api/products", params={"in_stock": "false", "limit": 5})
    assert [p["id"] for p in r.json()["data"]] == [10, 20, 30, 40, 50]  # in_stock = id % 10 <> 0


def test_export_is_large_and_never_compressed(client: httpx.Client) -> None:
    r = client.get("/api/export/products", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert "content-encoding" not in r.headers
    assert int(r.headers["content-length"]) > 1024 * 1024  # above the 1 MiB response size limit
    assert len(r.json()) == 3000


def test_cursor_pagination_walks_every_post_once(client: httpx.Client) -> None:
    seen: list[int] = []
    params: dict[str, str | int] = {"limit": 1000}
    for _ in range(10):
        r = client.get("/api/posts", params=params, headers=IDENTITY)
        body = r.json()
        assert len(body["data"]) <= 100
        seen += [p["id"] for p in body["data"]]
        if not body["has_more"]:
            assert body["next_cursor"] is None and "link" not in r.headers
            break
        assert f"cursor={body['next_cursor']}" in r.headers["link"] and 'rel="next"' in r.headers["link"]
        params = {"cursor": body["next_cursor"], "limit": 100}
    assert seen == list(range(1, N_POSTS + 1))


def test_bad_cursor_and_bad_limit_are_400(client: httpx.Client) -> None:
    assert client.get("/api/posts", params={"cursor": "%%%"}).status_code == 400
    assert client.get("/api/posts", params={"limit": "ten"}).status_code == 400
    assert client.get("/api/customers/lookup").status_code == 400


def test_etag_and_304(client: httpx.Client) -> None:
    first = client.get("/api/posts/7", headers=IDENTITY)
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == "max-age=900"
    for tag in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        again = client.get("/api/posts/7", headers={**IDENTITY, "If-None-Match": tag})
        assert again.status_code == 304, tag
        assert again.content == b""
        assert (
            again.headers["etag"] == etag and again.headers["cache-control"] == first.headers["cache-control"]
        )
    assert client.get("/api/posts/7", headers={**IDENTITY, "If-None-Match": '"other"'}).status_code == 200


def test_gzip_is_negotiated_with_its_own_etag(client: httpx.Client) -> None:
    plain = client.get("/api/posts", headers=IDENTITY)
    raw = client.get("/api/posts", headers={"Accept-Encoding": "gzip"}, extensions={})
    assert raw.headers["content-encoding"] == "gzip"
    assert plain.headers["vary"] == raw.headers["vary"] == "Accept-Encoding"
    assert raw.headers["etag"] != plain.headers["etag"]  # a different representation (RFC 9110 §8.8.3)
    assert raw.json() == plain.json()  # httpx decodes the gzip body
    assert "content-encoding" not in client.get("/api/posts", headers={"Accept-Encoding": "gzip;q=0"}).headers


def test_gzip_body_on_the_wire_is_smaller(api: SampleApi) -> None:
    with (
        httpx.Client() as c,
        c.stream("GET", api.url + "/api/posts", headers={"Accept-Encoding": "gzip"}) as r,
    ):
        wire = b"".join(r.iter_raw())
    assert len(wire) == int(r.headers["content-length"])
    decoded = gzip.decompress(wire)
    assert json.loads(decoded)["data"][0]["id"] == 1 and len(wire) < len(decoded) / 2


def test_field_selection(client: httpx.Client) -> None:
    r = client.get("/api/posts", params={"fields": "id,title", "limit": 2})
    assert r.json()["data"] == [{"id": 1, "title": "Post 1"}, {"id": 2, "title": "Post 2"}]
    one = client.get("/api/posts/7", params={"fields": "id"})
    assert one.json() == {"id": 7}
    assert client.get("/api/customers", params={"fields": "id", "limit": 1}).json()[0].keys() > {"id"}


def test_cache_control_per_resource_class(client: httpx.Client) -> None:
    assert client.get("/api/categories").headers["cache-control"] == "max-age=3600"
    assert client.get("/api/posts").headers["cache-control"] == "max-age=60"
    lookup = client.get("/api/customers/lookup", params={"email": "customer42@example.com"})
    assert lookup.headers["cache-control"] == "no-store"
    assert lookup.json() == {
        "id": 42,
        "name": "Customer 42",
        "email": "customer42@example.com",
        "city": "Porto",
    }
    assert client.get("/static/app.3f9c2d1e.js").headers["cache-control"].endswith("immutable")
    assert "cache-control" not in client.get("/static/styles.css").headers


def test_rate_limit_counts_down_then_429_with_retry_after(client: httpx.Client) -> None:
    first = client.get("/api/categories")
    assert first.headers["ratelimit-policy"] == f'"default";q={BUCKET_CAPACITY};w=60'
    remaining = [int(first.headers["ratelimit"].split(";r=")[1].split(";")[0])]
    assert remaining[0] == BUCKET_CAPACITY - 1
    for _ in range(BUCKET_CAPACITY * 3):  # refills 1/s: generous for a slow, loaded machine
        r = client.get("/api/categories")
        if r.status_code == 429:
            break
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert "ratelimit" in r.headers
    assert "ratelimit" not in client.get("/api/customers", params={"limit": 1}).headers  # the bad ones: none


def test_flaky_endpoint_fails_every_fourth_request(client: httpx.Client) -> None:
    codes = [client.get("/api/recommendations").status_code for _ in range(8)]
    assert codes == [200, 200, 200, 500, 200, 200, 200, 500]


def test_methods_head_options_and_unknown_paths(client: httpx.Client) -> None:
    get = client.get("/api/categories", headers=IDENTITY)
    head = client.head("/api/categories", headers=IDENTITY)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    opts = client.options("/api/posts")
    assert opts.status_code == 204 and "GET" in opts.headers["allow"]
    assert client.post("/api/posts", json={}).status_code == 405
    assert client.get("/nope").status_code == 404


def test_metrics_and_openapi(client: httpx.Client) -> None:
    client.get("/api/posts")
    text = client.get("/metrics").text
    assert "# TYPE http_request_duration_seconds histogram" in text
    assert 'http_request_duration_seconds_count{route="/api/posts",status="200"} 1' in text
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.") and "/api/posts/{id}" in doc["paths"]
    assert 'href="/static/styles.css"' in client.get("/").text


def test_customer_orders_follow_the_formula(client: httpx.Client) -> None:
    rows = client.get("/api/customers/42/orders").json()["data"]
    assert rows and all((r["id"] * 7) % N_CUSTOMERS + 1 == 42 for r in rows)
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)


def test_fixes_switch_problems_off() -> None:
    api = start_sample_api(fixes=frozenset({"cache", "compression", "pagination", "session", "ratelimit"}))
    try:
        with httpx.Client(base_url=api.url) as c:
            products = c.get("/api/products")
            assert products.headers["cache-control"] == "max-age=300" and "etag" in products.headers
            customers = c.get("/api/customers", params={"limit": 1000})
            assert len(customers.json()["data"]) == 100 and customers.json()["has_more"] is True
            assert "set-cookie" not in customers.headers and "ratelimit" in customers.headers
            assert c.get("/api/export/products").headers["content-encoding"] == "gzip"
    finally:
        api.stop()
