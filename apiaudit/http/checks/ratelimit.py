"""Rate limiting (checklist ``scaling.rate_limiting``).

Every response of the scan is read for every header generation (:mod:`apiaudit.http.headers.ratelimit`).
Exchanges ``burst-<i>`` come from the opt-in burst probe (``apiaudit.http.probes.ratelimit``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from urllib.parse import urlsplit

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.http.evidence import Exchange, ScanEvidence
from apiaudit.http.headers import Quota, parse_ratelimits
from apiaudit.http.pacing import limiter_answers, wait_hint
from apiaudit.model import Finding
from apiaudit.requirements import Req

MIN_COUNTDOWN_SAMPLES = 3  # fewer responses than this cannot show a countdown


def origin(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed URL in replayed evidence
        return url
    return f"{parts.scheme}://{parts.netloc}"


def _where(url: str) -> dict[str, str]:
    return {"url": url, "method": "GET"}


@check("http.ratelimit.none", "http.ratelimit.no-countdown", "http.ratelimit.invalid-header",
       "http.ratelimit.limited", "http.ratelimit.503-not-429", kind="scan", requires=(Req.BASE_ANSWER,))
def check_headers(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    responses = [ex for ex in ev.all_exchanges() if ex.ok]
    if not responses:
        yield NotApplicable("no HTTP response to read rate-limit headers from")
        return
    by_origin: dict[str, list[Exchange]] = {}
    for ex in responses:
        by_origin.setdefault(origin(ex.url), []).append(ex)
    limited = {id(ex) for ex in limiter_answers(responses)}
    for exchanges in by_origin.values():
        bare_503 = [ex for ex in exchanges if id(ex) in limited and ex.status == 503]
        if bare_503:
            yield _limited_503(bare_503)
        yield from _origin_findings(exchanges, limited=bool(bare_503))


def _limited_503(answers: list[Exchange]) -> Finding:
    """nginx ``limit_req`` answers 503 by default (``limit_req_status``): clients and this scan must
    guess that it is a limiter, and generic retry logic treats 503 as an outage."""
    first = answers[0]
    with_ra = sum(1 for ex in answers if ex.header("retry-after") is not None)
    server = first.header("server") or "the server"
    return Finding("http.ratelimit.503-not-429", _where(first.url),
                   {"count": len(answers), "server": server, "retry_after": with_ra},
                   {"count": len(answers), "server": server, "with_retry_after": with_ra,
                    "purposes": sorted({ex.purpose for ex in answers})[:10]})


def _origin_findings(exchanges: list[Exchange], *, limited: bool = False) -> Iterator[Finding]:
    first_url = exchanges[0].url
    series: dict[tuple[str, str, str], list[tuple[Exchange, Quota]]] = {}
    problems: dict[str, str] = {}
    for ex in exchanges:
        for q in parse_ratelimits(ex.response_headers):
            series.setdefault((ex.url.split("?")[0], q.generation, q.policy or ""), []).append((ex, q))
            for p in q.problems:
                problems.setdefault(p, ex.url)
    got_429 = [ex for ex in exchanges if ex.status == 429]
    if not series and not got_429 and not limited:
        yield Finding("http.ratelimit.none", _where(first_url),
                      {"requests": len(exchanges), "origin": origin(first_url)},
                      {"requests": len(exchanges), "headers_looked_for": ["RateLimit", "RateLimit-Policy",
                       "RateLimit-Limit/-Remaining/-Reset", "X-RateLimit-*", "Retry-After"]})
        return
    for problem, url in list(problems.items())[:5]:
        yield Finding("http.ratelimit.invalid-header", _where(url), {"problem": problem},
                      {"problem": problem})
    counted_down = False
    for (url, generation, policy), points in series.items():
        counted = [(ex, q) for ex, q in points if q.remaining is not None and ex.status != 429]
        remaining = [q.remaining for _, q in counted]
        if len(remaining) < MIN_COUNTDOWN_SAMPLES:
            continue
        if any(b < a for a, b in itertools.pairwise(remaining)):  # type: ignore[operator]
            counted_down = True
            continue
        if _refill_hides_countdown(counted):
            continue
        yield Finding("http.ratelimit.no-countdown", _where(url),
                      {"generation": generation, "first": remaining[0], "requests": len(remaining)},
                      {"generation": generation, "policy": policy or None, "remaining": remaining[:20]})
    if series:
        (url, generation, _), points = next(iter(series.items()))
        q = points[0][1]
        what = f"{generation} headers (limit {q.limit}, remaining {q.remaining}, reset {q.reset_s} s)"
        what += ", remaining counted down" if counted_down else ""
        yield Finding("http.ratelimit.limited", _where(url), {"what": what},
                      {"generations": sorted({g for _, g, _ in series}), "first": q.to_dict(),
                       "counted_down": counted_down})


def _refill_hides_countdown(points: list[tuple[Exchange, Quota]]) -> bool:
    """True when the advertised refill rate (limit per window) could top the quota up between the
    requests we saw, so an unchanged ``remaining`` proves nothing (a token bucket, as in the guide)."""
    quiet_pairs = 0
    for (ex_a, q_a), (ex_b, _) in itertools.pairwise(points):
        if q_a.limit is None or not q_a.window_s:
            return False  # no rate advertised: a countdown is expected
        gap_s = max(0.0, ex_b.started_ms - ex_a.started_ms) / 1000
        if gap_s * q_a.limit / q_a.window_s < 1:
            quiet_pairs += 1
    return quiet_pairs < MIN_COUNTDOWN_SAMPLES - 1


@check("http.ratelimit.429-no-retry-after", "http.ratelimit.burst-not-limited", kind="scan",
       requires=(Req.PROBE_RATELIMIT,))
def check_burst(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    """429 responses must say how long to wait; an opt-in burst should meet a 429."""
    seen: set[str] = set()
    for ep in ev.endpoints:
        burst = sorted(ep.with_prefix("burst-"), key=lambda ex: ex.started_ms)
        for ex in ep.exchanges:
            if ex.status == 429 and ep.url not in seen and wait_hint(ex) is None:
                seen.add(ep.url)
                sent = burst.index(ex) + 1 if ex in burst else 1
                yield Finding("http.ratelimit.429-no-retry-after", _where(ep.url), {"sent": sent},
                              {"sent": sent, "purpose": ex.purpose,
                               "headers": [k for k, _ in ex.response_headers]})
        if burst and not any(ex.status in (429, 503) for ex in burst):
            end = max(ex.started_ms + ex.elapsed_ms for ex in burst)
            seconds = round((end - burst[0].started_ms) / 1000, 2)
            yield Finding("http.ratelimit.burst-not-limited", _where(ep.url),
                          {"sent": len(burst), "seconds": seconds},
                          {"sent": len(burst), "seconds": seconds,
                           "statuses": sorted({ex.status or 0 for ex in burst})})
    if not seen and not any(ep.with_prefix("burst-") for ep in ev.endpoints) \
            and not any(ex.status == 429 for ex in ev.all_exchanges()):
        yield NotApplicable("no 429 seen and no burst sent (opt in with --burst N)")
