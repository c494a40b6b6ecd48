"""monitoring.resource_usage (CPU/memory series, targets up) and caching.hit_rate from exporters."""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.model import Finding
from apiaudit.monitor.evidence import MonitorEvidence
from apiaudit.requirements import Req


@check("monitor.resources.none", "monitor.targets.down", kind="monitor", requires=(Req.PROMETHEUS_API,))
def check_resources(ev: MonitorEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    for step in ("metric names", "resources", "targets"):
        if step in ev.failed:
            yield NotApplicable(f"Prometheus did not answer the {step} query: {ev.failed[step]}", missing=True)
            return
    where = {"target": ev.server}
    for t in ev.targets:
        if t["health"] != "up":
            yield Finding("monitor.targets.down", {**where, "job": t["job"], "instance": t["instance"]},
                          {"job": t["job"], "instance": t["instance"], "health": t["health"],
                           "error": t["error"] or "no error reported"})
    api_jobs = {ev.job} if ev.job else set()
    process = set(ev.resources.get("process_cpu", [])) & set(ev.resources.get("process_memory", []))
    host_level = bool(ev.resources.get("node") or ev.resources.get("cadvisor"))
    if not (api_jobs & process or (not api_jobs and process) or host_level):
        yield Finding("monitor.resources.none", where, {"job": ev.job or "(no API job found)",
                      "seen": ", ".join(sorted(ev.resources)) or "none"})


@check("monitor.cache.hitrate-low", "monitor.cache.hitrate-critical", kind="monitor", requires=(Req.PROMETHEUS_API,))
def check_cache_hit_rate(ev: MonitorEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if "cache" in ev.failed:
        yield NotApplicable(f"Prometheus did not answer the cache query: {ev.failed['cache']}", missing=True)
        return
    if ev.cache_source is None:
        yield NotApplicable("no redis_exporter or memcached_exporter series in Prometheus")
        return
    if ev.cache_hit_rate_pct is None:
        yield NotApplicable(f"no cache lookups in the last {ev.window}", missing=True)
        return
    where = {"target": ev.server, "source": ev.cache_source}
    values = {"hit_rate": ev.cache_hit_rate_pct, "source": ev.cache_source, "window": ev.window}
    if ev.cache_hit_rate_pct < ctx.threshold("cache_hit_rate_critical_pct"):
        yield Finding("monitor.cache.hitrate-critical", where,
                      {**values, "critical": ctx.threshold("cache_hit_rate_critical_pct")})
    elif ev.cache_hit_rate_pct < ctx.threshold("cache_hit_rate_warn_pct"):
        yield Finding("monitor.cache.hitrate-low", where, {**values, "warn": ctx.threshold("cache_hit_rate_warn_pct")})
