"""The probe protocol: how a probe asks for the extra requests its checks need.

A probe is a module in this package exposing::

    async def probe(session: ProbeSession, endpoint: Endpoint) -> None

The scan runs the base GET of every endpoint first, then, per endpoint, each module of ``PROBES`` in
order (endpoints run concurrently, and so do the probes of one endpoint — a probe must not read another
probe's exchanges; the client's per-host limit bounds what is in flight; ``validation`` runs first and
alone, its 304 being timed against the 200; ``ratelimit`` runs last, in a phase of its own). A probe:

* reads what is already known with ``session.base(endpoint)`` (the base Exchange, possibly failed:
  check ``.ok``) and ``endpoint.by_purpose(...)``;
* sends requests with ``await session.fetch(url, purpose="coding-gzip", headers={...}, method="GET")``.
  The Exchange is recorded on the endpoint (``extra=True`` records it in ``ScanEvidence.extra``
  instead) and returned. The endpoint's own headers (auth, config) are sent too; ``headers`` override
  them. Transport failures do not raise: they come back as an Exchange with ``error`` set. Budget,
  per-host concurrency, timeouts, bounded reads/decompression and Retry-After are handled by the session;
  when the request budget is spent ``fetch`` raises :class:`BudgetExhausted` (the orchestrator records
  the rest of that probe as skipped — do not catch it);
* may read ``session.options`` (samples, burst, burst_seconds, static, metrics_path, ...) and use
  ``session.once(key)`` to do scan-wide work (e.g. /metrics) only once;
* never raises anything else on purpose; an unexpected exception is recorded in the report's errors
  and the scan goes on.

Purposes are short dotted/kebab names, unique per endpoint ("base", "revalidate-etag",
"revalidate-date", "coding-identity", "coding-gzip", "page-limit-1000", "sample-3", ...).
Checks find exchanges by purpose, so a purpose name is part of the contract between a probe and
its checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from apiaudit.http.evidence import Endpoint, Exchange

__all__ = ["PROBES", "BudgetExhausted", "HostBackedOff", "ProbeSession"]

# Run in this order for every endpoint. scan-api appends its modules on this line only.
PROBES: tuple[str, ...] = ("validation", "compression",
                           "pagination", "fields", "latency", "static", "monitoring", "ratelimit")


class BudgetExhausted(Exception):
    """No more requests may be sent (budget spent, or the host told us to go away); the probe must
    stop. ``str(exc)`` is the reason recorded in ``ScanEvidence.skipped``."""


class HostBackedOff(BudgetExhausted):
    """The host answered 429 with a Retry-After beyond the cap, or kept answering 429: the scan
    leaves it alone for the rest of the run (DESIGN.md "honour Retry-After")."""


class ProbeSession(Protocol):
    options: Mapping[str, Any]

    def base(self, endpoint: Endpoint) -> Exchange | None: ...

    async def fetch(
        self,
        url: str,
        *,
        purpose: str,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        extra: bool = False,
    ) -> Exchange: ...

    def once(self, key: str) -> bool:
        """True the first time ``key`` is seen in this scan, False afterwards."""
        ...

    def remaining(self) -> int:
        """Requests left in the budget."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait (bounded by the session; used after a 429's Retry-After)."""
        ...
