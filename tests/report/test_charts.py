"""Charts are pure: measurements in, escaped SVG out; partial or odd input is skipped, never fatal."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apiaudit.report import charts, gauge, scale, series

SVG = "{http://www.w3.org/2000/svg}"


def bars(svg: str) -> dict[str, float]:
    """Bar tooltip ("P95: 812 ms") -> width, for the bars of a chart."""
    root = ET.fromstring(svg)
    return {
        (r.findtext(f"{SVG}title") or ""): float(r.get("width", "0"))
        for r in root.iter(f"{SVG}rect")
        if r.findtext(f"{SVG}title")
    }


def test_no_data_no_chart() -> None:
    assert charts.all_charts({}) == []
    assert charts.all_charts({"latency": "oops", "sizes": [1, None], "top_queries": [{"sample": "x"}]}) == []


def test_latency_bars_are_proportional_and_thresholds_drawn() -> None:
    m = {
        "latency": [{"endpoint": "GET /a", "p50_ms": 100, "p95_ms": 400, "p99_ms": None}],
        "latency_thresholds": {"warn_ms": 500, "crit_ms": 1000},
    }
    svg = charts.latency_chart(m)
    widths = bars(svg)
    assert set(widths) == {"P50: 100 ms", "P95: 400 ms"}  # missing P99 skipped
    assert widths["P95: 400 ms"] == pytest.approx(4 * widths["P50: 100 ms"], rel=0.01)
    assert "warn 500 ms" in svg and "crit 1000 ms" in svg


def test_scan_engine_shape_is_read() -> None:
    m: dict[str, Any] = {
        "endpoints": [
            {
                "url": "http://h/api/p?x=1",
                "latency_ms": {"p50": 5.0, "p95": 20.0, "p99": 30.0, "count": 9},
                "sizes": {
                    "identity": {"applied": "identity", "wire_bytes": 10000, "decoded_bytes": 10000},
                    "gzip": {"applied": "gzip", "wire_bytes": 2000, "decoded_bytes": 10000},
                    "br": {
                        "applied": "identity",
                        "wire_bytes": 10000,
                        "decoded_bytes": 10000,
                    },  # not really br
                },
            }
        ]
    }
    assert series.latency(m) == [
        {"endpoint": "GET /api/p?x=1", "p50_ms": 5.0, "p95_ms": 20.0, "p99_ms": 30.0}
    ]
    assert series.sizes(m) == [{"endpoint": "GET /api/p?x=1", "identity": 10000, "gzip": 2000}]
    ids = [c.id for c in charts.all_charts(m, {"warn_ms": 500})]
    assert ids == ["latency", "sizes"]


def test_cache_hit_rates_from_cache_and_db_audits() -> None:
    m = {
        "cache": {"servers": [{"server": "redis://127.0.0.1:6379", "engine": "redis", "hit_rate_pct": 91.5}]},
        "cache_hit_rate": {"tables": {"rate": 99.1}, "indexes": {"rate": None}},
    }
    rows = series.hit_rates(m)
    assert [r["hit_rate_pct"] for r in rows] == [91.5, 99.1, None]
    svg = charts.hit_rate_chart(m, {"warn_pct": 80, "crit_pct": 50})
    assert "redis redis://127.0.0.1:6379" in svg and "warn 80 %" in svg


def test_sizes_switch_to_log_scale_over_orders_of_magnitude() -> None:
    wide = charts.sizes_chart({"sizes": [{"endpoint": "a", "identity": 1_000_000, "gzip": 500}]})
    narrow = charts.sizes_chart({"sizes": [{"endpoint": "a", "identity": 10_000, "gzip": 2_000}]})
    assert "(log scale)" in wide and "(log scale)" not in narrow
    w = bars(wide)
    assert w["gzip: 500 B"] > 0.3 * w["raw: 1 MB"]  # visible, not a 1-pixel sliver


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 1), (0.7, 1), (1, 1), (1.2, 2), (430, 500), (812.4, 1000), (1000, 1000), (2001, 5000)],
)
def test_nice_ceiling(value: float, expected: float) -> None:
    assert scale.nice_ceiling(value) == expected


def test_gauge_and_bar() -> None:
    assert ">72<" in gauge.gauge(72, "C") and "grade C" in gauge.gauge(72, "C")
    assert ">n/a<" in gauge.gauge(None, None)
    ET.fromstring(gauge.score_bar(None))
    assert 'width="80.0"' in gauge.score_bar(50, width=160)


labels = st.text(min_size=0, max_size=60)
numbers = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 10**9),
    st.text(max_size=3),
    st.booleans(),
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "endpoint": labels,
                "p50_ms": numbers,
                "p95_ms": numbers,
                "p99_ms": numbers,
                "identity": numbers,
                "gzip": numbers,
                "sample": labels,
                "total_ms": numbers,
                "child": labels,
                "parent": labels,
                "occurrences": numbers,
            }
        ),
        max_size=20,
    )
)
def test_any_input_gives_well_formed_svg(rows: list[dict[str, Any]]) -> None:
    m = {
        "latency": rows,
        "sizes": rows,
        "top_queries": rows,
        "nplusone": rows,
        "latency_thresholds": {"warn_ms": 500, "crit_ms": float("nan")},
    }
    for chart in charts.all_charts(m):
        root = ET.fromstring(chart.svg)
        for rect in root.iter(f"{SVG}rect"):
            width = float(rect.get("width", "0"))
            assert math.isfinite(width) and 0 <= width <= charts.WIDTH
        assert not re.search(r"<(script|img|foreignObject)", chart.svg)
