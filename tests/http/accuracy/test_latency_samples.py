"""Issue 14 point 3: latency from few samples.

A P95 of six values is their maximum (nearest rank: ceil(0.95 * 6) = 6th), so one cold cache-aside
miss of 1.2 s among six requests would read as "P95 critical". P95/P99 are judged from
``latency_min_samples`` (20) warm requests on; below that the median and maximum are reported, and
the first (cold) request is reported apart.
"""

from __future__ import annotations

from scan_accuracy import findings, scan

from apiaudit.model import Severity


def test_one_cold_miss_among_six_is_not_high(realapp: str) -> None:
    report = scan([realapp + "/cache-aside"], samples=5)  # base + 5 samples = six requests
    assert not [f for f in findings(report, "http.latency.") if f.severity >= Severity.MEDIUM], [
        f.message for f in findings(report, "http.latency.")]
    row = report.measurements["endpoints"][0]["latency_ms"]
    # the cold miss is measured and shown apart; five warm requests give no P95
    assert row["cold"] >= 1200 and row["count"] == 5 and row["p95"] is None and row["max"] < 1200


def test_twenty_warm_samples_judge_p95(realapp: str) -> None:
    report = scan([realapp + "/cache-aside"], samples=21)
    assert not findings(report, "http.latency.")  # warm: every request fast


def test_a_slow_median_is_still_judged() -> None:
    from apiaudit.checks import CheckContext
    from apiaudit.http.checks.latency import check_latency
    from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
    from apiaudit.model import Finding
    from apiaudit.rules import load_rules

    url = "http://api.test/slow"
    ep = Endpoint(url, exchanges=[Exchange(id=f"x{i}", purpose="base" if i == 0 else f"sample-{i}", method="GET",
                                           url=url, status=200, elapsed_ms=1300.0, started_ms=i * 1400.0)
                                  for i in range(6)])
    out = [f for f in check_latency(ScanEvidence(endpoints=[ep]), CheckContext(ruleset=load_rules(), thresholds={}))
           if isinstance(f, Finding)]
    assert [f.rule_id for f in out] == ["http.latency.median-critical"]
    assert out[0].vars["n"] == 5 and out[0].vars["cold_ms"] == 1300.0
