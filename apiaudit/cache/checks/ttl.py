"""TTL strategy per key prefix (the guide's "Cache Invalidation" and "Caching Strategies" table).

Only *remaining* TTLs can be read. The largest remaining TTL of a prefix is a lower bound of the TTL
the application sets, and with keys written at random times it is close to it; bands are judged on it.
"""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.cache.evidence import NO_PREFIX, CacheEvidence
from apiaudit.cache.stats import BANDS, PrefixStats, all_prefix_stats, band_of
from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.model import Finding
from apiaudit.requirements import Req

# Name hints -> the band the guide's table suggests ("User profiles, dashboards" short; "Product
# listings, blog posts" medium; "Static content, reference data" long). Hints, not facts: info only.
NAME_HINTS: dict[str, tuple[str, ...]] = {
    "short": ("user", "profile", "dashboard", "session", "cart", "feed", "stats"),
    "medium": ("product", "listing", "catalog", "post", "blog", "article", "page", "search"),
    "long": ("static", "config", "settings", "reference", "ref", "country", "countries", "currency",
             "lookup", "i18n", "translation"),
}


def _judgeable(ev: CacheEvidence, ctx: CheckContext) -> list[PrefixStats] | NotApplicable:
    if not ev.ttl_visible:
        return NotApplicable(f"{ev.server}: keys could not be listed, so the TTL strategy cannot be judged")
    min_keys = ctx.threshold("cache_prefix_min_keys")
    stats = [s for s in all_prefix_stats(ev) if s.keys >= min_keys]
    if not stats:
        return NotApplicable(f"{ev.server}: no key prefix with at least {min_keys:g} sampled keys")
    return stats


def _loc(ev: CacheEvidence, prefix: str) -> dict[str, str]:
    return {"server": ev.server, "key_prefix": prefix}


@check("cache.ttl.no-expiry", kind="cache", requires=(Req.CACHE_KEYS,))
def check_no_expiry(ev: CacheEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    stats = _judgeable(ev, ctx)
    if isinstance(stats, NotApplicable):
        yield stats
        return
    limit = ctx.threshold("cache_no_expiry_max_pct")
    for s in stats:
        if s.no_expiry_pct > limit:
            yield Finding(
                "cache.ttl.no-expiry", _loc(ev, s.prefix),
                vars={"share": f"{s.no_expiry_pct:g}", "no_expiry": s.no_expiry, "sampled": s.keys,
                      "limit": f"{limit:g}",
                      "example_prefix": "item:" if s.prefix == NO_PREFIX else s.prefix.rstrip("*")},
                evidence={"sampled": s.keys, "no_expiry": s.no_expiry, "no_expiry_pct": s.no_expiry_pct,
                          "sample_complete": ev.sample_complete},
            )


@check("cache.ttl.over-long", kind="cache", requires=(Req.CACHE_KEYS,))
def check_over_long(ev: CacheEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    stats = _judgeable(ev, ctx)
    if isinstance(stats, NotApplicable):
        yield stats
        return
    limit = ctx.threshold("cache_ttl_max_s")
    for s in stats:
        if s.ttl_max_s is not None and s.ttl_max_s > limit:
            over = sum(1 for k in ev.keys if k.prefix == s.prefix and k.ttl_s is not None and k.ttl_s > limit)
            yield Finding(
                "cache.ttl.over-long", _loc(ev, s.prefix),
                vars={"ttl_h": f"{s.ttl_max_s / 3600:.1f}", "limit_h": f"{limit / 3600:g}"},
                evidence={"ttl_max_s": s.ttl_max_s, "ttl_median_s": s.ttl_median_s, "keys_over_24h": over,
                          "sampled": s.keys},
            )


def band_range(band: str) -> str:
    low, high = BANDS[band]
    return f"{low / 60:g}-{high / 60:g} min" if high <= 1800 else f"{low / 3600:g}-{high / 3600:g} h"


def hinted_band(prefix: str) -> str | None:
    words = [w for w in prefix.lower().replace("-", "_").rstrip(":|/#*").replace(":", "_").split("_") if w]
    for band, hints in NAME_HINTS.items():
        if any(w in hints or w.rstrip("s") in hints for w in words):
            return band
    return None


@check("cache.ttl.band-mismatch", kind="cache", requires=(Req.CACHE_KEYS,))
def check_band_mismatch(ev: CacheEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    stats = _judgeable(ev, ctx)
    if isinstance(stats, NotApplicable):
        yield stats
        return
    for s in stats:
        hint = hinted_band(s.prefix)
        if hint is None or s.ttl_max_s is None:
            continue
        band = band_of(s.ttl_max_s)
        if band != hint:
            yield Finding(
                "cache.ttl.band-mismatch", _loc(ev, s.prefix),
                vars={"hint": hint, "band": band, "ttl_s": f"{s.ttl_max_s:g}", "range": band_range(hint)},
                evidence={"ttl_max_s": s.ttl_max_s, "ttl_median_s": s.ttl_median_s, "sampled": s.keys},
            )
