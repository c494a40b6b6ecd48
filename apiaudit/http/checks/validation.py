"""Conditional requests (RFC 9110 §13) as probed by ``probes/validation.py``: validators present,
If-None-Match / If-Modified-Since answered with 304, the 304's headers and body, and what a 304
saves in time compared with a full 200."""

from __future__ import annotations

from collections.abc import Iterator
from statistics import median

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.http.semantics import cacheable_get, http_location, is_weak
from apiaudit.model import Finding
from apiaudit.requirements import Req

# RFC 9110 §15.4.5: fields a 304 must repeat when the 200 would carry them (Date left out: it changes).
REPEAT_ON_304 = ("cache-control", "content-location", "etag", "expires", "vary")


def _not_modified(ep: Endpoint, base: Exchange, ex: Exchange, ctx: CheckContext) -> Iterator[Finding]:
    where = http_location(ep)
    missing = [h for h in REPEAT_ON_304 if base.header(h) is not None and ex.header(h) is None]
    if missing:
        names = ", ".join(missing)
        yield Finding(
            "http.validation.304-missing-headers",
            where,
            {"missing": names},
            {"missing": missing, "exchange": ex.purpose},
        )
    if ex.wire_size > 0:
        yield Finding("http.validation.304-body", where, {"size": ex.wire_size}, {"bytes": ex.wire_size})
    full = [x.elapsed_ms for x in ep.exchanges if x.ok and x.status == 200 and x.method == "GET"]
    t200 = median(full) if full else 0.0
    if t200 >= ctx.threshold("revalidation_min_ms") and t200 > 0:
        ratio = round(ex.elapsed_ms / t200, 2)
        if ratio > ctx.threshold("revalidation_max_ratio"):
            yield Finding(
                "http.validation.304-slow",
                where,
                {"t304_ms": round(ex.elapsed_ms, 1), "t200_ms": round(t200, 1), "ratio": ratio},
                {"t304_ms": ex.elapsed_ms, "t200_ms": t200, "ratio": ratio, "full_samples": len(full)},
            )


def _etag(ep: Endpoint, base: Exchange, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    ex = ep.by_purpose("revalidate-etag")
    if ex is None or not ex.ok:
        return
    etag = base.header("etag") or ""
    if ex.status == 304:
        yield from _not_modified(ep, base, ex, ctx)
        return
    if ex.status == 200 and ex.header("etag") not in (None, etag) and ex.body_sha256 != base.body_sha256:
        # New ETag and new body on every request: the resource changed under us, so whether the
        # server honours If-None-Match could not be judged (REDbot: INM_UNKNOWN).
        yield NotApplicable(f"the ETag changed between two requests of {ep.url}: revalidation could not "
                            "be judged", missing=True)
        return
    evidence = {
        "status": ex.status,
        "etag": etag,
        "sent": ex.request_header("if-none-match"),
        "etag_now": ex.header("etag"),
        "same_body": ex.body_sha256 == base.body_sha256,
    }
    if (
        ex.status == 200
        and ex.header("etag") == etag
        and not is_weak(etag)
        and ex.body_sha256 != base.body_sha256
    ):
        yield Finding("http.validation.etag-changed-body", http_location(ep), {"etag": etag}, evidence)
    elif ex.header("etag") == etag or ex.body_sha256 == base.body_sha256:
        yield Finding(
            "http.validation.etag-ignored",
            http_location(ep),
            {"status": ex.status, "etag": etag, "size": ex.body_size},
            evidence,
        )


def _date(ep: Endpoint, base: Exchange, ctx: CheckContext) -> Iterator[Finding]:
    ex = ep.by_purpose("revalidate-date")
    if ex is None or not ex.ok:
        return
    if ex.status == 304:
        yield from _not_modified(ep, base, ex, ctx)
    elif ex.status == 200 and (ex.header("last-modified") == base.header("last-modified")):
        yield Finding(
            "http.validation.ims-ignored",
            http_location(ep),
            {"status": ex.status, "last_modified": base.header("last-modified")},
            {"status": ex.status, "sent": ex.request_header("if-modified-since")},
        )


@check(
    "http.validation.no-validator",
    "http.validation.etag-ignored",
    "http.validation.etag-changed-body",
    "http.validation.ims-ignored",
    "http.validation.304-missing-headers",
    "http.validation.304-body",
    "http.validation.304-slow",
    kind="scan",
    requires=(Req.PROBE_VALIDATION,),
)
def check_validation(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    judged = 0
    for ep in ev.endpoints:
        base = ep.base()
        if base is None or not cacheable_get(base):
            continue
        judged += 1
        if base.header("etag") is None and base.header("last-modified") is None:
            yield Finding(
                "http.validation.no-validator",
                http_location(ep),
                {"size": base.body_size},
                # httplint says the same of a no-cache response (merged here: one fact, one finding)
                {"status": base.status, "bytes": base.body_size,
                 **({"httplint": "FRESHNESS_NO_CACHE_NO_VALIDATOR"}
                    if "no-cache" in (base.header("cache-control") or "").lower() else {})},
            )
            continue
        yield from _etag(ep, base, ctx)
        yield from _date(ep, base, ctx)
    if not judged:
        yield NotApplicable("no cacheable GET response (200 without no-store) to judge")


@check("http.validation.304-to-any", "http.validation.head-not-allowed", kind="scan",
       requires=(Req.PROBE_VALIDATION,))
def check_conditional_sanity(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    """A 304 to an If-None-Match that matches nothing (RFC 9110 §13.1.2: 304 only when a listed tag
    matches); 405 on HEAD where GET answered 200 (RFC 9110 §9.3.2: HEAD is GET without the body)."""
    judged = False
    for ep in ev.endpoints:
        base = ep.base()
        if base is None or base.status != 200:
            continue
        mismatch, head = ep.by_purpose("revalidate-mismatch"), ep.by_purpose("head")
        if mismatch is not None and mismatch.ok:
            judged = True
            if mismatch.status == 304:
                yield Finding("http.validation.304-to-any", http_location(ep),
                              {"sent": mismatch.request_header("if-none-match") or ""},
                              {"sent": mismatch.request_header("if-none-match"), "etag": base.header("etag")})
        if head is not None and head.ok:
            judged = True
            if head.status in (405, 501):
                yield Finding("http.validation.head-not-allowed", http_location(ep, "HEAD"),
                              {"status": head.status, "allow": head.header("allow") or "(no Allow header)"},
                              {"status": head.status, "allow": head.header("allow")})
    if not judged:
        yield NotApplicable("no HEAD or mismatching If-None-Match request was answered")
