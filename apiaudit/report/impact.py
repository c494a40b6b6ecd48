"""Estimated savings of a finding, read from the evidence its check recorded ("fix these first").

Renderers never measure; this only reads figures a check already put into the evidence and says
what fixing the finding saves, where that can be stated: bytes per response, planner cost and
calls, queries per request, failed requests, milliseconds over a latency budget. A finding without
such figures has no estimate and ranks by severity alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apiaudit.model import Report, ReportFinding

# Typical gzip ratio of JSON/HTML/JS text (RFC 1952 deflate on API payloads saves 70-90 %);
# stated as an estimate wherever it is used.
TEXT_COMPRESSION_SAVING = 0.75


@dataclass(frozen=True)
class Impact:
    text: str  # "≈ 1.0 MB per response"
    weight: float  # comparable within one report: larger first


def _num(ev: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = ev.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def size_text(n: float) -> str:
    for unit, scale in (("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} B"


def estimate(f: ReportFinding) -> Impact | None:
    ev = f.evidence if isinstance(f.evidence, dict) else {}
    rule = f.rule
    if rule.startswith("http.compression"):
        size = _num(ev, "bytes")
        if size:
            saved = size * TEXT_COMPRESSION_SAVING
            return Impact(f"≈ {size_text(saved)} per response (est. 75 % of {size_text(size)})", saved / 1e4)
    if rule.startswith("http.size"):
        size, limit = _num(ev, "bytes"), _num(ev, "limit")
        if size and limit and size > limit:
            return Impact(f"{size_text(size - limit)} over the size limit per response", (size - limit) / 1e4)
    if rule.startswith("http.fields"):
        full, sel = _num(ev, "bytes_full"), _num(ev, "bytes_selected")
        if full and sel is not None and full > sel:
            return Impact(f"{size_text(full - sel)} per response with field selection", (full - sel) / 1e4)
    if rule.startswith("db.plan") or rule.startswith("db.index.missing") or rule.startswith("db.advisor"):
        before, after = _num(ev, "cost_before"), _num(ev, "cost_after")
        calls = _num(ev, "calls") or 1.0
        saved_ms = _num(ev, "saved_ms", "time_saved_ms")
        if saved_ms:
            return Impact(f"≈ {saved_ms:.0f} ms of database time saved", saved_ms)
        if before and after is not None and before > after:
            cut = 100 * (before - after) / before
            return Impact(f"planner cost −{cut:.0f} % (HypoPG) on {int(calls)} call(s)", calls * cut / 10)
    if rule.startswith("db.nplusone"):
        statements, units = _num(ev, "statements"), _num(ev, "units")
        if statements and units:
            per_unit = statements / units
            return Impact(f"≈ {per_unit:.0f} queries per request could be 2", statements / 10)
    if rule.startswith("http.errors"):
        failed = _num(ev, "5xx")
        rate = _num(ev, "rate_5xx_pct")
        if failed and rate is not None:
            return Impact(f"{int(failed)} failed request(s), {rate:g} % 5xx", rate * 10)
    if rule.startswith("http.latency"):
        p95, budget = _num(ev, "p95_ms", "p50_ms"), _num(ev, "threshold_ms", "warn_ms")
        if p95 and budget and p95 > budget:
            return Impact(f"{p95 - budget:.0f} ms over the {budget:.0f} ms budget", p95 - budget)
    return None


def fix_first(report: Report, limit: int) -> list[tuple[ReportFinding, Impact | None]]:
    """The findings to fix first: worst severity, new before known, then the largest estimated saving."""
    actionable = [f for f in report.findings if f.severity.label != "info"]
    scored = [(f, estimate(f)) for f in actionable]
    scored.sort(key=lambda p: (p[0].known, -p[0].severity, -(p[1].weight if p[1] else 0.0)))
    return scored[:limit]
