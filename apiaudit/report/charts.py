"""Inline SVG charts of ``Report.measurements`` (keys documented in ``measurements.md``).

Pure functions: measurements in, an SVG string out (``""`` when there is nothing to draw). Every
label comes from the target (URLs, SQL), so all text is escaped here; the HTML template marks the
result safe. Colours are presentation attributes, not ``style=``, so a strict CSP does not strip them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape as _escape
from typing import Any

from apiaudit.report import series as data
from apiaudit.report.scale import LABEL_W, Scale
from apiaudit.report.series import number

WIDTH = 920
RIGHT_PAD = 70
BAR_H = 11
ROW_GAP = 10
TOP = 66
MAX_ROWS = 15
LABEL_CHARS = 44


# Characters XML 1.0 forbids (C0 controls but tab/newline/CR, surrogates, U+FFFE/FFFF): an SVG with
# one of them is not well-formed, so labels from the target lose them.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape(text: str) -> str:
    return _escape(_NOT_XML.sub("", str(text)))


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


def rows_of(data: Any, label_key: str, keys: Sequence[str]) -> list[tuple[str, list[float | None]]]:
    rows = []
    for entry in data if isinstance(data, list) else []:
        if not isinstance(entry, dict):
            continue
        values = [number(entry.get(k)) for k in keys]
        if any(v is not None for v in values):
            rows.append((str(entry.get(label_key) or "?"), values))
    return rows


def latency_chart(measurements: dict[str, Any], defaults: dict[str, float] | None = None) -> str:
    rows = rows_of(data.latency(measurements), "endpoint", [s.key for s in LATENCY_SERIES])
    rows.sort(key=lambda r: -max(v or 0 for v in r[1]))
    limits = data.latency_limits(measurements, defaults or {})
    markers = [
        Marker(v, f"{name} {v:g} ms", color)
        for name, key, color in (("warn", "warn_ms", "#d68910"), ("crit", "crit_ms", "#c0392b"))
        if (v := number(limits.get(key))) is not None
    ]
    return hbar_chart(
        title="Latency per endpoint (ms)", rows=rows, series=LATENCY_SERIES, unit="ms", markers=markers
    )


def sizes_chart(measurements: dict[str, Any]) -> str:
    rows = rows_of(data.sizes(measurements), "endpoint", [s.key for s in SIZE_SERIES])
    rows.sort(key=lambda r: -max(v or 0 for v in r[1]))
    limit = number(measurements.get("size_limit_bytes"))
    markers = [Marker(limit, f"limit {_bytes(limit)}", "#c0392b")] if limit else []
    return hbar_chart(
        allow_log=True,
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


def hit_rate_chart(measurements: dict[str, Any], defaults: dict[str, float] | None = None) -> str:
    rows = rows_of(data.hit_rates(measurements), "label", ["hit_rate_pct"])
    limits = defaults or {}
    markers = [
        Marker(v, f"{name} {v:g} %", color)
        for name, key, color in (("warn", "warn_pct", "#d68910"), ("crit", "crit_pct", "#c0392b"))
        if (v := number(limits.get(key))) is not None
    ]
    series = (Series("hit_rate_pct", "hit rate", "#229954"),)
    return hbar_chart(title="Cache hit rate (%)", rows=rows, series=series, unit="%", markers=markers)


def all_charts(measurements: dict[str, Any], defaults: dict[str, float] | None = None) -> list[Chart]:
    """Every chart the measurements allow; ``defaults`` are threshold lines used when the report
    carries none (``warn_ms``/``crit_ms`` for latency, ``warn_pct``/``crit_pct`` for hit rates)."""
    made = [
        Chart("latency", "Latency", latency_chart(measurements, defaults)),
        Chart("sizes", "Response sizes", sizes_chart(measurements)),
        Chart("top-queries", "Top queries", top_queries_chart(measurements)),
        Chart("nplusone", "N+1 patterns", nplusone_chart(measurements)),
        Chart("hit-rate", "Cache hit rate", hit_rate_chart(measurements, defaults)),
        Chart("production-latency", "Production latency", production_latency_chart(measurements, defaults)),
    ]
    return [c for c in made if c.svg]


def production_latency_chart(measurements: dict[str, Any], defaults: dict[str, float] | None = None) -> str:
    """P50/P95/P99 per route from the team's Prometheus (``measurements.monitoring``)."""
    monitoring = measurements.get("monitoring")
    if not isinstance(monitoring, dict):
        return ""
    rows = rows_of(monitoring.get("latency"), "route", [s.key for s in LATENCY_SERIES])
    rows.sort(key=lambda r: -max(v or 0 for v in r[1]))
    limits = defaults or {}
    markers = [Marker(v, f"{name} {v:g} ms", color)
               for name, key, color in (("warn", "warn_ms", "#d68910"), ("crit", "crit_ms", "#c0392b"))
               if (v := number(limits.get(key))) is not None]
    window = escape(str(monitoring.get("window") or ""))
    return hbar_chart(title=f"Production latency per route (Prometheus, last {window}, ms)", rows=rows,
                      series=LATENCY_SERIES, unit="ms", markers=markers)


def hbar_chart(
    *,
    title: str,
    rows: list[tuple[str, list[float | None]]],
    series: Sequence[Series],
    unit: str,
    markers: Sequence[Marker] = (),
    allow_log: bool = False,
) -> str:
    """Horizontal grouped bars: one group per row, one bar per series, optional vertical markers."""
    rows = rows[:MAX_ROWS]
    if not rows:
        return ""
    # A series no row measured (P95/P99 below the sample minimum) is left out, legend included.
    keep = [j for j in range(len(series)) if any(vals[j] is not None for _, vals in rows)]
    series = [series[j] for j in keep]
    rows = [(label, [vals[j] for j in keep]) for label, vals in rows]
    values = [v for _, vals in rows for v in vals if v is not None]
    top = max(values + [m.value for m in markers])
    low = min((v for v in values if v > 0), default=0.0)
    scale = Scale.fit(top, WIDTH - LABEL_W - RIGHT_PAD, allow_log=allow_log, low=low)
    if scale.log:
        title += " (log scale)"
    group_h = len(series) * BAR_H + ROW_GAP
    height = TOP + len(rows) * group_h + 34
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="bold" fill="#222">{escape(title)}</text>',
        _legend(series, y=32),
    ]
    parts += _axis(scale, TOP, height - 28, unit)
    shorts = distinct_labels([label for label, _ in rows])
    for i, ((label, vals), short) in enumerate(zip(rows, shorts, strict=True)):
        parts.append(_group(label, short, vals, series, TOP + i * group_h, scale, unit))
    parts += [_marker(m, scale, TOP, height - 28, TOP - 8 - 12 * i) for i, m in enumerate(markers)]
    parts.append("</svg>")
    return "".join(parts)


def _legend(series: Sequence[Series], y: int) -> str:
    out, x = [], LABEL_W
    for s in series:
        out.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{s.color}"/>'
            f'<text x="{x + 14}" y="{y}" fill="#333">{escape(s.label)}</text>'
        )
        x += 24 + 7 * len(s.label) + 16
    return "".join(out)


def _axis(scale: Scale, y0: float, y1: float, unit: str) -> list[str]:
    out = []
    for value in scale.ticks():
        x = scale.x(value)
        out.append(
            f'<line x1="{x:.1f}" y1="{y0 - 4}" x2="{x:.1f}" y2="{y1}" stroke="#e5e5e5"/>'
            f'<text x="{x:.1f}" y="{y1 + 16}" text-anchor="middle" fill="#666">'
            f"{escape(_fmt(value, unit))}</text>"
        )
    return out


def distinct_labels(labels: list[str], width: int = LABEL_CHARS) -> list[str]:
    """Labels cut to ``width`` that stay told apart: two SQL statements sharing their first 44
    characters keep their distinct tails (``SELECT id, na…WHERE id = $1``), and equal cuts get #n."""
    def cut(text: str) -> str:
        return text if len(text) <= width else text[: width - 1] + "…"

    def middle(text: str) -> str:
        if len(text) <= width:
            return text
        head = (width - 1) // 2
        return text[:head] + "…" + text[-(width - 1 - head):]

    shorts = [cut(label) for label in labels]
    for i, label in enumerate(labels):
        if shorts.count(shorts[i]) > 1 and label != shorts[i]:
            shorts[i] = middle(label)
    seen: dict[str, int] = {}
    for i, short in enumerate(shorts):
        if shorts.count(short) > 1 and labels.count(labels[i]) < shorts.count(short):
            seen[short] = seen.get(short, 0) + 1
            shorts[i] = f"{short[: width - 4]} #{seen[short]}"
    return shorts


def _group(
    label: str,
    short: str,
    values: list[float | None],
    series: Sequence[Series],
    y: float,
    scale: Scale,
    unit: str,
) -> str:
    mid = y + len(series) * BAR_H / 2 + 4
    out = [
        f"<g><title>{escape(label)}</title>"
        f'<text x="{LABEL_W - 8}" y="{mid:.1f}" text-anchor="end" fill="#222">{escape(short)}</text>'
    ]
    for j, (s, v) in enumerate(zip(series, values, strict=True)):
        if v is None:
            continue
        by = y + j * BAR_H
        w = max(scale.x(v) - LABEL_W, 1.0)
        out.append(
            f'<rect x="{LABEL_W}" y="{by:.1f}" width="{w:.1f}" height="{BAR_H - 2}" fill="{s.color}">'
            f"<title>{escape(s.label)}: {escape(_fmt(v, unit))}</title></rect>"
            f'<text x="{LABEL_W + w + 4:.1f}" y="{by + BAR_H - 3:.1f}" font-size="10" fill="#444">'
            f"{escape(_fmt(v, unit))}</text>"
        )
    out.append("</g>")
    return "".join(out)


def _marker(m: Marker, scale: Scale, y0: float, y1: float, label_y: float) -> str:
    x = scale.x(m.value)
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
