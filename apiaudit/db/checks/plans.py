"""Missing indexes found in the plans of the top workload queries (checklist: database.query_plans).

A HypoPG-verified candidate (the plan used it and the cost fell by >= db_min_cost_drop_pct) is a
``db.plan.missing-index``; without HypoPG the candidate is reported as ``db.plan.index-candidate``
(lower confidence), unless pg_stats says its leading column is too unselective to help. Candidates
HypoPG rejected are not reported. Ranked by calls x cost saved, one finding per index.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.db.evidence import DbEvidence, PlanResult, Row
from apiaudit.model import Finding
from apiaudit.requirements import Req


def _issue_text(result: PlanResult, table: str) -> str:
    for issue in result.issues:
        if issue["kind"] == "seq_scan_filter" and issue["table"] == table:
            return f"Seq Scan with Filter {issue['filter']}"
    return "Sort under a Limit"


def _selectivity(ev: DbEvidence, c: Row, rows: int) -> tuple[str, float | None]:
    nd = (ev.column_stats or {}).get((c["schema"], c["table"], c["columns"][0]))
    if nd is None:
        return "no pg_stats for the leading column", None
    distinct = nd if nd >= 0 else -nd * max(rows, 1)
    return f"about {distinct:.0f} distinct values in {c['columns'][0]}", distinct


def _vars(result: PlanResult, c: Row) -> dict[str, Any]:
    return {
        "fingerprint": result.fingerprint,
        "calls": result.calls,
        "columns_text": ", ".join(c["columns"]),
        "create_sql": c["sql"],
        "schema": c["schema"],
        "table": c["table"],
    }


def _verified(result: PlanResult, c: Row) -> tuple[float, Finding]:
    """HypoPG proved it: ranked by calls x estimated cost saved per call."""
    saved = float(c["cost_before"]) - float(c["cost_after"])
    v = {
        **_vars(result, c),
        "cost_before": c["cost_before"],
        "cost_after": c["cost_after"],
        "drop_pct": round(100 * float(c["cost_drop"])),
    }
    evidence = {
        "cost_before": c["cost_before"],
        "cost_after": c["cost_after"],
        "calls": result.calls,
        "query": result.fingerprint,
        "sample": result.sample[:500],
    }
    return result.calls * saved, Finding("db.plan.missing-index", _loc(c), v, evidence)


def _unverified(ev: DbEvidence, result: PlanResult, c: Row, low: float) -> tuple[float, Finding] | None:
    """No HypoPG: keep the candidate unless pg_stats says its leading column is too unselective."""
    text, distinct = _selectivity(ev, c, int(c.get("rows") or 0))
    if distinct is not None and distinct <= low and not c.get("where"):
        return None
    v = {**_vars(result, c), "plan_issue": _issue_text(result, c["table"]), "selectivity": text}
    evidence = {
        "calls": result.calls,
        "cost": result.cost,
        "query": result.fingerprint,
        "confidence": "low",
        "sample": result.sample[:500],
    }
    return result.calls * float(result.cost or 0), Finding("db.plan.index-candidate", _loc(c), v, evidence)


def _loc(c: Row) -> dict[str, Any]:
    return {"schema": c["schema"], "table": c["table"], "columns": list(c["columns"])}


@check("db.plan.missing-index", "db.plan.index-candidate", kind="db", requires=(Req.CATALOG_SERVER,))
def check_plan_indexes(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if not ev.connected:
        yield NotApplicable(ev.unavailable("plans"))
        return
    if not ev.plans:
        yield NotApplicable(
            "no workload queries to EXPLAIN (pg_stat_statements empty or unreadable, no --log)"
        )
        return
    if not any(p.plan is not None for p in ev.plans):
        yield NotApplicable("none of the top workload queries could be EXPLAINed")
        return
    verified: list[tuple[float, Finding]] = []
    unverified: list[tuple[float, Finding]] = []
    low = ctx.threshold("db_low_cardinality_distinct")
    for result in ev.plans:
        for c in result.candidates:
            if c.get("verified"):
                verified.append(_verified(result, c))
            elif c.get("verified") is None:  # False: HypoPG showed no benefit, nothing to report
                got = _unverified(ev, result, c, low)
                if got:
                    unverified.append(got)
    for _, f in sorted(verified, key=lambda x: -x[0]) + sorted(unverified, key=lambda x: -x[0]):
        yield f
