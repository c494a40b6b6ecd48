"""Read what the checks need from the Prometheus HTTP API: a few bounded instant queries, the rules,
the targets and the metric names. Every failed call is recorded in ``failed`` (its checks are then
not assessed), never raised, once the server answered at all."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from apiaudit.monitor.client import PromClient, PromError
from apiaudit.monitor.evidence import MonitorEvidence

# Request-duration histograms of the common client libraries: prometheus-client / starlette-exporter
# (http_request_duration_seconds), Spring (http_server_requests_seconds), OpenTelemetry
# (http_server_duration_milliseconds, http_server_request_duration_seconds), Go (request_duration_seconds).
HISTOGRAM = re.compile(r"(http|request|server|api).*(duration|latency|requests_seconds)", re.I)
ROUTE_LABELS = ("handler", "route", "path", "endpoint", "uri", "url", "http_route", "operation")
STATUS_LABELS = ("status", "code", "status_code", "http_status", "http_status_code", "http_response_status_code")
RESOURCE_SERIES = {
    "process_cpu": "process_cpu_seconds_total",
    "process_memory": "process_resident_memory_bytes",
    "node": "node_cpu_seconds_total",
    "cadvisor": "container_cpu_usage_seconds_total",
    "postgres_exporter": "pg_up",
    "redis_exporter": "redis_up",
    "memcached_exporter": "memcached_up",
}
MAX_NAMES = 50_000


def collect(client: PromClient, *, job: str | None, window: str) -> MonitorEvidence:
    ev = MonitorEvidence(server=client.base.rstrip("/"), window=window)
    _step(ev, "metric names", lambda: _names(client, ev))
    _step(ev, "rules", lambda: _rules(client, ev))
    _step(ev, "targets", lambda: _targets(client, ev))
    _step(ev, "histogram", lambda: _histogram(client, ev, job))
    if ev.histogram:
        _step(ev, "latency", lambda: _latency(client, ev))
        _step(ev, "errors", lambda: _errors(client, ev))
    _step(ev, "resources", lambda: _resources(client, ev))
    _step(ev, "cache", lambda: _cache(client, ev))
    return ev


def _step(ev: MonitorEvidence, name: str, fn: Callable[[], None]) -> None:
    try:
        fn()
    except PromError as exc:
        ev.failed[name] = str(exc)


def _names(client: PromClient, ev: MonitorEvidence) -> None:
    data = client.get("api/v1/label/__name__/values")
    ev.metric_names = sorted(str(n) for n in (data or [])[:MAX_NAMES])
    ev.histograms = sorted(n[: -len("_bucket")] for n in ev.metric_names
                           if n.endswith("_bucket") and HISTOGRAM.search(n))


def _rules(client: PromClient, ev: MonitorEvidence) -> None:
    data = client.get("api/v1/rules") or {}
    for group in data.get("groups") or []:
        for rule in group.get("rules") or []:
            if rule.get("type") == "alerting":
                ev.alert_rules.append({"name": str(rule.get("name", "")), "expr": str(rule.get("query", "")),
                                       "group": str(group.get("name", ""))})
            elif rule.get("type") == "recording":
                ev.recorded.append(str(rule.get("name", "")))


def _targets(client: PromClient, ev: MonitorEvidence) -> None:
    data = client.get("api/v1/targets", {"state": "active"}) or {}
    for t in data.get("activeTargets") or []:
        labels = t.get("labels") or {}
        ev.targets.append({"job": labels.get("job", ""), "instance": labels.get("instance", ""),
                           "health": t.get("health", "unknown"), "error": t.get("lastError", "")})


def _sel(ev: MonitorEvidence, extra: str = "") -> str:
    inner = ",".join(p for p in (f'job="{_esc(ev.job)}"' if ev.job else "", extra) if p)
    return "{" + inner + "}"


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _histogram(client: PromClient, ev: MonitorEvidence, job: str | None) -> None:
    """The API's histogram: on ``job`` when given, else the one with most series; its labels."""
    best: tuple[int, str, str | None] | None = None
    for name in ev.histograms:
        sel = f'{{job="{_esc(job)}"}}' if job else ""
        for row in client.query(f"count by (job) ({name}_count{sel})"):
            count = int(row["value"])
            if best is None or count > best[0]:
                best = (count, name, row["metric"].get("job"))
    if best is None:
        ev.job = job
        return
    ev.histogram, ev.job = best[1], best[2] or job
    labels = set()
    for row in client.query(f"group by ({', '.join(ROUTE_LABELS + STATUS_LABELS)}) ({ev.histogram}_count{_sel(ev)})"):
        labels |= {k for k, v in row["metric"].items() if v}
    ev.route_label = next((name for name in ROUTE_LABELS if name in labels), None)
    ev.status_label = next((name for name in STATUS_LABELS if name in labels), None)


def _ms(name: str) -> float:
    return 1.0 if name.endswith(("_ms", "_milliseconds")) else 1000.0


def _latency(client: PromClient, ev: MonitorEvidence) -> None:
    assert ev.histogram is not None
    by = f"le, {ev.route_label}" if ev.route_label else "le"
    routes: dict[str, dict[str, Any]] = {}
    rate = f"rate({ev.histogram}_bucket{_sel(ev)}[{ev.window}])"
    for q in (0.5, 0.95, 0.99):
        for row in client.query(f"histogram_quantile({q}, sum by ({by}) ({rate}))"):
            route = row["metric"].get(ev.route_label or "", "") or "(all)"
            routes.setdefault(route, {"route": route})[f"p{round(q * 100)}_ms"] = round(
                row["value"] * _ms(ev.histogram), 1)
    group = f" by ({ev.route_label})" if ev.route_label else ""
    for row in client.query(f"sum{group} (rate({ev.histogram}_count{_sel(ev)}[{ev.window}]))"):
        route = row["metric"].get(ev.route_label or "", "") or "(all)"
        if route in routes:
            routes[route]["rps"] = round(row["value"], 3)
    ev.latency = sorted(routes.values(), key=lambda r: -float(r.get("p95_ms") or 0))


def _errors(client: PromClient, ev: MonitorEvidence) -> None:
    if not ev.status_label:
        return
    group = f" by ({ev.route_label})" if ev.route_label else ""
    total = {r["metric"].get(ev.route_label or "", "") or "(all)": r["value"]
             for r in client.query(f"sum{group} (rate({ev.histogram}_count{_sel(ev)}[{ev.window}]))")}
    bad_sel = _sel(ev, f'{ev.status_label}=~"5.."')
    bad = {r["metric"].get(ev.route_label or "", "") or "(all)": r["value"]
           for r in client.query(f"sum{group} (rate({ev.histogram}_count{bad_sel}[{ev.window}]))")}
    ev.errors = sorted(({"route": route, "rate_5xx_pct": round(100 * bad.get(route, 0.0) / rps, 2),
                         "rps": round(rps, 3)} for route, rps in total.items() if rps > 0),
                       key=lambda r: -r["rate_5xx_pct"])


def _resources(client: PromClient, ev: MonitorEvidence) -> None:
    names = set(ev.metric_names)
    for family, metric in RESOURCE_SERIES.items():
        if metric in names:
            ev.resources[family] = sorted({str(r["metric"].get("job", "")) for r in
                                           client.query(f"count by (job) ({metric})")})


def _cache(client: PromClient, ev: MonitorEvidence) -> None:
    names = set(ev.metric_names)
    if {"redis_keyspace_hits_total", "redis_keyspace_misses_total"} <= names:
        hits, misses = "redis_keyspace_hits_total", "redis_keyspace_misses_total"
        expr = (f"sum(rate({hits}[{ev.window}])) / (sum(rate({hits}[{ev.window}])) + "
                f"sum(rate({misses}[{ev.window}])))")
        ev.cache_source = "redis_exporter"
    elif "memcached_commands_total" in names:
        expr = (f'sum(rate(memcached_commands_total{{command="get",status="hit"}}[{ev.window}])) / '
                f'sum(rate(memcached_commands_total{{command="get"}}[{ev.window}]))')
        ev.cache_source = "memcached_exporter"
    else:
        return
    rows = client.query(expr)
    ev.cache_hit_rate_pct = round(100 * rows[0]["value"], 1) if rows else None
