"""monitoring.alerts: alerting rules for latency, error rate and saturation, and rules that can fire."""

from __future__ import annotations

import re
from collections.abc import Iterator

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.model import Finding
from apiaudit.monitor.evidence import MonitorEvidence
from apiaudit.monitor.promql import metric_names
from apiaudit.requirements import Req

SATURATION = re.compile(r"process_cpu|process_resident_memory|node_cpu|node_memory|container_cpu|container_memory|"
                        r"numbackends|pg_stat_activity|connected_clients|_connections|node_load", re.I)
FIVE_XX = re.compile(r"""=~\s*["']5|["']5\d\d["']|5\.\.|5xx""", re.I)


def covers(kind: str, expr: str, ev: MonitorEvidence) -> bool:
    names = metric_names(expr)
    api = {f"{h}_bucket" for h in ev.histograms} | {f"{h}_count" for h in ev.histograms}
    if kind == "latency":
        return "histogram_quantile" in expr and bool(names & api)
    if kind == "error rate":
        return bool(FIVE_XX.search(expr)) and bool(names & api or any("request" in n for n in names))
    return bool(SATURATION.search(expr))


def ready_rule(kind: str, ev: MonitorEvidence, ctx: CheckContext) -> str:
    """A rule in Prometheus's YAML with the guide's thresholds, for the API's own metric names."""
    hist = ev.histogram or "http_request_duration_seconds"
    job = f'job="{ev.job}"' if ev.job else ""
    status = ev.status_label or "status"
    by = f" by ({ev.route_label})" if ev.route_label else ""
    if kind == "latency":
        seconds = ctx.threshold("p95_warn_ms") / 1000
        expr = f"histogram_quantile(0.95, sum by (le) (rate({hist}_bucket{{{job}}}[5m]))) > {seconds:g}"
        name, summary = "ApiLatencyP95High", f"P95 latency above {seconds:g} s"
    elif kind == "error rate":
        share = ctx.threshold("error_rate_warn_pct") / 100
        sel = ",".join(p for p in (job, f'{status}=~"5.."') if p)
        expr = (f"sum{by} (rate({hist}_count{{{sel}}}[5m])) / sum{by} (rate({hist}_count{{{job}}}[5m])) > {share:g}")
        name, summary = "ApiErrorRateHigh", f"5xx share above {share:.0%}"
    else:
        expr = f"rate(process_cpu_seconds_total{{{job}}}[5m]) > 0.8"
        name, summary = "ApiCpuSaturated", "CPU above 80 % of a core"
    return (f"- alert: {name}\n  expr: {expr}\n  for: 5m\n  labels: {{severity: warning}}\n"
            f"  annotations: {{summary: \"{summary}\"}}")


@check("monitor.alerts.none", "monitor.alerts.missing", "monitor.alerts.unknown-metric", kind="monitor",
       requires=(Req.PROMETHEUS_API,))
def check_alert_rules(ev: MonitorEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    for step in ("rules", "metric names"):
        if step in ev.failed:
            yield NotApplicable(f"Prometheus did not answer the {step} query: {ev.failed[step]}", missing=True)
            return
    where = {"target": ev.server}
    if not ev.alert_rules:
        rules = "\n".join("      " + line for kind in ("latency", "error rate", "saturation")
                           for line in ready_rule(kind, ev, ctx).splitlines())
        yield Finding("monitor.alerts.none", where, {"example": f"groups:\n  - name: api\n    rules:\n{rules}"})
        return
    for kind in ("latency", "error rate", "saturation"):
        if not any(covers(kind, r["expr"], ev) for r in ev.alert_rules):
            yield Finding("monitor.alerts.missing", {**where, "kind": kind},
                          {"kind": kind, "rules": len(ev.alert_rules), "rule_yaml": ready_rule(kind, ev, ctx)})
    known = set(ev.metric_names) | set(ev.recorded)
    for rule in ev.alert_rules:
        unknown = sorted(metric_names(rule["expr"]) - known)
        if unknown:
            yield Finding("monitor.alerts.unknown-metric", {**where, "rule": rule["name"]},
                          {"rule": rule["name"], "group": rule["group"], "metrics": ", ".join(unknown),
                           "expr": rule["expr"][:300]})
