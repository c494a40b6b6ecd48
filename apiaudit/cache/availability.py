"""What a cache audit could measure: ``CacheEvidence.available(req)`` for the evidence contract
(apiaudit.requirements). A Redis user refused INFO, CONFIG GET or SCAN by an ACL leaves the matching
evidence unknown (``None`` / ``ttl_visible = False``); the checks that need it do not judge."""

from __future__ import annotations

from typing import Any

from apiaudit.requirements import Availability, Req

CACHE_REQS = (Req.CACHE_STATS, Req.CACHE_CONFIG, Req.CACHE_KEYS)
# Figures only INFO / memcached "stats" give: any of them known means the statistics were readable.
STATS_FIELDS = ("hits", "misses", "uptime_s", "used_memory", "connected_clients", "evicted_keys",
                "fragmentation_ratio", "rejected_connections", "total_keys")


def available(ev: Any, req: Req) -> Availability:
    if req is Req.CACHE_STATS:
        ok = any(getattr(ev, name) is not None for name in STATS_FIELDS)
        return True if ok else _why(ev, "INFO", "server statistics (INFO stats) were not readable")
    if req is Req.CACHE_CONFIG:
        ok = ev.maxmemory is not None or ev.policy is not None
        return True if ok else _why(ev, "CONFIG", "memory limit and eviction policy were not readable")
    if req is Req.CACHE_KEYS:
        return True if ev.ttl_visible else _why(ev, "SCAN", "keys could not be listed, so the TTL strategy "
                                                            "cannot be judged")
    return f"{req.value} is not collected by a cache audit"


def _why(ev: Any, command: str, fallback: str) -> str:
    said = next((n for n in ev.notices if n.startswith(command)), None)
    return f"{ev.server}: {said or fallback}"


def nothing_readable(ev: Any) -> bool:
    """Statistics, configuration and keys all refused: nothing about this server can be judged."""
    return all(available(ev, req) is not True for req in CACHE_REQS)
