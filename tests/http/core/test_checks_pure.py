"""Pure checks on recorded evidence, for cases no real server here produces (httpx drops a 304's
body, for one) and for the edges of the guide's TTL bands."""

from __future__ import annotations

from typing import Any

import pytest

from apiaudit.checks import CheckContext, run_checks
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.rules import load_rules

URL = "http://api.test/items"


def ex(
    purpose: str, status: int = 200, headers: dict[str, str] | None = None, body: bytes = b"{}", **kw: Any
) -> Exchange:
    return Exchange(
        id=purpose,
        purpose=purpose,
        method="GET",
        url=URL,
        status=status,
        request_headers=[("Accept-Encoding", "gzip, deflate, br, zstd")],
        response_headers=list((headers or {}).items()),
        body=body,
        body_size=len(body),
        wire_size=kw.pop("wire_size", len(body)),
        body_sha256=kw.pop("sha", "s1"),
        **kw,
    )


def rules(*exchanges: Exchange, companion: bool = False, **hints: Any) -> set[str]:
    """Findings on URL; ``companion`` adds a healthy endpoint, so a scan whose only answer is a
    refusal (a 404 base) still runs its checks (alone it could not be audited at all)."""
    endpoints = [Endpoint(url=URL, exchanges=list(exchanges), **hints)]
    if companion:
        ok = Exchange(id="ok", purpose="base", method="GET", url=URL + "/ok", status=200,
                      response_headers=list(GOOD.items()), body=b"{}", body_size=2, body_sha256="s0")
        endpoints.append(Endpoint(url=URL + "/ok", exchanges=[ok]))
    ev = ScanEvidence(endpoints=endpoints)
    run = run_checks("scan", ev, CheckContext(ruleset=load_rules(), thresholds={}))
    assert not run.errors, run.errors
    return {
        f.rule_id
        for f in run.findings
        if f.rule_id.startswith(("http.cache", "http.validation", "http.compression", "http.size"))
    }


GOOD = {"Cache-Control": "max-age=60", "ETag": '"a"', "Content-Type": "application/json"}


def test_304_with_body() -> None:
    found = rules(ex("base", headers=GOOD), ex("revalidate-etag", 304, GOOD, b"oops", wire_size=4))
    assert found == {"http.validation.304-body"}


def test_clean_revalidation_is_quiet() -> None:
    assert rules(ex("base", headers=GOOD), ex("revalidate-etag", 304, GOOD, b"", wire_size=0)) == set()


@pytest.mark.parametrize(
    ("cls", "cache_control", "fires"),
    [
        ("sensitive", "no-store", False),
        ("sensitive", "private, max-age=0", False),
        ("sensitive", "private, max-age=60", True),
        ("sensitive", "public, max-age=60", True),
        ("short", "max-age=60", False),
        ("short", "max-age=300", False),
        ("short", "max-age=301", True),
        ("medium", "max-age=1800", False),
        ("medium", "max-age=599", True),
        ("long", "max-age=86400", False),
        ("long", "no-cache", True),
        ("immutable", "max-age=31536000, immutable", False),
        (
            "immutable",
            "max-age=31536000",
            True,
        ),  # RFC 8246: the immutable directive is what stops revalidation
    ],
)
def test_lifetime_bands(cls: str, cache_control: str, fires: bool) -> None:
    found = rules(ex("base", headers={**GOOD, "Cache-Control": cache_control}), resource_class=cls)
    assert ("http.cache.lifetime-out-of-band" in found) is fires


def test_expires_counts_as_explicit_lifetime() -> None:
    headers = {
        "ETag": '"a"',
        "Date": "Sun, 29 Nov 2026 05:00:00 GMT",
        "Expires": "Sun, 29 Nov 2026 05:20:00 GMT",
    }
    assert rules(ex("base", headers=headers), resource_class="medium") == set()


@pytest.mark.parametrize(("status", "fires"), [(301, True), (404, True), (414, True), (302, False), (403, False)])
def test_heuristic_statuses_follow_rfc9110(status: int, fires: bool) -> None:
    # RFC 9110 §15.1 lists 200 203 204 206 300 301 308 404 405 410 414 501; 302 and 403 are not in it.
    assert ("http.cache.heuristic-freshness" in rules(ex("base", status, {}), companion=True)) is fires


def test_precompressed_media_not_a_compression_finding() -> None:
    big = b"\x89PNG" + b"\0" * 5000
    assert "http.compression.missing" not in rules(ex("base", headers={**GOOD, "Content-Type": "image/png"}, body=big))
    assert "http.compression.missing-small" in rules(ex("base", headers=GOOD, body=b" " * 5000))


def test_truncated_body_size_uses_lower_bound() -> None:
    base = ex(
        "base",
        headers={**GOOD, "Content-Encoding": "gzip"},
        body=b"x" * 10,
        truncated=True,
        content_coding="gzip",
        wire_size=3_000_000,
    )
    assert "http.size.too-large" in rules(base)


def test_ndjson_is_streamed() -> None:
    base = ex("base", headers={**GOOD, "Content-Type": "application/x-ndjson"}, body=b"{}\n" * 400_000)
    assert "http.size.too-large" not in rules(base)


def test_body_mismatch_needs_stable_content() -> None:
    gz = {**GOOD, "ETag": 'W/"a"', "Vary": "Accept-Encoding", "Content-Encoding": "gzip"}
    base = ex("base", headers=gz, content_coding="gzip", sha="g1", wire_size=1)
    identity = ex("coding-identity", headers={**GOOD, "ETag": 'W/"a"', "Vary": "Accept-Encoding"}, sha="i1")
    assert "http.compression.body-mismatch" in rules(base, identity)
    # A repeat in the same coding that differs too: the content is dynamic, not the coding broken.
    repeat = ex("sample-1", headers=gz, content_coding="gzip", sha="g2", wire_size=1)
    assert "http.compression.body-mismatch" not in rules(base, identity, repeat)
