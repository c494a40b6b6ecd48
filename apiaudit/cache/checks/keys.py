"""Big and hot keys among the sampled keys."""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.cache.evidence import CacheEvidence, KeySample
from apiaudit.cache.stats import by_prefix
from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.model import Finding
from apiaudit.requirements import Req

MIB = 1024 * 1024


@check("cache.key.big", kind="cache", requires=(Req.CACHE_KEYS,))
def check_big_keys(ev: CacheEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    """One finding per prefix. Without a big key, api.response_size stays for the API scan to judge."""
    limit = ctx.threshold("cache_big_key_bytes")
    found = False
    for prefix, keys in by_prefix(ev.keys).items():
        big = sorted((k for k in keys if (k.size_bytes or 0) > limit), key=lambda k: -(k.size_bytes or 0))
        if not big:
            continue
        found = True
        top = big[0]
        yield Finding(
            "cache.key.big", {"server": ev.server, "key_prefix": prefix},
            vars={"count": len(big), "key": top.key, "size_mib": f"{(top.size_bytes or 0) / MIB:.2f}",
                  "type": top.type, "limit_mib": f"{limit / MIB:g}"},
            evidence={"largest": [{"key": k.key, "type": k.type, "bytes": k.size_bytes} for k in big[:5]],
                      "count": len(big), "sampled_in_prefix": len(keys)},
        )
    if not found:
        why = "sizes not visible" if not ev.sizes_visible else f"no sampled value over {limit / MIB:g} MiB"
        yield NotApplicable(f"{ev.server}: {why}; response sizes are judged by the API scan")


def _hot(keys: list[KeySample], floor: float) -> list[KeySample]:
    return sorted((k for k in keys if k.freq is not None and k.freq >= floor), key=lambda k: -(k.freq or 0))


@check("cache.key.hot", kind="cache", requires=(Req.CACHE_KEYS,))
def check_hot_keys(ev: CacheEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if not ev.lfu:
        return  # OBJECT FREQ only works under an LFU maxmemory-policy
    floor = ctx.threshold("cache_hot_key_lfu")
    for prefix, keys in by_prefix(ev.keys).items():
        hot = _hot(keys, floor)
        if hot:
            yield Finding(
                "cache.key.hot", {"server": ev.server, "key_prefix": prefix},
                vars={"count": len(hot), "key": hot[0].key, "freq": hot[0].freq, "floor": f"{floor:g}"},
                evidence={"hottest": [{"key": k.key, "lfu": k.freq} for k in hot[:5]], "count": len(hot)},
            )
