"""Latency percentiles (``monitoring.latency``) and error rates (``monitoring.error_rates``).

Timings: the endpoint's ``base`` and ``sample-<i>`` exchanges (``apiaudit.http.probes.latency``);
with ``--samples 0`` every exchange of the endpoint except the deliberate ``burst-*`` ones.
Percentiles use the nearest-rank method (the ceil(p/100 * n)-th smallest value; with few samples
P99 is the maximum). :func:`measurements` gives run_scan the figures the report charts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.http.headers import parse_server_timing
from apiaudit.http.pacing import limiter_answers
from apiaudit.model import Finding
from apiaudit.requirements import Req

PERCENTILE_METHOD = "nearest-rank"
MAX_EXAMPLES = 3


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of ``values`` (non-empty)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(values)}
    for p in (50, 95, 99):
        out[f"p{p}_ms"] = round(percentile(values, p), 1)
    out.update(min_ms=round(min(values), 1), max_ms=round(max(values), 1),
               mean_ms=round(sum(values) / len(values), 1))
    return out


def plain(ep: Endpoint) -> list[Exchange]:
    """The endpoint's plain GETs: base and latency samples (not the cache-busting one)."""
    return [ex for ex in ep.exchanges if ex.purpose == "base"
            or (ex.purpose.startswith("sample-") and ex.purpose != "sample-cachebust")]


# Requests that are slow or refused on purpose: the burst (429s), the deep-offset page (reported by
# http.pagination.deep-offset-slow) and the cache-busting GET. They would skew the endpoint's percentiles.
DELIBERATE = ("burst-", "page-offset-deep", "sample-cachebust")


def timed(ep: Endpoint) -> list[Exchange]:
    """The exchanges whose timings make the endpoint's percentiles: base + samples when sampled, else
    every probe request except the deliberate ones (``--samples 0``)."""
    picked = plain(ep) if ep.with_prefix("sample-") else [
        ex for ex in ep.exchanges if not ex.purpose.startswith(DELIBERATE)]
    limited = {id(x) for x in limiter_answers(ep.exchanges)}  # a refusal's timing is not the endpoint's
    return [ex for ex in picked if ex.ok and ex.status is not None and ex.status < 500 and id(ex) not in limited]


def measurements(ev: ScanEvidence) -> dict[str, Any]:
    """Figures for the report (``Report.measurements``): latency per endpoint and overall, error counts,
    Server-Timing totals. Pure; run_scan copies the result into the report."""
    endpoints, everything = [], []
    server_timing: dict[str, dict[str, float]] = {}
    for ep in ev.endpoints:
        values = [ex.elapsed_ms for ex in timed(ep)]
        everything.extend(values)
        if values:
            endpoints.append({"url": ep.url, **summary(values)})
        totals = _server_timing(ep)
        if totals:
            server_timing[ep.url] = totals
    return {
        "latency": {"method": PERCENTILE_METHOD, "unit": "ms", "endpoints": endpoints,
                    "overall": summary(everything) if everything else None},
        "error_rates": _error_counts(ev),
        "server_timing": server_timing,
    }


def _server_timing(ep: Endpoint) -> dict[str, float]:
    totals: dict[str, list[float]] = {}
    for ex in plain(ep):
        for metric in parse_server_timing(ex.header("server-timing")):
            if metric.dur_ms is not None:
                totals.setdefault(metric.name, []).append(metric.dur_ms)
    return {name: round(percentile(durs, 50), 1) for name, durs in totals.items()}


def _error_counts(ev: ScanEvidence) -> dict[str, Any]:
    total = c4 = c5 = failed = 0
    examples_5xx: list[str] = []
    examples_4xx: list[str] = []
    limited = {id(x) for x in limiter_answers(ev.all_exchanges())}  # rate limiting, not errors
    for ep in ev.endpoints:
        for ex in plain(ep):
            if id(ex) in limited:
                continue
            total += 1
            if ex.error is not None or ex.status is None:
                failed += 1
                examples_5xx.append(f"{ep.url} ({(ex.error or 'no response')[:60]})")
            elif ex.status >= 500:
                c5 += 1
                examples_5xx.append(f"{ep.url} ({ex.status})")
            elif ex.status >= 400:
                c4 += 1
                examples_4xx.append(f"{ep.url} ({ex.status})")
    return {"requests": total, "4xx": c4, "5xx": c5, "failed": failed,
            "rate_4xx_pct": _pct(c4, total), "rate_5xx_pct": _pct(c5 + failed, total),
            "examples_5xx": sorted(set(examples_5xx))[:MAX_EXAMPLES],
            "examples_4xx": sorted(set(examples_4xx))[:MAX_EXAMPLES]}


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0.0


OWN_TIMING = ("apiaudit's own timings are not monitoring evidence: no latency histogram on /metrics and no "
              "Server-Timing header was seen")


@check("http.latency.p95-critical", "http.latency.p95-warn", "http.latency.median-critical",
       "http.latency.median-warn", "http.latency.server-timing", kind="scan", requires=(Req.BASE_ANSWER,))
def check_latency(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    """P95 is judged only from ``latency_min_samples`` warm requests; with fewer, the median is (it is
    a lower bound of P95, so a slow median is a slow P95) and the maximum is reported, not judged. The
    first request to an endpoint (cold caches, connection set-up) is reported apart."""
    warn, crit = ctx.threshold("p95_warn_ms"), ctx.threshold("p95_critical_ms")
    min_samples = int(ctx.threshold("latency_min_samples"))
    measured = monitored = False
    for ep in ev.endpoints:
        cold, values = warm_split(timed(ep))
        if not values:
            continue
        measured = True
        stats = {**summary(values), "cold_ms": cold, "min_samples": min_samples}
        where = {"url": ep.url, "method": "GET"}
        evidence = {**stats, "method": PERCENTILE_METHOD}
        if stats["n"] >= min_samples:
            if stats["p95_ms"] > crit:
                yield Finding("http.latency.p95-critical", where, {**stats, "threshold_ms": crit}, evidence)
            elif stats["p95_ms"] > warn:
                yield Finding("http.latency.p95-warn", where, {**stats, "threshold_ms": warn}, evidence)
        elif stats["p50_ms"] > crit:
            yield Finding("http.latency.median-critical", where, {**stats, "threshold_ms": crit}, evidence)
        elif stats["p50_ms"] > warn:
            yield Finding("http.latency.median-warn", where, {**stats, "threshold_ms": warn}, evidence)
        totals = _server_timing(ep)
        if totals:
            monitored = True
            text = ", ".join(f"{name} {dur} ms" for name, dur in totals.items())
            yield Finding("http.latency.server-timing", where, {"metrics": text}, {"median_ms": totals})
    if not measured:
        yield NotApplicable("no successful response to time")
    elif not monitored:
        # Our own timings are findings about the API's speed, never proof that the team tracks latency.
        yield NotApplicable(OWN_TIMING, items=("monitoring.latency",))


def warm_split(exchanges: list[Exchange]) -> tuple[float | str, list[float]]:
    """(first request's time, the others' times). The first is kept in when it is the only one."""
    ordered = sorted(exchanges, key=lambda ex: ex.started_ms)
    if len(ordered) < 2:
        return "n/a", [ex.elapsed_ms for ex in ordered]
    return round(ordered[0].elapsed_ms, 1), [ex.elapsed_ms for ex in ordered[1:]]


# Our own error count can report problems; only monitoring evidence (status metrics) can pass the item.
@check("http.errors.rate-critical", "http.errors.rate-warn", "http.errors.client-rate", kind="scan",
       requires=(Req.BASE_ANSWER,), findings_only=True)
def check_error_rates(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    counts = _error_counts(ev)
    if not counts["requests"]:
        yield NotApplicable("no plain request was made")
        return
    warn, crit = ctx.threshold("error_rate_warn_pct"), ctx.threshold("error_rate_critical_pct")
    # A rate over the whole scan belongs to the API, not to whichever endpoint happened to be first.
    where = {"target": _origin(ev.endpoints[0].url) if ev.endpoints else ""}
    rate5 = counts["rate_5xx_pct"]
    common = {"failed": counts["5xx"] + counts["failed"], "total": counts["requests"], "rate_pct": rate5,
              "examples": ", ".join(counts["examples_5xx"])}
    if rate5 > crit:
        yield Finding("http.errors.rate-critical", where, {**common, "threshold_pct": crit}, counts)
    elif rate5 > warn:
        yield Finding("http.errors.rate-warn", where, {**common, "threshold_pct": warn}, counts)
    if counts["rate_4xx_pct"] > warn:
        yield Finding("http.errors.client-rate", where,
                      {"count": counts["4xx"], "total": counts["requests"],
                       "rate_pct": counts["rate_4xx_pct"], "examples": ", ".join(counts["examples_4xx"])},
                      counts)


def _origin(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket in a replayed evidence file
        return url
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else url
