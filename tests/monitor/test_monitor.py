"""`apiaudit monitor` against a real Prometheus scraping a real instrumented app (no mock of the API).
Expected findings are derived from the app: /api/slow sleeps 0.6 s (P95 in the 0.5-0.75 s bucket:
above the 500 ms warning, below 1 s), /api/flaky answers 5xx to one request in three (33 % > 5 %),
/api/rare to one in fifty (2 %: between 1 % and 5 %); the 5 m window holds the whole workload,
one scrape job points at a closed port, one rule names a metric no target has."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prometheus_server import prometheus, sparse


def by_rule(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out


def test_latency_errors_alerts_and_targets_from_prometheus(run_cli: Any, monitored: str, tmp_path: Path) -> None:
    res = run_cli("monitor", monitored, "--window", "5m", "--format", "json")
    assert res.code == 1, res  # the flaky route's 5xx rate and the down target are high
    report = json.loads(res.stdout)
    found = by_rule(report)
    status = {c["id"]: c["status"] for c in report["checklist"]}
    assert [f["location"]["route"] for f in found.get("monitor.latency.p95-warn", [])] == ["/api/slow"]
    assert "monitor.latency.p95-critical" not in found
    errors = report["measurements"]["monitoring"]["errors"]
    assert [f["location"]["route"] for f in found.get("monitor.errors.rate-critical", [])] == ["/api/flaky"], errors
    assert "monitor.alerts.missing" not in found and "monitor.alerts.none" not in found
    assert [f["location"]["rule"] for f in found["monitor.alerts.unknown-metric"]] == ["ApiMisspelt"]
    assert "http_requst_duration_seconds_count" in found["monitor.alerts.unknown-metric"][0]["message"]
    assert [f["location"]["job"] for f in found["monitor.targets.down"]] == ["gone"]
    assert "monitor.resources.none" not in found
    assert status["monitoring.latency"] == "warn" and status["monitoring.error_rates"] == "fail"
    assert status["monitoring.alerts"] == "warn" and status["monitoring.resource_usage"] == "fail"
    routes = {r["route"]: r for r in report["measurements"]["monitoring"]["latency"]}
    assert 500 < routes["/api/slow"]["p95_ms"] < 1000 and routes["/api/fast"]["p95_ms"] < 100
    assert [f["location"]["route"] for f in found["monitor.errors.rate-warn"]] == ["/api/rare"]
    # redis_exporter: 14 of 20 lookups hit = 70 %, between the 50 % critical and 80 % warning levels
    assert [f["rule"] for f in found.get("monitor.cache.hitrate-low", [])] == ["monitor.cache.hitrate-low"]
    assert status["caching.hit_rate"] == "warn"
    coverage = report["measurements"]["monitoring"]["alert_coverage"]
    assert coverage == {"latency": ["ApiLatencyP95High"], "error rate": ["ApiErrorRateHigh"],
                        "saturation": ["ApiCpuHigh"]}
    (tmp_path / "monitor.json").write_text(res.stdout)
    html = run_cli("report", "monitor.json", "--format", "html", "--fail-on", "none")
    assert "Production latency per route" in html.stdout and "Alert coverage (Prometheus)" in html.stdout


def test_unlabelled_slow_api_with_one_rule_and_a_cold_cache(run_cli: Any) -> None:
    with sparse() as url:
        res = run_cli("monitor", url, "--window", "5m", "--format", "json")
    assert res.code == 1, res
    found = by_rule(json.loads(res.stdout))
    assert "monitor.latency.no-route-label" in found and "monitor.errors.no-status-label" in found
    assert [f["location"]["route"] for f in found["monitor.latency.p95-critical"]] == ["(all)"]
    missing = sorted(f["location"]["kind"] for f in found["monitor.alerts.missing"])
    assert missing == ["error rate", "saturation"]  # the one rule is a latency alert
    assert "request_latency_seconds_count" in next(f["fix"] for f in found["monitor.alerts.missing"]
                                                   if f["location"]["kind"] == "error rate")
    assert "monitor.resources.none" in found  # no process_*, node or cAdvisor series
    assert "monitor.cache.hitrate-critical" in found  # every lookup missed


def test_no_rules_and_no_histogram(run_cli: Any) -> None:
    with prometheus({"self": "127.0.0.1:9"}, None) as url:
        res = run_cli("monitor", url, "--window", "5m", "--format", "json")
    assert res.code == 1, res
    found = by_rule(json.loads(res.stdout))
    assert "monitor.alerts.none" in found and "monitor.latency.no-histogram" in found
    fix = found["monitor.alerts.none"][0]["fix"]
    assert "histogram_quantile(0.95" in fix and "5.." in fix and "process_cpu_seconds_total" in fix


def test_unreachable_prometheus_is_exit_3(run_cli: Any) -> None:
    res = run_cli("monitor", "http://127.0.0.1:9", "--format", "json")
    assert res.code == 3 and "could not audit Prometheus" in res.stderr
