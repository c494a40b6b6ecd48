"""Evidence round-trips through JSON; discovery reads config endpoints and OpenAPI documents."""

from __future__ import annotations

from typing import Any

from apiaudit.http import discover
from apiaudit.http.collections import find_collection, item_ids
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence


def test_evidence_round_trip_keeps_binary_and_text_bodies() -> None:
    text = Exchange(
        id="x1",
        purpose="base",
        method="GET",
        url="http://h/a",
        status=200,
        response_headers=[("ETag", '"a"'), ("Vary", "A"), ("vary", "B")],
        body=b'{"a": 1}',
        body_size=8,
    )
    binary = Exchange(
        id="x2",
        purpose="coding-gzip",
        method="GET",
        url="http://h/a",
        body=b"\xff\x00\x01",
        error="ReadTimeout",
        redirects=["http://h/0"],
    )
    ev = ScanEvidence(
        endpoints=[Endpoint(url="http://h/a", collection=True, exchanges=[text, binary])],
        extra=[text],
        requests_made=3,
        budget=10,
        skipped=[{"url": "u", "purpose": "p", "reason": "r"}],
    )
    again = ScanEvidence.from_dict(ev.to_dict())
    assert again.to_dict() == ev.to_dict()
    assert again.endpoints[0].exchanges[1].body == b"\xff\x00\x01"
    assert again.endpoints[0].base_json() == {"a": 1}
    assert text.header("vary") == "A, B"  # repeated field lines join (RFC 9110 §5.3)


def test_collections_from_arrays_and_envelopes() -> None:
    assert find_collection([1, 2]).key == ""  # type: ignore[union-attr]
    assert find_collection({"results": [{"id": 1}], "next": None}).key == "results"  # type: ignore[union-attr]
    assert find_collection({"data": {"items": [{"id": 2}]}}).key == "data.items"  # type: ignore[union-attr]
    assert find_collection({"users": [{"id": 3}], "total": 1}).key == "users"  # type: ignore[union-attr]
    assert find_collection({"id": 1, "name": "x"}) is None
    assert item_ids([{"id": 7}, {"uuid": "u-1"}, "x"]) == ["7", "u-1"]


def test_config_endpoints_join_paths_and_params() -> None:
    eps = discover.from_config(
        ["http://api/x"],
        [
            {"path": "/v1/users", "collection": True, "params": {"active": "1"}, "resource_class": "short"},
            {"url": "http://api/me", "headers": {"Authorization": "Bearer abcd"}},
        ],
        "http://api/base",
        {"Accept": "application/json"},
    )
    urls = [e.url for e in eps]
    assert urls == ["http://api/x", "http://api/base/v1/users?active=1", "http://api/me"]
    assert eps[1].collection is True and eps[1].resource_class == "short"
    assert eps[2].authenticated and not eps[1].authenticated


OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "servers": [{"url": "/api"}],
    "components": {
        "parameters": {"Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}},
        "schemas": {"Loop": {"$ref": "#/components/schemas/Loop"}},
    },
    "paths": {
        "/users": {
            "get": {
                "parameters": [{"name": "q", "in": "query", "schema": {"$ref": "#/components/schemas/Loop"}}]
            }
        },
        "/users/{id}": {"get": {"parameters": [{"$ref": "#/components/parameters/Id"}]}},
        "/orders/{oid}": {"get": {"parameters": [{"name": "oid", "in": "path", "example": "o-42"}]}},
        "/search": {"get": {"parameters": [{"name": "term", "in": "query", "required": True}]}},
        "/items/{sku}": {
            "get": {"parameters": [{"name": "sku", "in": "path", "examples": {"one": {"value": "SKU 1"}}}]}
        },
        "/things": {"post": {}},
    },
}


def test_openapi_operations_examples_refs_and_skips() -> None:
    found = discover.operations(OPENAPI, "http://h:1/openapi.json", {})
    urls = sorted(e.url for e in found.endpoints)
    assert urls == ["http://h:1/api/items/SKU%201", "http://h:1/api/orders/o-42", "http://h:1/api/users"]
    assert [p.template for p in found.pending] == ["http://h:1/api/users/{id}"]
    assert found.pending[0].parent == "http://h:1/api/users"
    assert [s["url"] for s in found.skipped] == ["http://h:1/api/search"]
    assert "term" in found.skipped[0]["reason"]


def test_pending_filled_from_parent_collection_ids() -> None:
    found = discover.operations(OPENAPI, "http://h:1/openapi.json", {})
    users = Endpoint(
        url="http://h:1/api/users",
        exchanges=[
            Exchange(
                id="1",
                purpose="base",
                method="GET",
                url="http://h:1/api/users",
                status=200,
                body=b'[{"id": 5}, {"id": 6}]',
                body_size=20,
            )
        ],
    )
    made, skipped = discover.fill_from_collections(found.pending, [users], {})
    assert [e.url for e in made] == ["http://h:1/api/users/5"] and skipped == []
    made, skipped = discover.fill_from_collections(found.pending, [], {})
    assert made == [] and "no example" in skipped[0]["reason"]


def test_swagger2_base_path_and_bad_documents() -> None:
    doc = {"swagger": "2.0", "host": "api.test:8080", "basePath": "/v2", "paths": {"/pets": {"get": {}}}}
    assert [e.url for e in discover.operations(doc, "http://x/swagger.json", {}).endpoints] == [
        "http://api.test:8080/v2/pets"
    ]
    for raw in (b"not: [valid", b'{"paths": {}}', b"[]", b"x" * (discover.MAX_DOC_BYTES + 1)):
        try:
            discover.parse_document(raw)
        except ValueError:
            continue
        raise AssertionError(f"accepted {raw[:20]!r}")
    assert discover.parse_document(b"openapi: 3.1.0\npaths: {}\n")["openapi"] == "3.1.0"


def test_openapi_servers_off_the_target_host_are_not_followed() -> None:
    """H21: a document served by the target cannot aim the scan at another host (an SSRF lever)."""
    from apiaudit.http.discover import host_check, operations

    doc = {"openapi": "3.0.3", "servers": [{"url": "http://169.254.169.254/v1"}],
           "paths": {"/items": {"get": {}}}}
    on_target = host_check(["http://127.0.0.1:8000/openapi.json"], allow_hosts=[])
    found = operations(doc, "http://127.0.0.1:8000/openapi.json", {}, on_target)
    assert [ep.url for ep in found.endpoints] == ["http://127.0.0.1:8000/v1/items"]  # the path kept, on target
    assert "169.254.169.254" in found.errors[0]["message"] and found.errors[0]["where"] == "openapi"
    # Allowed by name (http.allow_hosts), or the same host: used as written, nothing said.
    allowed = operations(doc, "http://127.0.0.1:8000/openapi.json", {},
                         host_check(["http://127.0.0.1:8000/"], allow_hosts=["169.254.169.254"]))
    assert [ep.url for ep in allowed.endpoints] == ["http://169.254.169.254/v1/items"] and not allowed.errors
    assert not host_check(["http://127.0.0.1:8000/"], [])("http://127.0.0.1:9999/")  # another port is another origin
    assert not host_check(["http://127.0.0.1:8000/"], [])("http://[::1")  # malformed: never on target
