"""Opt-in burst probe (checks: ``apiaudit.http.checks.ratelimit``).

With ``--burst N`` (config ``http.burst``) one endpoint of the scan — the first to reach this probe
(it runs last of all probes) among those whose base GET answered below 500 — gets up to N GETs
(``burst-1`` ...), a few in flight at a time, bounded by ``http.burst_seconds`` (and
:data:`MAX_BURST` / :data:`MAX_BURST_SECONDS` whatever the config says) and by the request budget.
The count is sized from the advertised quota (the last remaining seen, plus one: enough to meet the
limit, no more). It stops at the first 429 (or 503: nginx limit_req's default answer); the scan
client then honours the 429's Retry-After (capped by
``http.retry_after_cap_s``) for every later request.
"""

from __future__ import annotations

import asyncio
import time

from apiaudit.http.evidence import Endpoint
from apiaudit.http.headers import parse_ratelimits
from apiaudit.http.probes import ProbeSession

MAX_BURST = 500
MAX_BURST_SECONDS = 60.0
IN_FLIGHT = 4


async def probe(session: ProbeSession, endpoint: Endpoint) -> None:
    wanted = int(session.options.get("burst", 0) or 0)
    base = session.base(endpoint)
    if wanted <= 0 or base is None or not base.ok or base.status is None or base.status >= 500:
        return
    if not session.once("burst"):
        return
    total = min(wanted, MAX_BURST, session.remaining(), _sized(endpoint) or wanted)
    seconds = min(float(session.options.get("burst_seconds", 10.0) or 10.0), MAX_BURST_SECONDS)
    deadline = time.monotonic() + seconds
    sent = 0
    while sent < total and time.monotonic() < deadline:
        batch = min(IN_FLIGHT, total - sent)
        results = await asyncio.gather(*(
            session.fetch(endpoint.url, purpose=f"burst-{sent + i + 1}") for i in range(batch)))
        sent += batch
        if any(ex.status in (429, 503) for ex in results):
            return


def _sized(endpoint: Endpoint) -> int | None:
    """Requests needed to meet the advertised limit: the last remaining quota seen, plus one."""
    for ex in sorted(endpoint.exchanges, key=lambda e: e.started_ms, reverse=True):
        left = [q.remaining for q in parse_ratelimits(ex.response_headers) if q.remaining is not None]
        if left:
            return min(left) + 1
    return None
