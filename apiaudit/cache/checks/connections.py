"""Client connections to the cache server (INFO clients / stats)."""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.cache.evidence import CacheEvidence
from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.model import Finding
from apiaudit.requirements import Req

RULES = ("cache.connections.near-limit", "cache.connections.rejected", "cache.connections.blocked")


@check(*RULES, kind="cache", requires=(Req.CACHE_STATS,))
def check_connections(ev: CacheEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.connected_clients is None:
        yield NotApplicable(f"{ev.server}: client counters not visible")
        return
    loc = {"server": ev.server}
    figures = {"connected_clients": ev.connected_clients, "maxclients": ev.maxclients,
               "rejected_connections": ev.rejected_connections, "blocked_clients": ev.blocked_clients}
    if ev.rejected_connections:
        yield Finding("cache.connections.rejected", loc,
                      vars={"rejected": ev.rejected_connections, "max": ev.maxclients}, evidence=figures)
    if ev.maxclients:
        pct = round(100.0 * ev.connected_clients / ev.maxclients, 1)
        if pct >= ctx.threshold("cache_connections_warn_pct"):
            yield Finding("cache.connections.near-limit", loc,
                          vars={"connected": ev.connected_clients, "max": ev.maxclients, "pct": f"{pct:g}"},
                          evidence={**figures, "used_pct": pct})
    if ev.blocked_clients:
        yield Finding("cache.connections.blocked", loc, vars={"blocked": ev.blocked_clients},
                      evidence=figures)
