"""Bench: how rendering scales with the number of findings (apiaudit/report/*).

Builds reports of N synthetic findings over the installed rules (through `assemble`, so resolve,
redact, fingerprint and score run as in a real audit), renders every format and prints time and
size per format, and the time ratio between sizes (1.0 per 10x = linear). Run:

    /tmp/venv/bin/python bench/report_scale.py
"""

from __future__ import annotations

import time

from apiaudit.assemble import assemble
from apiaudit.checks import CheckRun
from apiaudit.model import Finding
from apiaudit.report import FORMATS, RenderOptions, render
from apiaudit.rules import load_rules

SIZES = (100, 1000, 10000)


def build(n: int):  # type: ignore[no-untyped-def]
    rs = load_rules()
    rules = [r for r in rs.rules.values() if r.id.startswith("http.")]
    findings = [
        Finding(rules[i % len(rules)].id, {"url": f"http://127.0.0.1:8000/api/r{i}?q=<x>", "method": "GET"},
                {"n": i}, {"status": 200, "headers": {"x-i": str(i)}, "body_sample": "x" * 200})
        for i in range(n)
    ]
    run = CheckRun(findings=findings, covered=set(), kinds={"scan"})
    measurements = {"latency": [{"endpoint": f"GET /api/r{i}", "p50_ms": i, "p95_ms": 2 * i, "p99_ms": 3 * i}
                                for i in range(50)]}
    return assemble(kind="scan", targets=["http://127.0.0.1:8000"], run=run, ruleset=rs,
                    started_at="2026-11-29T04:00:00Z", duration_s=1.0, measurements=measurements), rs


def main() -> None:
    timings: dict[str, dict[int, float]] = {}
    print(f"{'format':10} {'findings':>8} {'seconds':>8} {'bytes':>11}")
    for n in SIZES:
        report, rs = build(n)
        opts = RenderOptions(color=False, verbose=True, extra={"ruleset": rs})
        for fmt in FORMATS:
            t0 = time.perf_counter()
            out = render(fmt, report, opts)
            dt = time.perf_counter() - t0
            timings.setdefault(fmt, {})[n] = dt
            print(f"{fmt:10} {n:8d} {dt:8.3f} {len(out.encode()):11d}")
    print("\ntime ratio per 10x findings (1.0 = linear):")
    for fmt, by_n in timings.items():
        ratios = [by_n[b] / by_n[a] / (b / a) for a, b in zip(SIZES, SIZES[1:], strict=False)]
        print(f"  {fmt:10} " + "  ".join(f"{r:.2f}" for r in ratios))


if __name__ == "__main__":
    main()
