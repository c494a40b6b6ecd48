"""What `apiaudit monitor` read from Prometheus: plain data the checks judge (no IO here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apiaudit.requirements import Availability, Req


@dataclass
class MonitorEvidence:
    server: str
    window: str = "1h"
    job: str | None = None
    histogram: str | None = None  # the API's request-duration histogram (base name, no _bucket)
    histograms: list[str] = field(default_factory=list)  # every request-duration histogram seen
    route_label: str | None = None
    status_label: str | None = None
    latency: list[dict[str, Any]] = field(default_factory=list)  # route, p50_ms, p95_ms, p99_ms, rps
    errors: list[dict[str, Any]] = field(default_factory=list)  # route, rate_5xx_pct, rps
    alert_rules: list[dict[str, str]] = field(default_factory=list)  # name, expr, group
    recorded: list[str] = field(default_factory=list)  # names of recording rules (valid metric names)
    metric_names: list[str] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)  # job, instance, health, error
    resources: dict[str, list[str]] = field(default_factory=dict)  # series family -> jobs exposing it
    cache_hit_rate_pct: float | None = None
    cache_source: str | None = None
    failed: dict[str, str] = field(default_factory=dict)  # what could not be read -> why

    def available(self, req: Req) -> Availability:
        """The API answered (else the audit stopped with exit 3); each check reads ``failed`` for the
        queries it needs and is not assessed, with the reason, when one of them failed."""
        if req is Req.PROMETHEUS_API:
            return True
        return f"not collected by apiaudit monitor: {req.value}"

    def to_measurements(self) -> dict[str, Any]:
        from apiaudit.monitor.checks.alerts import covers

        coverage = {kind: [r["name"] for r in self.alert_rules if covers(kind, r["expr"], self)]
                    for kind in ("latency", "error rate", "saturation")}
        return {"monitoring": {
            "alert_coverage": coverage,
            "server": self.server, "window": self.window, "job": self.job, "histogram": self.histogram,
            "route_label": self.route_label, "latency": self.latency, "errors": self.errors,
            "alert_rules": len(self.alert_rules), "targets_down": [t for t in self.targets if t["health"] != "up"],
            "resources": self.resources, "cache_hit_rate_pct": self.cache_hit_rate_pct,
        }}
