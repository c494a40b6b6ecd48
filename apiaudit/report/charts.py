"""Inline SVG charts of ``Report.measurements`` (keys documented in ``measurements.md``).

Pure functions: measurements in, an SVG string out (``""`` when there is nothing to draw). Every
label comes from the target (URLs, SQL), so all text is escaped here; the HTML template marks the
result safe. Colours are presentation attributes, not ``style=``, so a strict CSP does not strip them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

WIDTH = 920
LABEL_W = 300
RIGHT_PAD = 70
BAR_H = 11
ROW_GAP = 10
TOP = 66
MAX_ROWS = 15
LABEL_CHARS = 44


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    color: str


@dataclass(frozen=True)
class Marker:
    value: float
    label: str
    color: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    svg: str


LATENCY_SERIES = (
    Series("p50_ms", "P50", "#7fb3d5"),
    Series("p95_ms", "P95", "#2e86c1"),
    Series("p99_ms", "P99", "#1b4f72"),
)
SIZE_SERIES = (
    Series("identity", "raw", "#95a5a6"),
    Series("gzip", "gzip", "#48c9b0"),
    Series("br", "br", "#17a589"),
    Series("zstd", "zstd", "#0e6655"),
)


def number(value: Any) -> float | None:
    """A finite, non-negative number, else None (measurements may be partial or hand-edited)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and value >= 0 else None


def rows_of(data: Any, label_key: str, keys: Sequence[str]) -> list[tuple[str, list[float | None]]]:
    rows = []
    for entry in data if isinstance(data, list) else []:
        if not isinstance(entry, dict):
            continue
        values = [number(entry.get(k)) for k in keys]
        if any(v is not None for v in values):
            rows.append((str(entry.get(label_key) or "?"), values))
    return rows


def latency_chart(measurements: dict[str, Any]) -> str:
    rows = rows_of(measurements.get("latency"), "endpoint", [s.key for s in LATENCY_SERIES])
    rows.sort(key=lambda r: -max(v or 0 for v in r[1]))
    limits = measurements.get("latency_thresholds")
    limits = limits if isinstance(limits, dict) else {}
    markers = [
        Marker(v, f"{name} {v:g} ms", color)
        for name, key, color in (("warn", "warn_ms", "#d68910"), ("crit", "crit_ms", "#c0392b"))
        if (v := number(limits.get(key))) is not None
    ]
    return hbar_chart(
        title="Latency per endpoint (ms)", rows=rows, series=LATENCY_SERIES, unit="ms", markers=markers
    )


def sizes_chart(measurements: dict[str, Any]) -> str:
    rows = rows_of(measurements.get("sizes"), "endpoint", [s.key for s in SIZE_SERIES])
    rows.sort(key=lambda r: -max(v or 0 for v in r[1]))
    limit = number(measurements.get("size_limit_bytes"))
    markers = [Marker(limit, f"limit {_bytes(limit)}", "#c0392b")] if limit else []
    return hbar_chart(
        title="Response size: raw vs compressed (bytes)",
        rows=rows,
        series=SIZE_SERIES,
        unit="B",
        markers=markers,
    )


def top_queries_chart(measurements: dict[str, Any]) -> str:
    rows = rows_of(measurements.get("top_queries"), "sample", ["total_ms"])
    rows.sort(key=lambda r: -(r[1][0] or 0))
    series = (Series("total_ms", "total time", "#8e44ad"),)
    return hbar_chart(title="Top queries by total time (ms)", rows=rows, series=series, unit="ms")


def nplusone_chart(measurements: dict[str, Any]) -> str:
    data = measurements.get("nplusone")
    labelled = []
    for entry in data if isinstance(data, list) else []:
        if isinstance(entry, dict):
            parent, child = entry.get("parent"), entry.get("child")
            label = f"{parent} → {child}" if parent else str(child or "?")
            labelled.append({**entry, "_label": label})
    rows = rows_of(labelled, "_label", ["occurrences"])
    rows.sort(key=lambda r: -(r[1][0] or 0))
    series = (Series("occurrences", "occurrences", "#cb4335"),)
    return hbar_chart(title="N+1 patterns by occurrences", rows=rows, series=series, unit="")


def all_charts(measurements: dict[str, Any]) -> list[Chart]:
    made = [
        Chart("latency", "Latency", latency_chart(measurements)),
        Chart("sizes", "Response sizes", sizes_chart(measurements)),
        Chart("top-queries", "Top queries", top_queries_chart(measurements)),
        Chart("nplusone", "N+1 patterns", nplusone_chart(measurements)),
    ]
    return [c for c in made if c.svg]


def hbar_chart(
    *,
    title: str,
    rows: list[tuple[str, list[float | None]]],
    series: Sequence[Series],
    unit: str,
    markers: Sequence[Marker] = (),
) -> str:
    """Horizontal grouped bars: one group per row, one bar per series, optional vertical markers."""
    rows = rows[:MAX_ROWS]
    if not rows:
        return ""
    top = max([v or 0 for _, vals in rows for v in vals] + [m.value for m in markers])
    scale_max = nice_ceiling(top)
    plot_w = WIDTH - LABEL_W - RIGHT_PAD
    group_h = len(series) * BAR_H + ROW_GAP
    height = TOP + len(rows) * group_h + 34
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="bold" fill="#222">{escape(title)}</text>',
        _legend(series, y=32),
    ]
    parts += _axis(scale_max, plot_w, TOP, height - 28, unit)
    for i, (label, values) in enumerate(rows):
        parts.append(_group(label, values, series, TOP + i * group_h, plot_w, scale_max, unit))
    parts += [
        _marker(m, plot_w, scale_max, TOP, height - 28, TOP - 8 - 12 * i) for i, m in enumerate(markers)
    ]
    parts.append("</svg>")
    return "".join(parts)


def nice_ceiling(value: float) -> float:
    """Smallest 1/2/5 x 10^k at or above ``value`` (axis end); 1 for an all-zero chart."""
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10.0**exp
        if candidate >= value:
            return candidate
    return 10.0 ** (exp + 1)


def _x(value: float, plot_w: float, scale_max: float) -> float:
    return LABEL_W + plot_w * min(value, scale_max) / scale_max


def _legend(series: Sequence[Series], y: int) -> str:
    out, x = [], LABEL_W
    for s in series:
        out.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{s.color}"/>'
            f'<text x="{x + 14}" y="{y}" fill="#333">{escape(s.label)}</text>'
        )
        x += 24 + 7 * len(s.label) + 16
    return "".join(out)


def _axis(scale_max: float, plot_w: float, y0: float, y1: float, unit: str) -> list[str]:
    out = []
    for i in range(5):
        value = scale_max * i / 4
        x = _x(value, plot_w, scale_max)
        out.append(
            f'<line x1="{x:.1f}" y1="{y0 - 4}" x2="{x:.1f}" y2="{y1}" stroke="#e5e5e5"/>'
            f'<text x="{x:.1f}" y="{y1 + 16}" text-anchor="middle" fill="#666">'
            f"{escape(_fmt(value, unit))}</text>"
        )
    return out


def _group(
    label: str,
    values: list[float | None],
    series: Sequence[Series],
    y: float,
    plot_w: float,
    scale_max: float,
    unit: str,
) -> str:
    short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
    mid = y + len(series) * BAR_H / 2 + 4
    out = [
        f"<g><title>{escape(label)}</title>"
        f'<text x="{LABEL_W - 8}" y="{mid:.1f}" text-anchor="end" fill="#222">{escape(short)}</text>'
    ]
    for j, (s, v) in enumerate(zip(series, values, strict=True)):
        if v is None:
            continue
        by = y + j * BAR_H
        w = max(_x(v, plot_w, scale_max) - LABEL_W, 1.0)
        out.append(
            f'<rect x="{LABEL_W}" y="{by:.1f}" width="{w:.1f}" height="{BAR_H - 2}" fill="{s.color}">'
            f"<title>{escape(s.label)}: {escape(_fmt(v, unit))}</title></rect>"
            f'<text x="{LABEL_W + w + 4:.1f}" y="{by + BAR_H - 3:.1f}" font-size="10" fill="#444">'
            f"{escape(_fmt(v, unit))}</text>"
        )
    out.append("</g>")
    return "".join(out)


def _marker(m: Marker, plot_w: float, scale_max: float, y0: float, y1: float, label_y: float) -> str:
    x = _x(m.value, plot_w, scale_max)
    return (
        f'<line x1="{x:.1f}" y1="{y0 - 6}" x2="{x:.1f}" y2="{y1}" stroke="{m.color}" stroke-width="2" '
        f'stroke-dasharray="6 4"/><text x="{x - 4:.1f}" y="{label_y}" text-anchor="end" font-size="11" '
        f'fill="{m.color}">{escape(m.label)}</text>'
    )


def _fmt(value: float, unit: str) -> str:
    if unit == "B":
        return _bytes(value)
    text = f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def _bytes(value: float) -> str:
    for suffix, size in (("MB", 1_000_000), ("kB", 1000)):
        if value >= size:
            return f"{value / size:.3g} {suffix}"
    return f"{value:.0f} B"


GRADE_COLORS = {"A": "#1e8449", "B": "#28b463", "C": "#d4ac0d", "D": "#ca6f1e", "F": "#c0392b"}


def gauge(score: Any, grade: Any, *, size: int = 150) -> str:
    """Ring gauge of the overall score (0-100) with the grade inside; grey ring when not scored."""
    value = number(score)
    r = size / 2 - 12
    c = 2 * math.pi * r
    color = GRADE_COLORS.get(str(grade), "#7f8c8d")
    arc = ""
    if value is not None:
        filled = c * min(value, 100) / 100
        arc = (
            f'<circle cx="{size / 2}" cy="{size / 2}" r="{r:.1f}" fill="none" stroke="{color}" '
            f'stroke-width="14" stroke-dasharray="{filled:.1f} {c:.1f}" '
            f'transform="rotate(-90 {size / 2} {size / 2})"/>'
        )
    big = "n/a" if value is None else f"{value:.0f}"
    small = f"grade {escape(str(grade))}" if value is not None and grade else "not scored"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="gauge" role="img" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" font-family="sans-serif"><title>score {big}</title>'
        f'<circle cx="{size / 2}" cy="{size / 2}" r="{r:.1f}" fill="none" stroke="#e5e8e8" '
        f'stroke-width="14"/>{arc}'
        f'<text x="{size / 2}" y="{size / 2 + 6}" text-anchor="middle" font-size="38" font-weight="bold" '
        f'fill="{color}">{big}</text>'
        f'<text x="{size / 2}" y="{size / 2 + 30}" text-anchor="middle" font-size="14" fill="#555">'
        f"{small}</text></svg>"
    )


def score_bar(score: Any, *, width: int = 160) -> str:
    """A small horizontal bar for a section score (0-100); empty track when not scored."""
    value = number(score)
    fill = ""
    if value is not None:
        color = next(
            col for floor, col in ((80, "#28b463"), (60, "#d4ac0d"), (0, "#c0392b")) if value >= floor
        )
        filled = width * min(value, 100) / 100
        fill = f'<rect x="0" y="0" width="{filled:.1f}" height="10" rx="5" fill="{color}"/>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar" width="{width}" height="10" '
        f'viewBox="0 0 {width} 10" aria-hidden="true"><rect x="0" y="0" width="{width}" height="10" rx="5" '
        f'fill="#e5e8e8"/>{fill}</svg>'
    )
