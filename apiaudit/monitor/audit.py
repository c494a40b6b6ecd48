"""The monitor audit entry point: read Prometheus (IO), run the pure checks, assemble."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from apiaudit.assemble import assemble, utc_now
from apiaudit.checks import CheckContext, run_checks
from apiaudit.deadline import Deadline
from apiaudit.errors import UsageError
from apiaudit.model import Report
from apiaudit.redact import redact_text, register_secret

WINDOW = re.compile(r"\d+[smhdw]")
DEFAULT_DEADLINE_S = 60.0


@dataclass(frozen=True)
class MonitorOptions:
    url: str
    job: str | None = None
    window: str = "1h"
    bearer_token: str | None = None
    basic_auth: tuple[str, str] | None = None
    timeout_s: float = 10.0
    deadline_s: float = DEFAULT_DEADLINE_S

    @classmethod
    def from_cli(cls, cfg: Any, *, url: str | None, job: str | None = None, window: str | None = None,
                 deadline_s: float | None = None) -> MonitorOptions:
        section = cfg.monitoring or {}
        target = url or section.get("url")
        if not target:
            raise UsageError("no Prometheus URL given (apiaudit monitor http://prometheus:9090, or monitoring.url)")
        if not str(target).startswith(("http://", "https://")):
            raise UsageError(f"not an http(s) URL: {redact_text(str(target))!r}")
        span = window or section.get("window", "1h")
        if not WINDOW.fullmatch(str(span)):
            raise UsageError(f"--window must be a Prometheus duration such as 30m, 1h or 1d (got {span!r})")
        token = section.get("bearer_token")
        basic = None
        if section.get("username"):
            basic = (str(section["username"]), str(section.get("password", "")))
            register_secret(basic[1])
        if token:
            register_secret(str(token))
        return cls(url=str(target), job=job or section.get("job"), window=str(span), bearer_token=token,
                   basic_auth=basic, timeout_s=float(section.get("timeout_s", 10.0)),
                   deadline_s=deadline_s or float(section.get("deadline_s", DEFAULT_DEADLINE_S)))


def run_monitor(options: MonitorOptions, cfg: Any) -> Report:
    from apiaudit.monitor.client import PromClient, reachable
    from apiaudit.monitor.collect import collect

    started_at, t0 = utc_now(), time.monotonic()
    headers = {"Authorization": f"Bearer {options.bearer_token}"} if options.bearer_token else {}
    client = PromClient(options.url, headers=headers, timeout_s=options.timeout_s,
                        deadline=Deadline(options.deadline_s), auth=options.basic_auth)
    try:
        reachable(client)
        ev = collect(client, job=options.job, window=options.window)
    finally:
        client.close()
    ctx = CheckContext(ruleset=cfg.ruleset, thresholds=cfg.thresholds)
    run = run_checks("monitor", ev, ctx)
    errors = [{"where": f"prometheus {step}", "message": why} for step, why in ev.failed.items()]
    stats = {"prometheus_queries": client.calls, "alert_rules": len(ev.alert_rules), "targets": len(ev.targets),
             "routes": len(ev.latency)}
    return assemble(kind="monitor", targets=[redact_text(ev.server)], run=run, ruleset=cfg.ruleset,
                    started_at=started_at, duration_s=time.monotonic() - t0, stats=stats, errors=errors,
                    measurements=ev.to_measurements())
