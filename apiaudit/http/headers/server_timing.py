"""Server-Timing (W3C Server Timing §3): ``db;dur=53.2, app;dur=47.2;desc="render", cache;desc=hit``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    dur_ms: float | None
    desc: str | None


def parse_server_timing(value: str | None) -> list[Metric]:
    """Parse a combined Server-Timing field; bad entries are skipped, bad ``dur`` becomes None."""
    if not value:
        return []
    out = []
    for entry in _split(value, ","):
        parts = _split(entry, ";")
        name = parts[0].strip() if parts else ""
        if not name or any(c in name for c in ' "=\t'):
            continue
        params: dict[str, str] = {}
        for part in parts[1:]:
            key, _, val = part.partition("=")
            key = key.strip().lower()
            val = val.strip()
            if len(val) >= 2 and val[0] == val[-1] == '"':
                val = val[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            params.setdefault(key, val)  # the spec keeps the first occurrence
        out.append(Metric(name, _duration(params.get("dur")), params.get("desc")))
    return out


def total_by_name(metrics: list[Metric]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for m in metrics:
        if m.dur_ms is not None:
            totals[m.name] = totals.get(m.name, 0.0) + m.dur_ms
    return totals


def _duration(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        dur = float(text)
    except ValueError:
        return None
    return dur if dur >= 0 and dur == dur and dur != float("inf") else None


def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside double quotes."""
    parts: list[str] = []
    buf: list[str] = []
    quoted = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(ch)
    parts.append("".join(buf))
    return [p for p in parts if p.strip()]
