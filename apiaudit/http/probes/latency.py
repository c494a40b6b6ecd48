"""Latency samples (checks: ``apiaudit.http.checks.latency``): ``--samples N`` plain GETs per endpoint
(``sample-1`` ... ``sample-N``), one after another so the scan never loads the API itself.
``--samples 0`` sends none; the checks then time the other probes' requests. When the repeats are
far faster than the first GET, one ``sample-cachebust`` GET (an unseen query parameter) tells an
application cache from a cold start."""

from __future__ import annotations

from apiaudit.http.checks.monitoring import CACHE_BUSTER, looks_cached
from apiaudit.http.checks.pagination import with_param
from apiaudit.http.evidence import Endpoint
from apiaudit.http.probes import ProbeSession

MAX_SAMPLES = 100  # bounded whatever the config says; the request budget bounds it too


async def probe(session: ProbeSession, endpoint: Endpoint) -> None:
    base = session.base(endpoint)
    if base is None or base.status is None:
        return  # unreachable: sampling would only repeat the transport error
    count = min(int(session.options.get("samples", 5) or 0), MAX_SAMPLES)
    for i in range(1, count + 1):
        await session.fetch(endpoint.url, purpose=f"sample-{i}")
    if looks_cached(endpoint):
        # Same warm connection, a key no cache has seen: slow again means the repeats were cache hits.
        await session.fetch(with_param(endpoint.url, CACHE_BUSTER, "1"), purpose="sample-cachebust")
