"""monitoring.latency and monitoring.error_rates from the API's request-duration histogram."""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.model import Finding
from apiaudit.monitor.evidence import MonitorEvidence
from apiaudit.requirements import Req


def _server(ev: MonitorEvidence) -> dict[str, str]:
    return {"target": ev.server}


@check("monitor.latency.no-histogram", "monitor.latency.tracked", "monitor.latency.no-route-label",
       "monitor.latency.p95-warn", "monitor.latency.p95-critical", kind="monitor", requires=(Req.PROMETHEUS_API,))
def check_latency(ev: MonitorEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    for step in ("metric names", "histogram", "latency"):
        if step in ev.failed:
            yield NotApplicable(f"Prometheus did not answer the {step} query: {ev.failed[step]}", missing=True)
            return
    job = f" for job {ev.job}" if ev.job else ""
    if not ev.histogram:
        yield Finding("monitor.latency.no-histogram", _server(ev), {"for_job": job,
                      "seen": ", ".join(ev.histograms) or "none"})
        return
    yield Finding("monitor.latency.tracked", _server(ev), {"job": ev.job or "-", "histogram": ev.histogram,
                  "routes": len(ev.latency), "per": ev.route_label or "(no route label)"})
    if not ev.route_label:
        yield Finding("monitor.latency.no-route-label", _server(ev), {"histogram": ev.histogram})
    if not ev.latency:
        yield NotApplicable(f"no requests in the last {ev.window}: no percentile to judge", missing=True)
        return
    warn, crit = ctx.threshold("p95_warn_ms"), ctx.threshold("p95_critical_ms")
    for row in ev.latency:
        p95 = row.get("p95_ms")
        if p95 is None:
            continue
        where = {"target": ev.server, "route": row["route"]}
        values = {"p50_ms": row.get("p50_ms", "n/a"), "p95_ms": p95, "p99_ms": row.get("p99_ms", "n/a"),
                  "rps": row.get("rps", "n/a"), "window": ev.window}
        if p95 > crit:
            yield Finding("monitor.latency.p95-critical", where, {**values, "threshold_ms": crit}, dict(row))
        elif p95 > warn:
            yield Finding("monitor.latency.p95-warn", where, {**values, "threshold_ms": warn}, dict(row))


@check("monitor.errors.no-status-label", "monitor.errors.rate-warn", "monitor.errors.rate-critical",
       kind="monitor", requires=(Req.PROMETHEUS_API,))
def check_error_rates(ev: MonitorEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    for step in ("metric names", "histogram", "errors"):
        if step in ev.failed:
            yield NotApplicable(f"Prometheus did not answer the {step} query: {ev.failed[step]}", missing=True)
            return
    if not ev.histogram:
        yield NotApplicable("no request metrics for the API: error rates are not tracked", missing=True)
        return
    if not ev.status_label:
        yield Finding("monitor.errors.no-status-label", _server(ev), {"histogram": ev.histogram})
        return
    if not ev.errors:
        yield NotApplicable(f"no requests in the last {ev.window}: no error rate to judge", missing=True)
        return
    warn, crit = ctx.threshold("error_rate_warn_pct"), ctx.threshold("error_rate_critical_pct")
    for row in ev.errors:
        where = {"target": ev.server, "route": row["route"]}
        values = {"rate_5xx_pct": row["rate_5xx_pct"], "rps": row["rps"], "window": ev.window}
        if row["rate_5xx_pct"] > crit:
            yield Finding("monitor.errors.rate-critical", where, {**values, "threshold_pct": crit}, dict(row))
        elif row["rate_5xx_pct"] > warn:
            yield Finding("monitor.errors.rate-warn", where, {**values, "threshold_pct": warn}, dict(row))
