"""Missing indexes found in the plans of the top workload queries (checklist: database.query_plans).

A HypoPG-verified candidate (the plan used it and the cost fell by >= db_min_cost_drop_pct; the
cheapest per table) is a ``db.plan.missing-index`` when the time it saves is large — per call (mean
time x cost cut >= db_index_high_call_ms) and in all (x calls >= db_index_high_total_ms) — and a
``db.plan.index-small-gain`` (low) otherwise or when no time was measured. Without HypoPG the
candidate is a ``db.plan.index-candidate`` (lower confidence, labelled unverified), unless pg_stats
says its leading column is too unselective to help. Candidates HypoPG rejected are not reported.
Ranked by calls x time saved (calls x cost saved where no time is known), one finding per index.
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


def _verified(
    result: PlanResult, c: Row, mean_ms: float | None, ctx: CheckContext
) -> tuple[tuple[int, float], Finding]:
    """HypoPG proved it: time saved = mean time x cost cut; ranked by calls x time saved."""
    drop = float(c["cost_drop"])
    saved_call = None if mean_ms is None else mean_ms * drop
    saved_total = None if saved_call is None else saved_call * result.calls
    high = (
        saved_call is not None and saved_total is not None
        and saved_call >= ctx.threshold("db_index_high_call_ms")
        and saved_total >= ctx.threshold("db_index_high_total_ms")
    )
    saved_text = (
        "no query time was measured, so the time it saves is unknown" if saved_call is None
        else f"about {_ms(saved_call)} saved per call, {_ms(saved_total or 0)} over the {result.calls} calls"
    )
    v = {
        **_vars(result, c),
        "cost_before": c["cost_before"],
        "cost_after": c["cost_after"],
        "drop_pct": round(100 * drop),
        "saved_text": saved_text,
    }
    evidence = {
        "cost_before": c["cost_before"],
        "cost_after": c["cost_after"],
        "calls": result.calls,
        "query": result.fingerprint,
        "sample": result.sample[:500],
        "kind": c.get("kind"),
        "explained_with": result.explained_with,
        "saved_ms_per_call": None if saved_call is None else round(saved_call, 4),
        "saved_ms_total": None if saved_total is None else round(saved_total, 2),
    }
    rule = "db.plan.missing-index" if high else "db.plan.index-small-gain"
    cost_saved = float(c["cost_before"]) - float(c["cost_after"])
    rank = (0, saved_total) if saved_total is not None else (1, result.calls * cost_saved)
    return rank, Finding(rule, _loc(c), v, evidence)


def _ms(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.2f} ms" if ms < 10 else f"{ms:.0f} ms"


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


@check("db.plan.missing-index", "db.plan.index-small-gain", "db.plan.index-candidate", kind="db",
       requires=(Req.CATALOG_SERVER,))
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
    verified: list[tuple[tuple[int, float], Finding]] = []
    unverified: list[tuple[float, Finding]] = []
    low = ctx.threshold("db_low_cardinality_distinct")
    mean = {q.fingerprint: q.mean_ms for q in ev.workload}
    for result in ev.plans:
        for c in result.candidates:
            if c.get("verified") and c.get("best", True):
                verified.append(_verified(result, c, mean.get(result.fingerprint), ctx))
            elif c.get("verified") is None:  # False: HypoPG showed no benefit, nothing to report
                got = _unverified(ev, result, c, low)
                if got:
                    unverified.append(got)
    for _, f in sorted(verified, key=lambda x: (x[0][0], -x[0][1])):
        yield f
    for _, f in sorted(unverified, key=lambda x: -x[0]):
        yield f
