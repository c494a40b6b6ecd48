"""Combined evidence from other apiaudit reports given with ``apiaudit cache --with-report``.

* scan report: an endpoint that is slow (a monitoring.latency finding) *and* uncacheable at the HTTP
  layer (a caching.http_headers finding) while this cache's hit rate is below target -> one finding.
* db report: read statements the workload runs very often are named as cache-aside candidates (the
  guide's "Cache-Aside Pattern"). pg_stat_statements masks parameters, so "the same row many times"
  cannot be proven; the finding says so and is info only.
"""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.cache.evidence import CacheEvidence
from apiaudit.cache.stats import hit_rate_pct
from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.model import Finding
from apiaudit.requirements import Req

_READS = ("select", "with", "table", "values")


# Combined findings only report problems seen across reports: they never vouch for an item.
@check("cache.combined.slow-uncached", kind="cache", requires=(Req.CACHE_STATS,), findings_only=True)
def check_slow_uncached(ev: CacheEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    rel = ev.related
    both = sorted(set(rel.slow_urls) & set(rel.uncacheable_urls))
    rate = hit_rate_pct(ev)
    if not both or rate is None or rate >= ctx.threshold("cache_hit_rate_warn_pct"):
        return
    for url in both:
        slow, http = rel.slow_urls[url], rel.uncacheable_urls[url]
        yield Finding(
            "cache.combined.slow-uncached", {"url": url, "method": "GET"},
            vars={"hit_rate": f"{rate:g}", "server": ev.server, "slow_rule": slow.get("rule", "?"),
                  "http_rule": http.get("rule", "?")},
            evidence={"cache_server": ev.server, "hit_rate_pct": rate, "latency_finding": slow,
                      "http_caching_finding": http},
        )


def is_read(sample: str) -> bool:
    return sample.lstrip(" (\n\t").lower().startswith(_READS)


@check("cache.combined.cache-aside-candidate", kind="cache", findings_only=True)
def check_cache_aside(ev: CacheEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    rows = ev.related.workload
    if not rows:
        return
    min_calls = ctx.threshold("cache_aside_min_calls")
    total = sum(int(r.get("calls") or 0) for r in rows) or 1
    reads = [r for r in rows if is_read(str(r.get("sample", ""))) and int(r.get("calls") or 0) >= min_calls]
    reads.sort(key=lambda r: -int(r.get("calls") or 0))
    for row in reads[: int(ctx.threshold("cache_aside_max_findings"))]:
        calls = int(row.get("calls") or 0)
        yield Finding(
            "cache.combined.cache-aside-candidate",
            {"fingerprint": str(row.get("fingerprint", "")), "sample": str(row.get("sample", ""))},
            vars={"calls": calls, "share": f"{100.0 * calls / total:.1f}", "min_calls": f"{min_calls:g}"},
            evidence={k: row.get(k) for k in ("calls", "total_ms", "mean_ms", "rows", "source") if k in row},
        )
