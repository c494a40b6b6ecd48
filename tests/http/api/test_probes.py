"""The probes with the real scan session and client against the app of conftest.py: which requests
they make (purposes are the contract with the checks), the burst bounds, and Retry-After honoured."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from apiaudit.http.client import ClientSettings, ScanClient
from apiaudit.http.evidence import Endpoint, ScanEvidence
from apiaudit.http.probes import fields as fields_probe
from apiaudit.http.probes import pagination, ratelimit
from apiaudit.http.session import EndpointSession


async def _probe(
    url: str, module: Any, options: dict[str, Any], *, budget: int = 500, then: int = 0
) -> tuple[Endpoint, ScanEvidence]:
    ep = Endpoint(url)
    ev = ScanEvidence(endpoints=[ep])
    async with ScanClient(ClientSettings(max_requests=budget, http2=False)) as client:
        ep.exchanges.append(await client.fetch(url, purpose="base"))
        session = EndpointSession(client, ev, ep, options, set())
        await module.probe(session, ep)
        if then:  # a host that answered 429 is left alone for the rest of the phase
            await client.new_phase("after")
        for i in range(then):
            await session.fetch(url, purpose=f"after-{i}")
    return ep, ev


def test_pagination_probe_requests(api_limited: str) -> None:
    ep, _ = asyncio.run(_probe(api_limited + "/good/users", pagination, {}))
    purposes = [ex.purpose for ex in ep.exchanges]
    # one combined page-size request, then "limit" alone (honoured), then limit=1000, then two pages
    assert purposes == ["base", "page-small-all", "page-small-limit", "page-limit-limit", "page-2", "page-3"]
    assert ep.by_purpose("page-limit-limit").status == 400  # type: ignore[union-attr]
    assert "cursor=" in ep.by_purpose("page-2").url  # type: ignore[union-attr]


def test_pagination_probe_skips_non_collections(api_limited: str) -> None:
    ep, _ = asyncio.run(_probe(api_limited + "/good/bearer", pagination, {}))
    assert [ex.purpose for ex in ep.exchanges] == ["base"]


def test_fields_probe_stops_at_the_first_honoured_form(api_limited: str) -> None:
    ep, _ = asyncio.run(_probe(api_limited + "/good/users", fields_probe, {}))
    assert [ex.purpose for ex in ep.exchanges] == ["base", "fields-fields"]
    ep, _ = asyncio.run(_probe(api_limited + "/bad/nofields", fields_probe, {}))
    assert [ex.purpose for ex in ep.exchanges][1:] == [
        "fields-fields",
        "fields-jsonapi",
        "fields-select",
        "fields-odata",
    ]


def test_burst_stops_at_the_first_429_and_retry_after_is_honoured(api_limited: str) -> None:
    ep, _ = asyncio.run(
        _probe(api_limited + "/limited", ratelimit, {"burst": 60, "burst_seconds": 10}, then=1)
    )
    burst = sorted(ep.with_prefix("burst-"), key=lambda ex: int(ex.purpose.split("-")[1]))
    first_429 = next(i for i, ex in enumerate(burst, start=1) if ex.status == 429)
    # sent in batches of IN_FLIGHT: nothing after the batch that met the first 429
    assert len(burst) <= math.ceil(first_429 / ratelimit.IN_FLIGHT) * ratelimit.IN_FLIGHT < 60
    limited = next(ex for ex in burst if ex.status == 429)
    assert limited.header("retry-after") == "1"
    after = ep.by_purpose("after-0")
    assert after is not None
    # the next phase waited out Retry-After (1 s) before sending anything else
    assert after.started_ms >= limited.started_ms + limited.elapsed_ms + 1000 - 5


def test_burst_is_bounded_by_the_budget_and_opt_in(api_plain: str) -> None:
    ep, _ = asyncio.run(_probe(api_plain + "/good/bearer", ratelimit, {"burst": 400}, budget=15))
    assert len(ep.with_prefix("burst-")) == 14  # budget 15 minus the base GET
    ep, _ = asyncio.run(_probe(api_plain + "/good/bearer", ratelimit, {}))
    assert ep.with_prefix("burst-") == []
