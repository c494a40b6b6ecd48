"""Monitoring hints seen from outside.

* A Prometheus metrics endpoint (``extra`` exchange ``metrics:<url>``, config ``http.metrics_path``,
  default ``/metrics``) with a request-duration histogram is evidence for ``monitoring.latency``;
  metrics labelled by status code are evidence for ``monitoring.error_rates``.
* An application or reverse-proxy cache answering repeats (Cache-Status / X-Cache hit, or a repeat
  far faster than the first request) is evidence for ``caching.application_cache``; otherwise that
  item stays not_assessed — it cannot be seen from outside.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.http.headers import cache_evidence
from apiaudit.model import Finding
from apiaudit.requirements import Req

_TYPE = re.compile(r"^#\s*TYPE\s+([a-zA-Z_:][a-zA-Z0-9_:]*)\s+(\w+)", re.MULTILINE)
_DURATION = re.compile(r"duration|latency|response_time|request_seconds|request_time", re.IGNORECASE)
MIN_FIRST_MS = 50.0  # a "drop" from a first request faster than this is noise, not a cache
CACHE_BUSTER = "_apiaudit_nocache"
BUST_FACTOR = 3.0  # the cache-busted request must be this much slower than the repeats


def histograms(text: str) -> dict[str, int]:
    """Request-duration histograms in a Prometheus text exposition -> distinct bucket bounds."""
    out: dict[str, int] = {}
    for name, kind in _TYPE.findall(text):
        if kind != "histogram" or not _DURATION.search(name):
            continue
        bounds = set(re.findall(rf'^{re.escape(name)}_bucket\{{[^}}]*le="([^"]+)"', text, re.MULTILINE))
        out[name] = len(bounds)
    return out


def metrics_exchanges(ev: ScanEvidence) -> list[Exchange]:
    return [ex for ex in ev.extra if ex.purpose.startswith("metrics")]


@check("http.monitoring.metrics-histogram", "http.monitoring.no-histogram", kind="scan",
       requires=(Req.PROBE_MONITORING,))
def check_metrics(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    found = False
    for ex in metrics_exchanges(ev):
        if not ex.ok or ex.status != 200:
            continue
        text = ex.text
        families = _TYPE.findall(text)
        if not families:
            continue  # not a Prometheus exposition (HTML, JSON, a catch-all route)
        found = True
        where = {"url": ex.url, "method": "GET"}
        hist = histograms(text)
        if hist:
            name, buckets = next(iter(hist.items()))
            yield Finding("http.monitoring.metrics-histogram", where, {"metric": name, "buckets": buckets},
                          {"histograms": hist, "families": len(families)})
        else:
            yield Finding("http.monitoring.no-histogram", where, {"families": len(families)},
                          {"families": len(families), "types": sorted({k for _, k in families})})
    if not found:
        tried = [ex.url for ex in metrics_exchanges(ev)]
        yield NotApplicable("no Prometheus metrics endpoint answered"
                            + (f" ({', '.join(tried[:3])})" if tried else ""), items=("monitoring.latency",))


_STATUS_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{[^}]*\b(?:code|status|status_code|http_status)="',
                            re.MULTILINE)


@check("http.monitoring.status-counter", kind="scan", requires=(Req.PROBE_MONITORING,))
def check_status_metrics(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    """Metrics labelled by response status are what an error-rate panel or alert is built on."""
    for ex in metrics_exchanges(ev):
        if not ex.ok or ex.status != 200 or not _TYPE.search(ex.text):
            continue
        names = sorted(set(_STATUS_SAMPLE.findall(ex.text)))
        if names:
            yield Finding("http.monitoring.status-counter", {"url": ex.url, "method": "GET"},
                          {"metric": names[0]}, {"metrics": names[:10]})
            return
    yield NotApplicable("no metrics labelled by response status were found",
                        items=("monitoring.error_rates",))


def _plain(ep: Endpoint) -> list[Exchange]:
    plain = [ex for ex in ep.exchanges if ex.purpose == "base" or
             (ex.purpose.startswith("sample-") and ex.purpose != "sample-cachebust")]
    return sorted((ex for ex in plain if ex.ok and ex.status == 200), key=lambda ex: ex.started_ms)


def looks_cached(ep: Endpoint, drop_pct: float = 80.0) -> bool:
    """Probe-time test: repeats much faster than the first GET (cold start or a cache?)."""
    repeats = _plain(ep)
    return len(repeats) >= 2 and _drop(repeats, drop_pct) is not None


@check("http.appcache.hit", kind="scan", requires=(Req.BASE_ANSWER,))
def check_application_cache(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    drop_pct = ctx.threshold("app_cache_latency_drop_pct")
    seen = False
    for ep in ev.endpoints:
        repeats = _plain(ep)
        if len(repeats) < 2:
            continue
        bust = ep.by_purpose("sample-cachebust")
        signal = _cache_signal(repeats[1:])
        # A latency drop alone is timing, not evidence: it is reported, it never judges the item.
        what = signal or _latency_drop(repeats, drop_pct, bust)
        if what:
            seen = seen or signal is not None
            yield Finding("http.appcache.hit", {"url": ep.url, "method": "GET"}, {"what": what[0]}, what[1])
    if not seen:
        yield NotApplicable("cannot be seen from outside: no cache hit header (Cache-Status, X-Cache) on "
                            "repeated requests (a repeat-latency drop alone is timing, not evidence); audit "
                            "the cache server with `apiaudit cache`")


def _cache_signal(repeats: list[Exchange]) -> tuple[str, dict[str, Any]] | None:
    for ex in repeats:
        signal = cache_evidence(ex.response_headers)
        if signal.hit:
            shown = "; ".join(f"{k}: {v}" for k, v in signal.signals.items())
            evidence = {"signals": signal.signals, "caches": list(signal.cdn)}
            return f"repeat request answered by a cache ({shown})", evidence
    return None


def _drop(repeats: list[Exchange], drop_pct: float) -> tuple[float, float] | None:
    """(first, median of the repeats) when the repeats are ``drop_pct`` faster than the first."""
    first = repeats[0].elapsed_ms
    later = sorted(ex.elapsed_ms for ex in repeats[1:])
    median = later[len(later) // 2]
    if first < MIN_FIRST_MS or median > first * (1 - drop_pct / 100):
        return None
    return first, median


def _latency_drop(repeats: list[Exchange], drop_pct: float,
                  bust: Exchange | None) -> tuple[str, dict[str, Any]] | None:
    """A drop counts only if a cache-busted request on the same warm connection is slow again:
    otherwise the first request was merely cold (connection setup, lazy imports, JIT)."""
    drop = _drop(repeats, drop_pct)
    if drop is None or bust is None or not bust.ok or bust.status != 200:
        return None
    first, median = drop
    if bust.elapsed_ms < BUST_FACTOR * median:
        return None
    pct = round(100 * (1 - median / first), 1)
    return (f"repeat requests took {median:.1f} ms vs {first:.1f} ms for the first ({pct}% faster) and "
            f"{bust.elapsed_ms:.1f} ms with a cache-busting parameter",
            {"first_ms": round(first, 1), "repeat_median_ms": round(median, 1), "drop_pct": pct,
             "cachebust_ms": round(bust.elapsed_ms, 1)})
