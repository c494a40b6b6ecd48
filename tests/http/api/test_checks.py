"""The API-level checks on hand-built evidence: each fires on the bad case and stays quiet on the good.

Expected outcomes come from the guide's thresholds and the RFCs, not from earlier tool output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from apiaudit.checks import CheckContext, NotApplicable, run_checks
from apiaudit.http.checks import fields, latency, monitoring, pagination, ratelimit, stateless, static
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.model import Finding
from apiaudit.rules import load_rules

U = "http://127.0.0.1:9/api/items"
_ids = iter(range(1, 1_000_000))


def ex(
    purpose: str,
    url: str = U,
    *,
    status: int | None = 200,
    body: Any = None,
    headers: Iterable[tuple[str, str]] = (),
    elapsed: float = 5.0,
    started: float | None = None,
    error: str | None = None,
) -> Exchange:
    raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
    hdrs = list(headers)
    if body is not None and not isinstance(body, bytes):
        hdrs.append(("Content-Type", "application/json"))
    n = next(_ids)
    return Exchange(
        id=f"x{n}",
        purpose=purpose,
        method="GET",
        url=url,
        status=status,
        response_headers=hdrs,
        body=raw,
        body_size=len(raw),
        wire_size=len(raw),
        elapsed_ms=elapsed,
        started_ms=float(n) if started is None else started,
        error=error,
    )


def ev_of(*endpoints: Endpoint, extra: Iterable[Exchange] = ()) -> ScanEvidence:
    return ScanEvidence(endpoints=list(endpoints), extra=list(extra))


def ctx(**thresholds: float) -> CheckContext:
    return CheckContext(ruleset=load_rules(), thresholds=dict(thresholds))


def run(fn: Callable[..., Iterable[Finding | NotApplicable]], ev: ScanEvidence, **th: float) -> list[Any]:
    return list(fn(ev, ctx(**th)))


def rules(out: list[Any]) -> list[str]:
    return sorted(f.rule_id for f in out if isinstance(f, Finding))


def items(n: int, start: int = 1, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"id": i, "name": f"n{i}", "email": f"e{i}", "bio": "b", **extra} for i in range(start, start + n)
    ]


# ---- pagination ----


def test_unbounded_and_no_metadata_fire_above_the_thresholds() -> None:
    bad = Endpoint(U, exchanges=[ex("base", body=items(150))])
    # one fact, one finding: above the maximum with no metadata is one unbounded finding saying so
    out = run(pagination.check_page_size, ev_of(bad))
    assert rules(out) == ["http.pagination.unbounded"]
    assert out[0].vars["metadata"] == "no pagination metadata"
    ok = Endpoint(
        U,
        exchanges=[
            ex("base", body={"data": items(100), "pagination": {"next_cursor": "abc", "has_more": True}})
        ],
    )
    assert rules(run(pagination.check_page_size, ev_of(ok))) == []
    small = Endpoint(U, exchanges=[ex("base", body=items(10))])  # "a few items": not above the 10 threshold
    assert rules(run(pagination.check_page_size, ev_of(small))) == []
    # above the metadata threshold but nothing shows more items exist: unsure (info), not a failure
    assert rules(run(pagination.check_page_size, ev_of(small), pagination_metadata_min_items=5)) == [
        "http.pagination.unsure"
    ]
    more = Endpoint(U, exchanges=[ex("base", body=items(10)),
                                  ex("page-limit-limit", url=U + "?limit=1000", body=items(40))])
    assert rules(run(pagination.check_page_size, ev_of(more), pagination_metadata_min_items=5)) == [
        "http.pagination.no-metadata"
    ]


def test_link_header_and_total_count_are_metadata() -> None:
    for headers in ([("Link", f'<{U}?page=2>; rel="next"')], [("X-Total-Count", "500")]):
        ep = Endpoint(U, exchanges=[ex("base", body=items(50), headers=headers)])
        assert rules(run(pagination.check_page_size, ev_of(ep))) == []


def test_not_a_collection_is_not_applicable() -> None:
    ep = Endpoint(U, exchanges=[ex("base", body={"id": 1, "name": "x"})])
    out = run(pagination.check_page_size, ev_of(ep))
    assert len(out) == 1 and isinstance(out[0], NotApplicable)


def test_oversized_limit_honoured_capped_or_rejected() -> None:
    honoured = ex("page-limit-per_page", f"{U}?per_page=1000", body=items(1000))
    capped = ex("page-limit-limit", f"{U}?limit=1000", body=items(100))
    rejected = ex("page-limit-limit", f"{U}?limit=1000", status=400, body={"detail": "Maximum limit is 100"})
    out = run(
        pagination.check_limit_param, ev_of(Endpoint(U, exchanges=[ex("base", body=items(20)), honoured]))
    )
    assert rules(out) == ["http.pagination.limit-not-capped"] and out[0].vars["param"] == "per_page"
    for probe, behaviour in ((capped, "capped"), (rejected, "rejected")):
        out = run(pagination.check_limit_param, ev_of(Endpoint(U, exchanges=[probe])))
        assert rules(out) == ["http.pagination.limit-capped"] and out[0].evidence["behaviour"] == behaviour


def test_oversized_limit_on_a_small_collection_is_not_called_capped() -> None:
    small = ex("page-limit-limit", f"{U}?limit=1000", body=items(30))
    out = run(pagination.check_limit_param, ev_of(Endpoint(U, exchanges=[small])))
    assert rules(out) == ["http.pagination.limit-capped"]
    assert out[0].evidence["behaviour"].startswith("within the maximum")


def test_walk_detects_broken_next_loops_and_overlap() -> None:
    page1 = {"data": items(20), "next": f"{U}?cursor=a"}
    good = Endpoint(
        U,
        exchanges=[
            ex("base", body=page1),
            ex("page-2", f"{U}?cursor=a", body={"data": items(20, 21)}),
            ex("page-3", f"{U}?cursor=b", body={"data": items(5, 41)}),
        ],
    )
    assert rules(run(pagination.check_page_walk, ev_of(good))) == []
    broken = Endpoint(
        U, exchanges=[ex("base", body=page1), ex("page-2", f"{U}?cursor=a", status=500, body={})]
    )
    out = run(pagination.check_page_walk, ev_of(broken))
    assert rules(out) == ["http.pagination.next-broken"] and "500" in out[0].vars["problem"]
    loop = Endpoint(U, exchanges=[ex("base", body=page1), ex("page-2", U, body={"data": items(20, 21)})])
    assert rules(run(pagination.check_page_walk, ev_of(loop))) == ["http.pagination.next-broken"]
    overlap = Endpoint(
        U, exchanges=[ex("base", body=page1), ex("page-2", f"{U}?cursor=a", body={"data": items(20, 11)})]
    )
    out = run(pagination.check_page_walk, ev_of(overlap))
    assert rules(out) == ["http.pagination.page-overlap"] and out[0].vars["shared"] == 10


def test_offset_style_and_deep_offset_ratio() -> None:
    link = [("Link", f'<{U}?offset=20&limit=20>; rel="next"')]
    base = ex("base", body=items(20), headers=link)
    fast = [
        ex("page-offset-0", f"{U}?offset=0&limit=20", body=items(20), elapsed=4.0),
        ex("page-offset-deep", f"{U}?offset=9980&limit=20", body=items(20), elapsed=10.0),
    ]
    out = run(pagination.check_offset, ev_of(Endpoint(U, exchanges=[base, *fast])))
    assert rules(out) == ["http.pagination.offset"] and out[0].vars["param"] == "offset"
    slow = [
        ex("page-offset-0", f"{U}?offset=0&limit=20", body=items(20), elapsed=4.0),
        ex("page-offset-deep", f"{U}?offset=9980&limit=20", body=items(20), elapsed=80.0),
        ex("page-offset-0-2", f"{U}?offset=0&limit=20", body=items(20), elapsed=3.0),
        ex("page-offset-deep-2", f"{U}?offset=9980&limit=20", body=items(20), elapsed=60.0),
    ]
    out = run(pagination.check_offset, ev_of(Endpoint(U, exchanges=[base, *slow])))
    assert rules(out) == ["http.pagination.deep-offset-slow", "http.pagination.offset"]
    deep = next(f for f in out if f.rule_id.endswith("slow"))
    assert deep.vars["ratio"] == 20.0  # fastest deep (60 ms) over fastest first (3 ms)
    cursor = ex("base", body={"data": items(20), "pagination": {"next_cursor": "abc", "has_more": True}})
    assert rules(run(pagination.check_offset, ev_of(Endpoint(U, exchanges=[cursor])))) == []


def test_page_meta_reads_bare_cursors_and_hal_links() -> None:
    meta = pagination.page_meta(ex("base", body={"items": [], "next_cursor": "xyz"}))
    assert meta.next_url == f"{U}?cursor=xyz" and meta.style == "cursor"
    hal = pagination.page_meta(ex("base", body={"_links": {"next": {"href": "/api/items?page=3"}}}))
    assert hal.next_url == "http://127.0.0.1:9/api/items?page=3" and hal.style == "page"


# ---- field selection ----


def test_fields_honoured_reports_bytes_saved() -> None:
    base = ex("base", body={"data": items(20)})
    sel = ex("fields-fields", f"{U}?fields=id", body={"data": [{"id": i} for i in range(1, 21)]})
    out = run(fields.check_fields, ev_of(Endpoint(U, exchanges=[base, sel])))
    assert rules(out) == ["http.fields.supported"]
    assert out[0].evidence["bytes_saved"] == base.body_size - sel.body_size > 0


def test_fields_ignored_fires() -> None:
    rows = items(20, bio="b" * 120)  # objects over fields_min_object_bytes: worth selecting from
    base = ex("base", body=rows)
    tries = [ex(f"fields-{f}", f"{U}?x", body=rows) for f in ("fields", "jsonapi", "select", "odata")]
    out = run(fields.check_fields, ev_of(Endpoint(U, exchanges=[base, *tries])))
    assert rules(out) == ["http.fields.ignored"] and out[0].vars["fields"] == 4


def test_jsonapi_sparse_fieldsets_count_attributes() -> None:
    full = {
        "data": [{"type": "users", "id": "1", "attributes": {"name": "a", "email": "b", "bio": "c", "x": 1}}]
    }
    sparse = {"data": [{"type": "users", "id": "1", "attributes": {"name": "a"}}]}
    base, sel = ex("base", body=full), ex("fields-jsonapi", f"{U}?fields[users]=name", body=sparse)
    assert rules(run(fields.check_fields, ev_of(Endpoint(U, exchanges=[base, sel])))) == [
        "http.fields.supported"
    ]


# ---- rate limiting ----


def _limited(remaining: list[int], *, policy: str = '"default";q=100;w=60', gap_ms: float = 1.0) -> Endpoint:
    exs = [
        ex(
            "base" if i == 0 else f"sample-{i}",
            body={"id": 1},
            started=i * gap_ms,
            headers=[("RateLimit", f'"default";r={r};t=30'), ("RateLimit-Policy", policy)],
        )
        for i, r in enumerate(remaining)
    ]
    return Endpoint(U, exchanges=exs)


def test_no_ratelimit_headers_and_no_429() -> None:
    ep = Endpoint(U, exchanges=[ex("base", body={"id": 1}), ex("sample-1", body={"id": 1})])
    assert rules(run(ratelimit.check_headers, ev_of(ep))) == ["http.ratelimit.none"]


def test_countdown() -> None:
    assert rules(run(ratelimit.check_headers, ev_of(_limited([99, 98, 97, 96])))) == [
        "http.ratelimit.limited"
    ]
    static_header = Endpoint(
        U,
        exchanges=[
            ex(
                "base" if i == 0 else f"sample-{i}",
                body={},
                started=float(i),
                headers=[("X-RateLimit-Remaining", "100")],
            )
            for i in range(5)
        ],
    )
    assert rules(run(ratelimit.check_headers, ev_of(static_header))) == [
        "http.ratelimit.limited",
        "http.ratelimit.no-countdown",
    ]
    # 100 per 60 s refills 1.67 tokens per second: 2 s between requests can hide the countdown.
    refilled = _limited([99, 99, 99, 99], gap_ms=2000.0)
    assert rules(run(ratelimit.check_headers, ev_of(refilled))) == ["http.ratelimit.limited"]


def test_invalid_ratelimit_header() -> None:
    ep = Endpoint(U, exchanges=[ex("base", body={}, headers=[("X-RateLimit-Remaining", "lots")])])
    assert "http.ratelimit.invalid-header" in rules(run(ratelimit.check_headers, ev_of(ep)))


def test_429_needs_retry_after_or_reset() -> None:
    burst = [ex(f"burst-{i}", body={}) for i in range(1, 4)] + [ex("burst-4", status=429, body={})]
    out = run(ratelimit.check_burst, ev_of(Endpoint(U, exchanges=[ex("base", body={}), *burst])))
    assert rules(out) == ["http.ratelimit.429-no-retry-after"] and out[0].vars["sent"] == 4
    for hint in (
        ("Retry-After", "3"),
        ("RateLimit", '"default";r=0;t=3'),
        ("Retry-After", "Sun, 06 Nov 1994 08:49:40 GMT"),
    ):
        ok = ex("burst-4", status=429, body={}, headers=[hint, ("Date", "Sun, 06 Nov 1994 08:49:37 GMT")])
        assert rules(run(ratelimit.check_burst, ev_of(Endpoint(U, exchanges=[ok])))) == []


def test_burst_without_429() -> None:
    burst = [ex(f"burst-{i}", body={}, started=i * 10.0, elapsed=5.0) for i in range(1, 21)]
    out = run(ratelimit.check_burst, ev_of(Endpoint(U, exchanges=burst)))
    assert rules(out) == ["http.ratelimit.burst-not-limited"] and out[0].vars["sent"] == 20
    out = run(ratelimit.check_burst, ev_of(Endpoint(U, exchanges=[ex("base", body={})])))
    assert isinstance(out[0], NotApplicable)


# ---- latency and errors ----


def _timed(values: list[float], status: int = 200) -> Endpoint:
    return Endpoint(
        U,
        exchanges=[
            ex("base" if i == 0 else f"sample-{i}", status=status, body={}, elapsed=v)
            for i, v in enumerate(values)
        ],
    )


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert latency.percentile(values, 50) == 10.0  # ceil(0.5 * 20) = 10th
    assert latency.percentile(values, 95) == 19.0  # ceil(0.95 * 20) = 19th
    assert latency.percentile(values, 99) == 20.0
    assert latency.percentile([7.0], 99) == 7.0


def test_p95_thresholds() -> None:
    # P95 is judged from 20 warm requests on (rules/thresholds.yaml latency_min_samples); the first is apart
    assert rules(run(latency.check_latency, ev_of(_timed([100.0] * 21)))) == []
    assert rules(run(latency.check_latency, ev_of(_timed([100.0] * 19 + [600.0] * 2)))) == ["http.latency.p95-warn"]
    assert rules(run(latency.check_latency, ev_of(_timed([1200.0] * 21)))) == ["http.latency.p95-critical"]
    # fewer: one slow request among six is not a P95; a slow median is (P95 >= P50)
    assert rules(run(latency.check_latency, ev_of(_timed([100.0] * 5 + [600.0])))) == []
    assert rules(run(latency.check_latency, ev_of(_timed([1200.0] * 6)))) == ["http.latency.median-critical"]
    assert rules(run(latency.check_latency, ev_of(_timed([300.0] * 6)), p95_warn_ms=200)) == [
        "http.latency.median-warn"
    ]


def test_samples_off_uses_probe_timings_but_not_the_burst() -> None:
    ep = Endpoint(
        U,
        exchanges=[
            ex("base", body={}, elapsed=10.0),
            ex("coding-gzip", body={}, elapsed=700.0),
            ex("burst-1", body={}, elapsed=5000.0),
        ],
    )
    out = run(latency.check_latency, ev_of(ep))
    assert rules(out) == ["http.latency.median-warn"] and out[0].vars["p50_ms"] == 700.0
    assert out[0].vars["cold_ms"] == 10.0 and out[0].vars["n"] == 1  # the first request is apart


def test_server_timing_is_reported() -> None:
    ep = Endpoint(U, exchanges=[ex("base", body={}, headers=[("Server-Timing", "db;dur=12.5, app;dur=3")])])
    out = run(latency.check_latency, ev_of(ep))
    assert rules(out) == ["http.latency.server-timing"] and out[0].evidence["median_ms"] == {
        "db": 12.5,
        "app": 3.0,
    }
    assert latency.measurements(ev_of(ep))["server_timing"] == {U: {"db": 12.5, "app": 3.0}}


def test_error_rates() -> None:
    healthy = _timed([5.0] * 200)
    assert rules(run(latency.check_error_rates, ev_of(healthy))) == []
    warn = Endpoint(
        "http://h/b",
        exchanges=[
            ex("base", "http://h/b", status=503, body={}),
            ex("sample-1", "http://h/b", error="ReadTimeout", status=None),
        ],
    )
    out = run(latency.check_error_rates, ev_of(healthy, warn))  # 2 of 202 = 0.99 %: below 1 %
    assert rules(out) == []
    warn.exchanges.append(ex("sample-2", "http://h/b", status=500, body={}))  # 3 of 203 = 1.48 %
    assert rules(run(latency.check_error_rates, ev_of(healthy, warn))) == ["http.errors.rate-warn"]
    assert rules(run(latency.check_error_rates, ev_of(_timed([5.0] * 10, status=502)))) == [
        "http.errors.rate-critical"
    ]
    assert rules(run(latency.check_error_rates, ev_of(_timed([5.0] * 10, status=404)))) == [
        "http.errors.client-rate"
    ]


# ---- stateless ----


def test_session_cookie_on_api_but_not_on_html() -> None:
    api = Endpoint(
        U, exchanges=[ex("base", body={}, headers=[("Set-Cookie", "JSESSIONID=abc; Path=/; HttpOnly")])]
    )
    out = run(stateless.check_session_cookies, ev_of(api))
    assert rules(out) == ["http.stateless.session-cookie"]
    assert "abc" not in json.dumps(out[0].evidence)  # cookie values are credentials
    html = Endpoint(
        U,
        exchanges=[
            ex(
                "base",
                body=b"<html></html>",
                headers=[("Content-Type", "text/html"), ("Set-Cookie", "sessionid=abc; HttpOnly")],
            )
        ],
    )
    assert rules(run(stateless.check_session_cookies, ev_of(html))) == []
    prefs = Endpoint(
        U, exchanges=[ex("base", body={}, headers=[("Set-Cookie", "theme=dark; Max-Age=86400")])]
    )
    bearer = Endpoint(U, headers={"Authorization": "Bearer eyJ..."}, exchanges=[ex("base", body={})])
    assert rules(run(stateless.check_session_cookies, ev_of(prefs, bearer))) == []


# ---- static assets / CDN ----


def _asset(url: str, cc: str | None, *, repeat_headers: Iterable[tuple[str, str]] = ()) -> list[Exchange]:
    hdrs = [("Cache-Control", cc)] if cc else []
    return [
        ex(f"static:{url}", url, body=b"x" * 50, headers=hdrs),
        ex(f"static-repeat:{url}", url, body=b"x" * 50, headers=[*hdrs, *repeat_headers]),
    ]


def test_fingerprinted_assets_need_a_year_and_immutable() -> None:
    good = _asset(
        "http://h/static/app.3f2a9c1b.js",
        "public, max-age=31536000, immutable",
        repeat_headers=[("Cache-Status", "edge; hit"), ("Age", "30")],
    )
    bad = _asset("http://h/static/index-Df3kq9Lz.js", "public, max-age=600")
    out = run(static.check_static, ev_of(extra=[*good, *bad]))
    assert rules(out) == ["http.static.not-immutable"] and "Df3kq9Lz" in out[0].location["url"]


def test_plain_asset_without_cache_headers_and_no_cdn() -> None:
    out = run(static.check_static, ev_of(extra=_asset("http://h/static/logo.png", None)))
    assert rules(out) == ["http.static.no-cache-headers", "http.static.no-cdn-hit"]
    assert isinstance(run(static.check_static, ev_of())[0], NotApplicable)


def test_fingerprint_detection() -> None:
    yes = ["app.3f2a9c1b.js", "main-Df3kq9Lz.js", "style.css?v=8d7f6e5c", "chunk.a1b2c3d4e5.css"]
    no = ["app.js", "jquery-3.7.1.min.js", "bootstrap.bundle.min.js", "polyfills.js?x=1"]
    assert all(static.fingerprinted(f"http://h/s/{n}") for n in yes)
    assert not any(static.fingerprinted(f"http://h/s/{n}") for n in no)


# ---- monitoring hints ----

PROM = """# HELP http_request_duration_seconds Duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1",path="/a"} 3
http_request_duration_seconds_bucket{le="0.5",path="/a"} 4
http_request_duration_seconds_bucket{le="+Inf",path="/a"} 4
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1.5
"""


def test_metrics_histogram() -> None:
    good = ex("metrics:http://h/metrics", "http://h/metrics", body=PROM.encode())
    out = run(monitoring.check_metrics, ev_of(extra=[good]))
    assert rules(out) == ["http.monitoring.metrics-histogram"] and out[0].vars["buckets"] == 3
    counters = ex("metrics:http://h/metrics", "http://h/metrics", body=b"# TYPE up gauge\nup 1\n")
    assert rules(run(monitoring.check_metrics, ev_of(extra=[counters]))) == ["http.monitoring.no-histogram"]
    missing = ex("metrics:http://h/metrics", "http://h/metrics", status=404, body=b"not found")
    out = run(monitoring.check_metrics, ev_of(extra=[missing]))
    assert isinstance(out[0], NotApplicable) and out[0].items == ("monitoring.latency",)


def test_status_labelled_metrics() -> None:
    text = PROM + 'http_requests_total{method="GET",code="500"} 2\n'
    good = ex("metrics:http://h/metrics", "http://h/metrics", body=text.encode())
    out = run(monitoring.check_status_metrics, ev_of(extra=[good]))
    assert rules(out) == ["http.monitoring.status-counter"] and out[0].vars["metric"] == "http_requests_total"
    plain = ex("metrics:http://h/metrics", "http://h/metrics", body=PROM.encode())
    assert isinstance(run(monitoring.check_status_metrics, ev_of(extra=[plain]))[0], NotApplicable)


def test_application_cache_needs_a_hit_or_a_confirmed_drop() -> None:
    hit = Endpoint(
        U,
        exchanges=[
            ex("base", body={}, headers=[("X-Cache", "MISS")]),
            ex("sample-1", body={}, headers=[("X-Cache", "HIT from varnish")]),
        ],
    )
    assert rules(run(monitoring.check_application_cache, ev_of(hit))) == ["http.appcache.hit"]
    cold = [ex("base", body={}, elapsed=200.0)] + [
        ex(f"sample-{i}", body={}, elapsed=3.0) for i in range(1, 6)
    ]
    out = run(monitoring.check_application_cache, ev_of(Endpoint(U, exchanges=list(cold))))
    assert isinstance(out[0], NotApplicable)  # a cold start alone proves nothing
    busted = Endpoint(
        U, exchanges=[*cold, ex("sample-cachebust", f"{U}?_apiaudit_nocache=1", body={}, elapsed=190.0)]
    )
    assert rules(run(monitoring.check_application_cache, ev_of(busted))) == ["http.appcache.hit"]
    warm = Endpoint(
        U, exchanges=[*cold, ex("sample-cachebust", f"{U}?_apiaudit_nocache=1", body={}, elapsed=4.0)]
    )
    assert isinstance(run(monitoring.check_application_cache, ev_of(warm))[0], NotApplicable)


# ---- through the runner: statuses, not_assessed reasons ----


def test_run_checks_marks_outside_items_not_assessed() -> None:
    ep = Endpoint(U, exchanges=[ex("base", body={"id": 1, "name": "x"})])
    run_ = run_checks("scan", ev_of(ep), ctx())
    assert (
        "caching.application_cache" in run_.reasons
        and "cannot be seen from outside" in run_.reasons["caching.application_cache"]
    )
    assert "scaling.cdn" in run_.reasons
    assert "api.pagination" in run_.reasons  # no collection to judge
    assert not run_.errors
