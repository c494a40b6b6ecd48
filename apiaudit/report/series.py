"""Read the chartable series out of ``Report.measurements``, whichever audit wrote them.

``measurements.md`` documents the keys. The flat keys (``latency``, ``sizes``) win when present;
otherwise the scan engine's per-endpoint records (``endpoints[].latency_ms`` / ``.sizes``) are read.
This only reshapes figures the audits computed; nothing is recomputed. Anything missing or of the
wrong type is skipped, so a partial or hand-edited report still renders.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

CODINGS = ("identity", "gzip", "br", "zstd")
MAX_VALUE = 1e15  # no real byte count or millisecond figure is larger; beyond it a value is garbage


def number(value: Any) -> float | None:
    """A finite, non-negative, plausible number, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and 0 <= value <= MAX_VALUE else None


def dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def endpoint_label(entry: dict[str, Any]) -> str:
    if entry.get("endpoint"):
        return str(entry["endpoint"])
    url = str(entry.get("url") or "?")
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{str(entry.get('method') or 'GET').upper()} {path}{'?' + parts.query if parts.query else ''}"


def latency(m: dict[str, Any]) -> list[dict[str, Any]]:
    """[{"endpoint", "p50_ms", "p95_ms", "p99_ms"}]"""
    flat = dicts(m.get("latency"))
    if flat:
        return flat
    out = []
    for ep in dicts(m.get("endpoints")):
        lat = ep.get("latency_ms")
        if isinstance(lat, dict):
            out.append({"endpoint": endpoint_label(ep), "p50_ms": lat.get("p50"), "p95_ms": lat.get("p95"),
                        "p99_ms": lat.get("p99")})
    return out


def sizes(m: dict[str, Any]) -> list[dict[str, Any]]:
    """[{"endpoint", "identity", "gzip", "br", "zstd"}] in bytes on the wire."""
    flat = dicts(m.get("sizes"))
    if flat:
        return flat
    out = []
    for ep in dicts(m.get("endpoints")):
        per = ep.get("sizes")
        if not isinstance(per, dict):
            continue
        row: dict[str, Any] = {"endpoint": endpoint_label(ep)}
        for coding in CODINGS:
            rec = per.get(coding)
            # Only a coding the server really applied counts; else the bytes are the identity ones.
            if isinstance(rec, dict) and (rec.get("applied") or "identity") == coding:
                row[coding] = rec.get("wire_bytes")
        if row.get("identity") is None:
            decoded = [number(r.get("decoded_bytes")) for r in per.values() if isinstance(r, dict)]
            row["identity"] = max((d for d in decoded if d is not None), default=None)
        out.append(row)
    return out


def latency_limits(m: dict[str, Any], defaults: dict[str, float]) -> dict[str, float]:
    given = m.get("latency_thresholds")
    limits = dict(defaults)
    if isinstance(given, dict):
        limits.update({k: v for k in ("warn_ms", "crit_ms") if (v := number(given.get(k))) is not None})
    return limits


def hit_rates(m: dict[str, Any]) -> list[dict[str, Any]]:
    """[{"label", "hit_rate_pct"}]: cache servers and PostgreSQL's buffer cache."""
    out = []
    cache = m.get("cache")
    servers = cache.get("servers") if isinstance(cache, dict) else cache
    for s in dicts(servers):
        pct = s.get("hit_rate_pct")
        if pct is None and number(s.get("hit_rate")) is not None:
            pct = 100 * float(s["hit_rate"])
        label = f"{s.get('engine') or 'cache'} {s.get('server', '')}".strip()
        out.append({"label": label, "hit_rate_pct": pct})
    pg = m.get("cache_hit_rate")
    if isinstance(pg, dict):
        for scope, rec in pg.items():
            if isinstance(rec, dict):
                out.append({"label": f"PostgreSQL buffer cache ({scope})", "hit_rate_pct": rec.get("rate")})
    return out
