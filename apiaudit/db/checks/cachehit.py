"""Buffer cache hit rate (checklist: caching.hit_rate) from pg_statio_user_tables against the
guide's alerting thresholds (warn < 80 %, critical < 50 %), and the read/write mix against
replication status (checklist: scaling.read_replicas)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.db.evidence import DbEvidence
from apiaudit.db.workload import WorkloadQuery
from apiaudit.model import Finding
from apiaudit.requirements import Req


def hit_rates(server: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Buffer hits / (hits + reads) per scope, in %; ``rate`` is None before any block access."""
    out: dict[str, dict[str, Any]] = {}
    for scope, hit_key, read_key in (("tables", "heap_hit", "heap_read"), ("indexes", "idx_hit", "idx_read")):
        hits, reads = int(server.get(hit_key) or 0), int(server.get(read_key) or 0)
        total = hits + reads
        out[scope] = {"hits": hits, "reads": reads, "rate": round(100.0 * hits / total, 2) if total else None}
    return out


@check("db.cache.hit-rate-low", "db.cache.hit-rate-critical", kind="db", requires=(Req.CATALOG_SERVER,))
def check_hit_rate(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.server is None:
        yield NotApplicable(ev.unavailable("database statistics"))
        return
    warn, crit = ctx.threshold("cache_hit_rate_warn_pct"), ctx.threshold("cache_hit_rate_critical_pct")
    judged = False
    for scope, r in hit_rates(ev.server).items():
        if r["hits"] + r["reads"] < ctx.threshold("db_min_cache_blocks") or r["rate"] is None:
            continue
        judged = True
        rule = (
            "db.cache.hit-rate-critical" if r["rate"] < crit else "db.cache.hit-rate-low" if r["rate"] < warn else None
        )
        if rule:
            yield Finding(
                rule,
                {"target": ev.server.get("database"), "scope": scope},
                {
                    "rate": r["rate"],
                    "hits": int(r["hits"]),
                    "reads": int(r["reads"]),
                    "warn": warn,
                    "critical": crit,
                },
                dict(r),
            )
    if not judged:
        yield NotApplicable("too few buffer accesses since the statistics reset to judge the hit rate")


def read_share(
    statements: list[WorkloadQuery] | None, tables: list[dict[str, object]] | None
) -> tuple[float, int, str] | None:
    """(read %, volume, basis) from statement calls when known, else from table row counters."""
    if statements:
        reads = sum(q.calls for q in statements if q.sample.lstrip("( ").lower().startswith(("select", "with")))
        total = sum(q.calls for q in statements)
        if total:
            return 100.0 * reads / total, total, "statement calls (pg_stat_statements)"
    if tables:
        reads = sum(int(t["seq_tup_read"]) + int(t["idx_tup_fetch"]) for t in tables)  # type: ignore[call-overload]
        writes = sum(int(t["n_tup_ins"]) + int(t["n_tup_upd"]) + int(t["n_tup_del"]) for t in tables)  # type: ignore[call-overload]
        if reads + writes:
            return 100.0 * reads / (reads + writes), reads + writes, "row operations (pg_stat_user_tables)"
    return None


@check("db.replica.read-heavy-no-replica", kind="db", requires=(Req.CATALOG_SERVER,))
def check_read_replicas(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.server is None:
        yield NotApplicable(ev.unavailable("database statistics"))
        return
    if ev.server.get("in_recovery"):
        return  # the audit reads a standby: read replicas exist, the item passes
    mix = read_share(ev.statements, ev.tables)
    if mix is None or mix[1] < ctx.threshold("db_min_statements"):
        yield NotApplicable("too little activity to judge the read/write mix")
        return
    pct, volume, basis = mix
    if pct >= ctx.threshold("db_read_heavy_pct") and not int(ev.server.get("replicas") or 0):
        yield Finding(
            "db.replica.read-heavy-no-replica",
            {"target": ev.server.get("database"), "scope": "replication"},
            {"read_pct": round(pct, 1), "basis": basis},
            {"read_pct": round(pct, 1), "volume": volume, "replicas": 0},
        )
