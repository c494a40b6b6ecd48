"""Whatever a server sends (or a replayed evidence file holds), the API-level checks never raise
(run_checks would report a broken check as an error): random statuses, headers, bodies and URLs
under every purpose the probes write."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apiaudit.checks import CheckContext, run_checks
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.rules import load_rules

PURPOSES = ["base", "sample-1", "sample-2", "sample-cachebust", "page-small-all", "page-limit-limit",
            "page-2", "page-3", "page-offset-0", "page-offset-deep", "fields-fields", "fields-jsonapi", "burst-1"]
HEADERS = ["RateLimit", "RateLimit-Policy", "RateLimit-Remaining", "X-RateLimit-Remaining",
           "X-RateLimit-Reset", "Retry-After", "Link", "Server-Timing", "Set-Cookie", "Cache-Status", "X-Cache",
           "Age", "Content-Type", "Cache-Control", "X-Total-Count", "Date"]
ODD_VALUES = ['<http://[::1>; rel="next"', "</x?offset=5>; rel=next", '"a";r=5;t=2', "HIT", "9" * 30,
              "sessionid=***; HttpOnly", "Sun, 06 Nov 1994 08:49:37 GMT", "text/html"]
URLS = ["http://127.0.0.1:9/api/e", "http://[::1/api", "http://127.0.0.1:9/static/a.1a2b3c4d.js"]
KEYS = ["id", "data", "items", "next", "next_cursor", "has_more", "total", "attributes", "pagination",
        "_links", "href", "name", "type"]
OURS = ("pagination", "fields", "ratelimit", "latency", "stateless", "static", "monitoring")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.text(max_size=12) | st.sampled_from(ODD_VALUES),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=6),
    max_leaves=25,
)
bodies = st.one_of(json_values.map(lambda v: json.dumps(v).encode()), st.binary(max_size=60))
header_values = st.text(max_size=40) | st.sampled_from(ODD_VALUES)


@st.composite
def exchanges(draw: st.DrawFn, url: str, purposes: list[str]) -> Exchange:
    query = draw(st.sampled_from(["", "?limit=1000", "?offset=9000&limit=20", "?cursor=abc"]))
    body = draw(bodies)
    purpose = draw(st.sampled_from(purposes))
    return Exchange(
        id="x", purpose=purpose.replace("{url}", url), method="GET", url=url + query,
        status=draw(st.sampled_from([None, 200, 304, 400, 404, 429, 500, 503])),
        response_headers=draw(st.lists(st.tuples(st.sampled_from(HEADERS), header_values), max_size=6)),
        body=body, body_size=len(body), wire_size=len(body), elapsed_ms=draw(st.floats(0, 5000)),
        started_ms=draw(st.floats(0, 10**5)), error=draw(st.sampled_from([None, "ReadTimeout"])),
    )


@st.composite
def evidence(draw: st.DrawFn) -> ScanEvidence:
    endpoints = []
    for _ in range(draw(st.integers(1, 3))):
        url = draw(st.sampled_from(URLS))
        endpoints.append(Endpoint(url, exchanges=draw(st.lists(exchanges(url, PURPOSES), max_size=8))))
    extra_purposes = ["static:{url}", "static-repeat:{url}", "metrics:{url}"]
    extra = draw(st.lists(st.sampled_from(URLS).flatmap(lambda u: exchanges(u, extra_purposes)), max_size=4))
    return ScanEvidence(endpoints=endpoints, extra=extra)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=evidence())
def test_checks_never_raise(ev: ScanEvidence) -> None:
    run = run_checks("scan", ev, CheckContext(ruleset=load_rules(), thresholds={}))
    mine = [e for e in run.errors if any(f".checks.{m}." in e["where"] for m in OURS)]
    assert mine == []
