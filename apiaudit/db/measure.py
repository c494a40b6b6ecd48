"""Figures the HTML report charts, computed once here (renderers never recompute)."""

from __future__ import annotations

from typing import Any

from apiaudit.db.checks.cachehit import hit_rates, read_share
from apiaudit.db.evidence import DbEvidence


def measurements(ev: DbEvidence) -> dict[str, Any]:
    out: dict[str, Any] = {
        "top_queries": [
            {
                "fingerprint": q.fingerprint,
                "sample": q.sample[:300],
                "calls": q.calls,
                "total_ms": None if q.total_ms is None else round(q.total_ms, 3),
            "mean_ms": None if q.mean_ms is None else round(q.mean_ms, 4),
                "source": q.source,
            }
            for q in ev.workload[:20]
        ],
    }
    if ev.notices:
        out["db_notices"] = list(ev.notices)
    if ev.server is not None:
        out["cache_hit_rate"] = hit_rates(ev.server)
        out["replication"] = {
            "in_recovery": bool(ev.server.get("in_recovery")),
            "replicas": int(ev.server.get("replicas") or 0),
        }
        mix = read_share(ev.statements, ev.tables)
        if mix:
            out["read_write_mix"] = {"read_pct": round(mix[0], 1), "volume": mix[1], "basis": mix[2]}
    if ev.activity is not None:
        by_state: dict[str, int] = {}
        for a in ev.activity:
            by_state[a["state"]] = by_state.get(a["state"], 0) + int(a["connections"])
        out["connections"] = {"by_state": by_state, "total": sum(by_state.values())}
    if ev.plans is not None:
        out["plans"] = [_plan_summary(p) for p in ev.plans]
    return out


def _plan_summary(p: Any) -> dict[str, Any]:
    return {
        "fingerprint": p.fingerprint,
        "cost": p.cost,
        "refused": p.refused,
        "error": p.error,
        "issues": [i["kind"] for i in p.issues],
        "candidates": [
            {
                k: c.get(k)
                for k in ("schema", "table", "columns", "where", "kind", "verified", "best", "cost_before",
                          "cost_after")
            }
            for c in p.candidates
        ],
        "explained_with": getattr(p, "explained_with", "generic plan"),
        **({"skipped": p.skipped} if getattr(p, "skipped", None) else {}),
        **({"analyzed": p.analyzed} if p.analyzed else {}),
    }
