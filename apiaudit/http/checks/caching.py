"""Cache-Control on the base responses: missing policy, lifetime vs the guide's TTL table, heuristic
freshness (RFC 9110 §15.1 statuses), ``public`` on authenticated responses, ``Vary: *``."""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.http.availability import refusal
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.http.semantics import (
    HEURISTIC_STATUSES,
    cache_control,
    cacheable_get,
    freshness_lifetime,
    has_explicit_freshness,
    http_location,
    vary_fields,
)
from apiaudit.model import Finding
from apiaudit.requirements import Req

YEAR = 365 * 24 * 3600
# The guide's "Caching Strategies" table, in seconds: (lowest, highest, text, policy to send).
BANDS: dict[str, tuple[int, int | None, str, str]] = {
    "short": (60, 300, "1-5 min", "Cache-Control: private, max-age=300"),
    "medium": (600, 1800, "10-30 min", "Cache-Control: public, max-age=1800"),
    "long": (3600, 86400, "1-24 h", "Cache-Control: public, max-age=86400"),
    "immutable": (YEAR, None, ">= 1 year + immutable", "Cache-Control: public, max-age=31536000, immutable"),
}


def _policy(ex: Exchange) -> str:
    cc = ex.header("cache-control")
    if cc:
        return f"Cache-Control: {cc}"
    if ex.header("expires"):
        return f"Expires: {ex.header('expires')}"
    return "no Cache-Control"


def _band(ep: Endpoint, ex: Exchange) -> Finding | None:
    cls = ep.resource_class
    if cls is None:
        return None
    cc = cache_control(ex)
    if cls == "sensitive":
        # "No Cache" row: not stored at all (no-store), or only privately and never reused fresh.
        if "no-store" in cc or ("private" in cc and (freshness_lifetime(ex) or 0) == 0):
            return None
        return Finding(
            "http.cache.lifetime-out-of-band",
            http_location(ep),
            {
                "resource_class": cls,
                "band": "TTL 0",
                "policy": _policy(ex),
                "expected": "Cache-Control: no-store",
            },
            {"cache_control": ex.header("cache-control"), "lifetime_s": freshness_lifetime(ex)},
        )
    low, high, text, expected = BANDS[cls]
    lifetime = freshness_lifetime(ex)
    ok = lifetime is not None and lifetime >= low and (high is None or lifetime <= high)
    if cls == "immutable":
        ok = ok and "immutable" in cc
    if ok:
        return None
    return Finding(
        "http.cache.lifetime-out-of-band",
        http_location(ep),
        {"resource_class": cls, "band": text, "policy": _policy(ex), "expected": expected},
        {"cache_control": ex.header("cache-control"), "lifetime_s": lifetime, "band_s": [low, high]},
    )


def _endpoint(ep: Endpoint, base: Exchange) -> Iterator[Finding]:
    where = http_location(ep)
    cc = cache_control(base)
    if cacheable_get(base) and base.header("cache-control") is None and base.header("expires") is None:
        yield Finding(
            "http.cache.no-cache-control",
            where,
            {},
            {"status": base.status, "headers": [k for k, _ in base.response_headers]},
        )
    elif base.status in HEURISTIC_STATUSES and not has_explicit_freshness(base) and "private" not in cc:
        lm = base.header("last-modified")
        note = f" (Last-Modified: {lm} lets them use 10% of its age)" if lm else ""
        yield Finding(
            "http.cache.heuristic-freshness",
            where,
            {"status": base.status, "lm_note": note},
            {"status": base.status, "cache_control": base.header("cache-control"), "last_modified": lm},
        )
    if base.status == 200:
        band = _band(ep, base)
        if band is not None:
            yield band
    if ep.authenticated and "public" in cc:
        yield Finding(
            "http.cache.public-authenticated",
            where,
            {"cache_control": base.header("cache-control")},
            {"cache_control": base.header("cache-control")},
        )
    if "*" in vary_fields(base):
        yield Finding("http.cache.vary-star", where, {}, {"vary": base.header("vary")})


@check(
    "http.cache.no-cache-control",
    "http.cache.lifetime-out-of-band",
    "http.cache.heuristic-freshness",
    "http.cache.public-authenticated",
    "http.cache.vary-star",
    kind="scan",
    requires=(Req.BASE_ANSWER,),
)
def check_cache_headers(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    judged = 0
    for ep in ev.endpoints:
        base = ep.base()
        if base is None or not base.ok or base.method != "GET":
            continue
        # A refusal (401/403/404, a bare 429, 5xx) says nothing of the API's caching policy: its
        # findings stand, but it does not count as an endpoint judged.
        judged += refusal(base) is None
        yield from _endpoint(ep, base)
    if not judged:
        yield NotApplicable("no endpoint answered a GET with the API's own content", missing=True)
