"""Monitoring hints (checks: ``apiaudit.http.checks.monitoring``): one GET of the Prometheus metrics
path (config ``http.metrics_path``, default ``/metrics``; empty turns it off) per origin, recorded in
``ScanEvidence.extra`` as ``metrics:<url>``."""

from __future__ import annotations

from apiaudit.http.evidence import Endpoint
from apiaudit.http.headers import join_url
from apiaudit.http.probes import ProbeSession

# Prometheus text exposition first (its content negotiation, exposition formats spec), anything else after.
ACCEPT = "text/plain;version=0.0.4;q=0.9, */*;q=0.1"


async def probe(session: ProbeSession, endpoint: Endpoint) -> None:
    path = str(session.options.get("metrics_path", "/metrics") or "")
    if not path:
        return
    url = join_url(endpoint.url, path)
    if url is None or not session.once(f"metrics:{url}"):
        return
    await session.fetch(url, purpose=f"metrics:{url}", extra=True, headers={"Accept": ACCEPT})
