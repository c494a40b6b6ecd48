"""Figures the reports chart for a scan (``Report.measurements``): computed once here from evidence,
so renderers never recompute. Pure."""

from __future__ import annotations

import math
from typing import Any

from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence

CODINGS = ("identity", "gzip", "br", "zstd")


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (no interpolation: a P99 of 5 samples is the slowest one)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return round(ordered[rank - 1], 2)


def coding_exchange(ep: Endpoint, coding: str) -> Exchange | None:
    """The response for ``coding``: the probe's, else the base when the base used that coding."""
    ex = ep.by_purpose(f"coding-{coding}")
    if ex is not None:
        return ex
    base = ep.base()
    if base is not None and base.ok and base.content_coding == coding:
        return base
    return None


def sizes_by_coding(ep: Endpoint) -> dict[str, dict[str, Any]]:
    """Per coding asked for: the coding the server applied, wire vs decoded bytes, savings in %."""
    out: dict[str, dict[str, Any]] = {}
    for coding in CODINGS:
        ex = coding_exchange(ep, coding)
        if ex is None or not ex.ok:
            continue
        saved = ex.body_size - ex.wire_size
        out[coding] = {
            "applied": ex.content_coding, "wire_bytes": ex.wire_size, "decoded_bytes": ex.body_size,
            "saved_bytes": saved, "saved_pct": round(100 * saved / ex.body_size, 1) if ex.body_size else 0.0,
        }
    return out


# P95/P99 of fewer values are the maximum or next to it: left out (null), as rules/thresholds.yaml's
# latency_min_samples default says; the median, the maximum and the first (cold) request are given.
LATENCY_MIN_SAMPLES = 20


def _percentiles(values: list[float], *, cold: float | None = None) -> dict[str, Any]:
    enough = len(values) >= LATENCY_MIN_SAMPLES
    out = {"p50": percentile(values, 50), "p95": percentile(values, 95) if enough else None,
           "p99": percentile(values, 99) if enough else None, "count": len(values),
           "max": max(values) if values else None}
    if cold is not None:
        out["cold"] = cold
    return out


def _timed(ep: Endpoint) -> list[Exchange]:
    # One definition of "which requests make the percentiles" (base + samples, never the deliberately
    # slow burst / deep-offset / cache-busting probes), shared with the latency checks.
    from apiaudit.http.checks.latency import timed

    return timed(ep)


def endpoint_measurements(ep: Endpoint) -> dict[str, Any]:
    from apiaudit.http.checks.latency import warm_split

    cold, timings = warm_split(_timed(ep))
    full = [ex.elapsed_ms for ex in ep.exchanges if ex.ok and ex.status == 200]
    revalidated = [ex.elapsed_ms for ex in ep.with_prefix("revalidate") if ex.ok and ex.status == 304]
    base = ep.base()
    return {
        "url": ep.url,
        "status": base.status if base else None,
        "requests": len(ep.exchanges),
        "latency_ms": _percentiles(timings, cold=cold if isinstance(cold, float) else None),
        "sizes": sizes_by_coding(ep),
        "validation_ms": {"full_200": percentile(full, 50), "not_modified_304": percentile(revalidated, 50)},
    }


def scan_measurements(ev: ScanEvidence) -> dict[str, Any]:
    endpoints = [endpoint_measurements(ep) for ep in ev.endpoints]
    every = [ex.elapsed_ms for ep in ev.endpoints for ex in _timed(ep)]
    bases = [ex for ep in ev.endpoints if (ex := ep.base()) is not None and ex.ok]
    largest = [{"url": ex.url, "decoded_bytes": ex.body_size, "truncated": ex.truncated}
               for ex in sorted(bases, key=lambda ex: -ex.body_size)[:5]]
    from apiaudit.http.checks.latency import measurements as latency_measurements

    latency = latency_measurements(ev)
    return {
        "endpoints": endpoints,
        "latency_ms": _percentiles(every),
        "largest_responses": largest,
        "skipped": list(ev.skipped),
        "error_rates": latency["error_rates"],
        "server_timing": latency["server_timing"],
    }
