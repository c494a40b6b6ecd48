"""Evictions and memory: the application cache must be bounded and allowed to evict.

Redis documents ``noeviction`` as "return errors when the memory limit is reached" and recommends an
``allkeys-*`` policy when Redis is used as a cache (redis.io "Key eviction"); with ``maxmemory 0``
(the default) memory grows until the OS kills the process.
"""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.cache.checks.hitrate import age_text
from apiaudit.cache.evidence import CacheEvidence
from apiaudit.cache.stats import memory_pct
from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.model import Finding
from apiaudit.requirements import Req

MIB = 1024 * 1024


def _loc(ev: CacheEvidence) -> dict[str, str]:
    return {"server": ev.server}


@check("cache.memory.no-limit", "cache.memory.noeviction", kind="cache", requires=(Req.CACHE_CONFIG,))
def check_limit_and_policy(ev: CacheEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.maxmemory is None or ev.policy is None:
        yield NotApplicable(f"{ev.server}: memory limit and eviction policy not visible")
        return
    figures = {"used_memory": ev.used_memory, "maxmemory": ev.maxmemory, "policy": ev.policy}
    if ev.maxmemory == 0:
        yield Finding("cache.memory.no-limit", _loc(ev),
                      vars={"used_mib": f"{(ev.used_memory or 0) / MIB:.1f}", "policy": ev.policy},
                      evidence=figures)
    elif ev.policy == "noeviction":
        pct = memory_pct(ev)
        yield Finding("cache.memory.noeviction", _loc(ev),
                      vars={"used_pct": f"{pct:g}" if pct is not None else "?",
                            "max_mib": f"{ev.maxmemory / MIB:.1f}"},
                      evidence={**figures, "used_pct": pct})


@check("cache.memory.volatile-no-ttl", kind="cache", requires=(Req.CACHE_CONFIG, Req.CACHE_STATS))
def check_volatile_policy(ev: CacheEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    """volatile-* policies evict only keys with an expiry (Redis "Key eviction"); INFO keyspace counts."""
    if not (ev.policy or "").startswith("volatile-") or not ev.maxmemory:
        return
    if not ev.total_keys or ev.keys_with_expiry is None:
        return
    without = ev.total_keys - ev.keys_with_expiry
    pct = round(100.0 * without / ev.total_keys, 1)
    if pct > ctx.threshold("cache_volatile_no_ttl_max_pct"):
        yield Finding(
            "cache.memory.volatile-no-ttl", _loc(ev),
            vars={"policy": ev.policy, "pct": f"{pct:g}", "without": without, "total": ev.total_keys},
            evidence={"keys": ev.total_keys, "keys_with_expiry": ev.keys_with_expiry, "no_expiry_pct": pct,
                      "policy": ev.policy, "used_pct": memory_pct(ev)},
        )


@check("cache.memory.evictions", kind="cache", requires=(Req.CACHE_STATS,))
def check_evictions(ev: CacheEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.evicted_keys is None:
        yield NotApplicable(f"{ev.server}: eviction counters not visible")
        return
    if ev.evicted_keys <= ctx.threshold("cache_evicted_keys_max"):
        return
    per_hour = round(ev.evicted_keys * 3600 / ev.uptime_s, 1) if ev.uptime_s else None
    yield Finding(
        "cache.memory.evictions", _loc(ev),
        vars={"evicted": ev.evicted_keys, "age": age_text(ev.uptime_s), "policy": ev.policy or "?",
              "used_pct": f"{memory_pct(ev):g}" if memory_pct(ev) is not None else "?"},
        evidence={"evicted_keys": ev.evicted_keys, "expired_keys": ev.expired_keys,
                  "evicted_per_hour": per_hour,
                  "used_memory": ev.used_memory, "maxmemory": ev.maxmemory, "policy": ev.policy},
    )


@check("cache.memory.fragmentation", kind="cache", requires=(Req.CACHE_STATS,))
def check_fragmentation(ev: CacheEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.fragmentation_ratio is None or ev.fragmentation_bytes is None:
        return  # Memcached's slab allocator reports no such ratio; nothing to add
    # A high ratio on a nearly empty instance is noise (RSS baseline); require wasted bytes too.
    if (ev.fragmentation_ratio > ctx.threshold("cache_fragmentation_max_ratio")
            and ev.fragmentation_bytes > ctx.threshold("cache_fragmentation_min_mib") * MIB):
        yield Finding(
            "cache.memory.fragmentation", _loc(ev),
            vars={"ratio": f"{ev.fragmentation_ratio:g}",
                  "wasted_mib": f"{ev.fragmentation_bytes / MIB:.1f}"},
            evidence={"mem_fragmentation_ratio": ev.fragmentation_ratio,
                      "mem_fragmentation_bytes": ev.fragmentation_bytes, "used_memory": ev.used_memory},
        )
