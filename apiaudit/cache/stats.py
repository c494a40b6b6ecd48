"""Pure figures derived from cache evidence: per-prefix TTL statistics and the guide's TTL bands.

Shared by the checks and by ``measurements["cache"]`` so the HTML report charts the same numbers
the findings quote.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any

from apiaudit.cache.evidence import CacheEvidence, KeySample

# The guide's "Caching Strategies" table (GUIDE.md): short 1-5 min, medium 10-30 min, long 1-24 h.
BANDS: dict[str, tuple[float, float]] = {
    "short": (60.0, 300.0),
    "medium": (600.0, 1800.0),
    "long": (3600.0, 86400.0),
}
# Histogram buckets of remaining TTLs (upper bounds in seconds), charted per prefix.
BUCKETS: tuple[tuple[str, float], ...] = (
    ("<1m", 60), ("1-5m", 300), ("5-10m", 600), ("10-30m", 1800), ("30-60m", 3600), ("1-24h", 86400),
    (">24h", float("inf")),
)


@dataclass(frozen=True)
class PrefixStats:
    prefix: str
    keys: int
    no_expiry: int
    ttl_min_s: float | None
    ttl_median_s: float | None
    ttl_max_s: float | None
    histogram: dict[str, int]
    bytes_total: int
    bytes_max: int

    @property
    def no_expiry_pct(self) -> float:
        return round(100.0 * self.no_expiry / self.keys, 1) if self.keys else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix, "keys": self.keys, "no_expiry": self.no_expiry,
            "no_expiry_pct": self.no_expiry_pct, "ttl_min_s": self.ttl_min_s,
            "ttl_median_s": self.ttl_median_s,
            "ttl_max_s": self.ttl_max_s, "histogram": dict(self.histogram), "bytes_total": self.bytes_total,
            "bytes_max": self.bytes_max,
        }


def bucket_of(ttl_s: float) -> str:
    return next(name for name, upper in BUCKETS if ttl_s < upper)


def band_of(ttl_s: float) -> str:
    """Name the guide band a TTL falls in; TTLs between bands are named after the gap."""
    if ttl_s < BANDS["short"][0]:
        return "under 1 min"
    for name, (_low, high) in BANDS.items():
        if ttl_s <= high:
            return name if ttl_s >= BANDS[name][0] else f"between {_previous(name)} and {name}"
    return "over 24 h"


def _previous(name: str) -> str:
    names = list(BANDS)
    return names[names.index(name) - 1]


def by_prefix(keys: list[KeySample]) -> dict[str, list[KeySample]]:
    groups: dict[str, list[KeySample]] = {}
    for k in keys:
        groups.setdefault(k.prefix, []).append(k)
    return dict(sorted(groups.items()))


def prefix_stats(prefix: str, keys: list[KeySample]) -> PrefixStats:
    ttls = sorted(k.ttl_s for k in keys if k.ttl_s is not None)
    hist = {name: 0 for name, _ in BUCKETS}
    for t in ttls:
        hist[bucket_of(t)] += 1
    sizes = [k.size_bytes for k in keys if k.size_bytes is not None]
    return PrefixStats(
        prefix=prefix, keys=len(keys), no_expiry=sum(1 for k in keys if k.ttl_s is None),
        ttl_min_s=_round(ttls[0]) if ttls else None, ttl_median_s=_round(median(ttls)) if ttls else None,
        ttl_max_s=_round(ttls[-1]) if ttls else None, histogram=hist, bytes_total=sum(sizes),
        bytes_max=max(sizes, default=0),
    )


def all_prefix_stats(ev: CacheEvidence) -> list[PrefixStats]:
    return [prefix_stats(p, ks) for p, ks in by_prefix(ev.keys).items()]


def hit_rate_pct(ev: CacheEvidence) -> float | None:
    lookups = ev.lookups
    if not lookups or ev.hits is None:
        return None
    return round(100.0 * ev.hits / lookups, 2)


def memory_pct(ev: CacheEvidence) -> float | None:
    if not ev.maxmemory or ev.used_memory is None:
        return None
    return round(100.0 * ev.used_memory / ev.maxmemory, 1)


def measurements(ev: CacheEvidence) -> dict[str, Any]:
    """The figures the HTML report charts for one server (renderers never recompute)."""
    return {
        "server": ev.server, "engine": ev.engine, "version": ev.version, "uptime_s": ev.uptime_s,
        "hit_rate_pct": hit_rate_pct(ev), "hits": ev.hits, "misses": ev.misses,
        "memory": {
            "used_bytes": ev.used_memory, "max_bytes": ev.maxmemory, "used_pct": memory_pct(ev),
            "policy": ev.policy, "fragmentation_ratio": ev.fragmentation_ratio,
            "evicted_keys": ev.evicted_keys, "expired_keys": ev.expired_keys,
        },
        "connections": {
            "connected": ev.connected_clients, "max": ev.maxclients, "rejected": ev.rejected_connections,
            "blocked": ev.blocked_clients,
        },
        "audit_lookups": ev.audit_lookups,
        "keys": {"total": ev.total_keys, "with_expiry": ev.keys_with_expiry, "sampled": len(ev.keys),
                 "sample_complete": ev.sample_complete},
        "ttl_buckets": [name for name, _ in BUCKETS],
        "prefixes": [s.to_dict() for s in all_prefix_stats(ev)],
    }


def _round(value: float) -> float:
    return round(value, 1)
