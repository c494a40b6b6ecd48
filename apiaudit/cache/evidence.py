"""Evidence of a cache audit: plain data the collectors produce and the pure checks read.

Nothing here does IO. Key names are kept only in a display form (prefix plus a shortened id) so that
session tokens and similar secrets embedded in keys never reach a report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["CacheEvidence", "KeySample", "RelatedEvidence", "display_key", "key_prefix"]

NO_PREFIX = "(no prefix)"
_SEPARATORS = (":", "|", "/", "#")


@dataclass(frozen=True)
class KeySample:
    """One sampled key. ``ttl_s`` is the *remaining* time to live; ``None`` means no expiry at all."""

    key: str  # display form, see display_key()
    prefix: str
    type: str
    ttl_s: float | None
    size_bytes: int | None = None
    freq: int | None = None  # Redis LFU counter (OBJECT FREQ), only under an LFU policy


@dataclass
class RelatedEvidence:
    """Extracts of other apiaudit reports given with ``--with-report`` (combined findings)."""

    slow_urls: dict[str, dict[str, Any]] = field(default_factory=dict)  # url -> evidence of a latency finding
    uncacheable_urls: dict[str, dict[str, Any]] = field(default_factory=dict)  # url -> HTTP caching finding
    workload: list[dict[str, Any]] = field(default_factory=list)  # db report's workload rows
    sources: list[str] = field(default_factory=list)


@dataclass
class CacheEvidence:
    """What one cache server told us. ``None`` means "not known" (not permitted or not reported)."""

    server: str  # URL without credentials
    engine: str  # "redis" | "memcached"
    version: str = ""
    uptime_s: int | None = None
    hits: int | None = None
    misses: int | None = None
    evicted_keys: int | None = None
    expired_keys: int | None = None
    used_memory: int | None = None
    maxmemory: int | None = None  # 0 = no limit
    policy: str | None = None  # Redis maxmemory-policy; Memcached "lru" or "noeviction" (-M)
    fragmentation_ratio: float | None = None
    fragmentation_bytes: int | None = None
    connected_clients: int | None = None
    maxclients: int | None = None
    rejected_connections: int | None = None
    blocked_clients: int | None = None
    total_keys: int | None = None  # keys in the audited database (DBSIZE / curr_items)
    keys_with_expiry: int | None = None  # Redis INFO keyspace "expires"
    keys: list[KeySample] = field(default_factory=list)
    sample_complete: bool = False  # the scan saw every key
    ttl_visible: bool = True  # False: keys could not be listed (Memcached without metadump, ACL)
    sizes_visible: bool = True
    lfu: bool = False
    audit_lookups: int = 0  # keyspace lookups the sampling itself added (counted as hits by Redis)
    notices: list[str] = field(default_factory=list)
    related: RelatedEvidence = field(default_factory=RelatedEvidence)

    @property
    def lookups(self) -> int | None:
        if self.hits is None or self.misses is None:
            return None
        return self.hits + self.misses

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def available(self, req: Any) -> bool | str:
        """The evidence contract (apiaudit.requirements): True, or why ``req`` was not measured."""
        from apiaudit.cache.availability import available

        return available(self, req)


def key_prefix(key: str) -> str:
    """Group keys by their leading name segments: ``user:42`` and ``cache:user:42:v2`` -> ``user:``,
    ``cache:user:``. Segments stop at the first one that looks like an id (has a digit or is long)."""
    sep = next((s for s in _SEPARATORS if s in key), None)
    if sep is None:
        stripped = key.rstrip("0123456789")
        return f"{stripped}*" if stripped and stripped != key else NO_PREFIX
    parts = key.split(sep)[:-1]
    kept: list[str] = []
    for part in parts[:2]:
        if not part or any(c.isdigit() for c in part) or len(part) > 24:
            break
        kept.append(part)
    return sep.join(kept) + sep if kept else NO_PREFIX


def display_key(key: str) -> str:
    """A key shortened for reports: its prefix kept, a long remainder (maybe a token) cut."""
    prefix = key_prefix(key)
    base = "" if prefix == NO_PREFIX else prefix.rstrip("*")
    rest = key[len(base):] if key.startswith(base) else key
    if len(rest) > 16:
        rest = rest[:6] + "…"
    return base + rest
