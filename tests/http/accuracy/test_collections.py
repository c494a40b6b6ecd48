"""Issue 14 point 1: collections vs single resources, against the FastAPI app of conftest.py (real
fastapi-pagination, GZipMiddleware) and against nginx serving the same documents as files.

Expected, from the guide ("Pagination on all collections (max 100 items)") and the shapes: an order
with 30 line items, a user with roles / recent_orders and a chart ``{"data": [240], "unit": "ms"}``
are single documents; a top-20 list that stays at 20 when asked for 1000 is bounded; none of them may
fail the item (info at most). ``/legacy/products`` (150 rows) and ``/legacy/customers`` (25 shown,
60 behind ``limit=1000``, no next link) are unpaginated collections: HIGH. fastapi-pagination's
``Page`` (items + total/page/size/pages) is paginated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from nginx_server import run_nginx
from scan_accuracy import chart, findings, order, scan, user

from apiaudit import pgcluster
from apiaudit.model import Report, Severity

SINGLE = ["/orders/42", "/users/7", "/charts/latency", "/top-products"]
COLLECTIONS = ["/legacy/products", "/legacy/customers", "/products"]


def _pagination(report: Report, path: str) -> list[tuple[str, Severity]]:
    return [(f.rule, f.severity) for f in findings(report, "http.pagination.", path)]


@pytest.fixture(scope="module")
def by_body(realapp: str) -> Report:
    return scan([realapp + p for p in SINGLE + COLLECTIONS])


@pytest.fixture(scope="module")
def by_spec(realapp: str) -> Report:
    return scan([realapp + "/products"], openapi=realapp + "/openapi.json")


def test_single_resources_and_bounded_lists_never_fail(by_body: Report) -> None:
    for path in SINGLE:
        assert all(sev <= Severity.INFO for _, sev in _pagination(by_body, path)), (path, _pagination(by_body, path))
    # /orders/42 and /users/7 end with an id: their lists are parts of one resource, nothing to say
    assert _pagination(by_body, "/orders/42") == []
    assert _pagination(by_body, "/users/7") == []
    # the chart's list sits beside "unit"; the top-20 stayed at 20 under limit=1000: unsure, info
    assert ("http.pagination.unsure", Severity.INFO) in _pagination(by_body, "/charts/latency")
    top = findings(by_body, "http.pagination.unsure", "/top-products")
    assert top and "no more items" in top[0].message


def test_real_unpaginated_collections_still_fail(by_body: Report) -> None:
    # one fact, one finding: 150 items and no metadata is one HIGH unbounded, not two
    assert _pagination(by_body, "/legacy/products") == [("http.pagination.unbounded", Severity.HIGH)]
    assert "no pagination metadata" in findings(by_body, "http.pagination.unbounded", "/legacy/products")[0].message
    customers = findings(by_body, "http.pagination.no-metadata", "/legacy/customers")
    assert [f.severity for f in customers] == [Severity.HIGH]
    assert "limit=1000 returned 60 items" in customers[0].message
    assert all(sev <= Severity.INFO for _, sev in _pagination(by_body, "/products"))  # fastapi-pagination Page


def test_openapi_schema_decides(by_spec: Report) -> None:
    # From the spec: list[Product] arrays are collections, Page[Product] is Page-like, the top-20 has
    # maxItems 20 (bounded), dict responses and /orders/{id} are not collections.
    assert _pagination(by_spec, "/legacy/products") == [("http.pagination.unbounded", Severity.HIGH)]
    assert [sev for _, sev in _pagination(by_spec, "/legacy/customers")].count(Severity.HIGH) == 1
    for path in ("/top-products", "/charts/latency", "/cache-aside", "/limited"):
        assert all(sev <= Severity.INFO for _, sev in _pagination(by_spec, path)), (path, _pagination(by_spec, path))
    assert not findings(by_spec, "http.pagination.unsure", "/top-products")  # maxItems: known bounded


NGINX = """
  types {{ application/json json; }}
  default_type application/json;
  server {{
    listen 127.0.0.1:{port};
    root {prefix}/www;
  }}
"""


@pytest.fixture(scope="module")
def nginx_docs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    prefix = tmp_path_factory.mktemp("nginx-docs")
    docs = {"orders/42": order(42), "users/7": user(7), "charts/latency": chart(),
            "catalog": [{"id": i, "name": f"p{i}"} for i in range(150)]}
    for name, doc in docs.items():
        path = Path(prefix / "www" / name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc))
    port = pgcluster.free_port()
    with run_nginx(prefix, NGINX.format(prefix=prefix, port=port), [port]):
        yield f"http://127.0.0.1:{port}"


def test_same_documents_served_by_nginx(nginx_docs: str) -> None:
    report = scan([nginx_docs + p for p in ("/orders/42", "/users/7", "/charts/latency", "/catalog")])
    for path in ("/orders/42", "/users/7", "/charts/latency"):
        assert all(sev <= Severity.INFO for _, sev in _pagination(report, path)), (path, _pagination(report, path))
    assert _pagination(report, "/catalog") == [("http.pagination.unbounded", Severity.HIGH)]
