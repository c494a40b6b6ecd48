"""Collection: base GETs, then every probe of ``PROBES`` per endpoint, through one :class:`ScanClient`.

Implements the probe protocol (``apiaudit.http.probes``). All IO of a scan happens here and in the
client; the result is a :class:`ScanEvidence`.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from apiaudit.http.client import DeadlineReached, ScanClient
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.http.pacing import THROTTLED_BASE
from apiaudit.http.probes import PROBES, BudgetExhausted
from apiaudit.redact import redact_text

MAX_SLEEP_S = 30.0
BASE_RETRIES = 2  # a base GET refused by a limiter is asked again at most this often (paced by the client)
TIMED_ALONE = frozenset({"validation"})  # probes of an endpoint run before the others, not beside them
LAST_PHASE = frozenset({"ratelimit"})  # probes run after all the others, in the "burst" phase


class EndpointSession:
    """The ProbeSession handed to probes for one endpoint."""

    def __init__(self, client: ScanClient, evidence: ScanEvidence, endpoint: Endpoint,
                 options: Mapping[str, Any], once_keys: set[str]) -> None:
        self.client, self.evidence, self.endpoint = client, evidence, endpoint
        self.options = options
        self._once = once_keys

    def base(self, endpoint: Endpoint) -> Exchange | None:
        return endpoint.base()

    async def fetch(self, url: str, *, purpose: str, headers: Mapping[str, str] | None = None,
                    method: str = "GET", extra: bool = False) -> Exchange:
        sent = {**self.endpoint.headers, **(headers or {})}
        ex = await self.client.fetch(url, purpose=purpose, headers=sent, method=method)
        (self.evidence.extra if extra else self.endpoint.exchanges).append(ex)
        return ex

    def once(self, key: str) -> bool:
        if key in self._once:
            return False
        self._once.add(key)
        return True

    def remaining(self) -> int:
        return self.client.remaining()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(self.client.cap(min(seconds, MAX_SLEEP_S)))


def probe_modules(errors: list[dict[str, str]]) -> list[tuple[str, Any]]:
    """The PROBES modules; one that fails to import is reported and left out, the rest still run."""
    out = []
    for name in PROBES:
        try:
            out.append((name, importlib.import_module(f"apiaudit.http.probes.{name}")))
        except Exception as exc:
            errors.append({"where": f"probe {name}", "message": f"cannot load: {type(exc).__name__}: {exc}"})
    return out


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


async def base_gets(client: ScanClient, evidence: ScanEvidence, endpoints: list[Endpoint]) -> None:
    async def one(ep: Endpoint) -> None:
        try:
            ep.exchanges.append(await client.fetch(ep.url, purpose="base", headers=ep.headers))
        except BudgetExhausted as exc:
            evidence.skipped.append({"url": ep.url, "purpose": "base", "reason": str(exc)})

    await asyncio.gather(*(one(ep) for ep in endpoints))
    # A base GET that may have met the limiter (429, or nginx limit_req's bare 503, on a host that answered
    # other base GETs) is asked once more, one at a time, after the pacer's back-off; the first answer
    # stays as evidence (apiaudit.http.pacing.limiter_answers tells a limiter from an outage by it).
    answered = {_host(ep.url) for ep in endpoints if (b := ep.base()) is not None and b.status and b.status < 500}
    for ep in endpoints:
        for _ in range(BASE_RETRIES):
            first = ep.base()
            if first is None or first.status not in (429, 503) or _host(ep.url) not in answered:
                break
            first.purpose = THROTTLED_BASE
            await one(ep)
            if ep.base() is None:  # not asked again (host backed off, budget): the refusal is the base
                first.purpose = "base"


async def run_probes(client: ScanClient, evidence: ScanEvidence, endpoints: list[Endpoint],
                     options: Mapping[str, Any], on_done: Callable[[Endpoint], None] | None = None) -> None:
    """Every probe, in PROBES order per endpoint; endpoints concurrently (the client limits per host)."""
    modules = probe_modules(evidence.errors)
    once_keys: set[str] = set()
    # The limit-seeking burst is a phase of its own, after every other probe: a 429 it provokes must
    # not cut another endpoint's probes short (apiaudit.http.pacing).
    last = [(n, m) for n, m in modules if n in LAST_PHASE]
    modules = [(n, m) for n, m in modules if n not in LAST_PHASE]

    async def run(session: EndpointSession, ep: Endpoint, name: str, module: Any) -> None:
        try:
            await module.probe(session, ep)
        except (DeadlineReached, BudgetExhausted) as exc:
            evidence.skipped.append({"url": ep.url, "purpose": name, "reason": str(exc)})
        except Exception as exc:  # a broken probe must not sink the scan
            evidence.errors.append({"where": f"probe {name} on {redact_text(ep.url)}",
                                    "message": redact_text(f"{type(exc).__name__}: {exc}")})

    async def one(ep: Endpoint, modules: list[tuple[str, Any]] = modules) -> None:
        # The probes of one endpoint run concurrently (none reads another's exchanges; the client's
        # per-host limit bounds what is in flight): a 1 s endpoint costs ~1 s per round, not per probe.
        session = EndpointSession(client, evidence, ep, options, once_keys)
        for name, module in modules:  # timed against the plain 200 (304-slow): nothing else in flight
            if name in TIMED_ALONE:
                await run(session, ep, name, module)
        await asyncio.gather(*(run(session, ep, name, module) for name, module in modules
                               if name not in TIMED_ALONE))
        if on_done is not None and modules is not last:
            on_done(ep)

    await client.new_phase("probes")
    await asyncio.gather(*(one(ep) for ep in endpoints))
    if last:
        await client.new_phase("burst")
        await asyncio.gather(*(one(ep, last) for ep in endpoints))
