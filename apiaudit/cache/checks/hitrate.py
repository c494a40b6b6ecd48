"""Hit rate against the guide's alert table: "Cache Hit Rate < 80 % warning, < 50 % critical"."""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.cache.evidence import CacheEvidence
from apiaudit.cache.stats import hit_rate_pct
from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.model import Finding
from apiaudit.requirements import Req

DEFAULT_MIN_LOOKUPS = 1000


def age_text(uptime_s: int | None) -> str:
    if uptime_s is None:
        return "an unknown time"
    if uptime_s < 3600:
        return f"{uptime_s // 60} min {uptime_s % 60} s"
    if uptime_s < 172800:
        return f"{uptime_s / 3600:.1f} h"
    return f"{uptime_s / 86400:.1f} days"


@check("cache.hitrate.low", "cache.hitrate.critical", kind="cache", requires=(Req.CACHE_STATS,))
def check_hit_rate(ev: CacheEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    lookups = ev.lookups
    if lookups is None:
        yield NotApplicable(f"{ev.server}: the server did not report hit/miss counters")
        return
    min_lookups = int(ctx.options.get("min_lookups", DEFAULT_MIN_LOOKUPS))
    age = age_text(ev.uptime_s)
    if lookups < min_lookups:
        # Too few lookups say nothing about the steady state (e.g. right after a restart).
        yield NotApplicable(f"{ev.server}: only {lookups} lookups in {age} since the counters started; "
                            f"at least {min_lookups} are needed to judge the hit rate")
        return
    rate = hit_rate_pct(ev) or 0.0
    warn, crit = ctx.threshold("cache_hit_rate_warn_pct"), ctx.threshold("cache_hit_rate_critical_pct")
    if rate >= warn:
        return
    rule = "cache.hitrate.critical" if rate < crit else "cache.hitrate.low"
    yield Finding(
        rule, {"server": ev.server},
        vars={"hit_rate": f"{rate:g}", "warn": f"{warn:g}", "critical": f"{crit:g}", "age": age,
              "hits": ev.hits, "misses": ev.misses},
        evidence={"hit_rate_pct": rate, "hits": ev.hits, "misses": ev.misses, "lookups": lookups,
                  "counters_age_s": ev.uptime_s},
    )
