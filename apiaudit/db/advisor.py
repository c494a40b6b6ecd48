"""EXPLAIN the top workload queries and turn their plans into verified index candidates (IO).

For each query (by total time): refuse anything but a single read-only SELECT (``safety``), take
the plan — with the real values the log recorded for it when there are some (as Dexter does),
the generic plan otherwise — and skip it when its cost is under ``min_cost`` (Dexter: 100; nothing
worth an index). With HypoPG, every index shape of :func:`candidates.candidate_keys` (predicate
columns and ordered pairs, join keys, ORDER BY with DESC, expressions, OR branches together, the
query's constant predicates as a partial index's WHERE) that no existing index already leads with
is re-planned as a hypothetical index; one is verified when the plan uses it and the cost drops by
at least ``min_cost_drop`` (default 50 %), and the cheapest verified one per table is the advice.
Without HypoPG only tables with a Seq Scan + Filter or a Sort under a Limit get one unverified
candidate (equality, then range or ORDER BY columns).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from apiaudit.db import candidates as cand
from apiaudit.db import plan as planlib
from apiaudit.db.catalog import Collector
from apiaudit.db.evidence import DbEvidence, PlanResult, Row
from apiaudit.db.explain import UserCodeRefused, explain, explain_with_hypothetical, param_count
from apiaudit.db.literals import literal_texts
from apiaudit.db.safety import is_plain_select, judge, judge_volatility
from apiaudit.db.workload import WorkloadQuery
from apiaudit.redact import redact_text


@dataclass(frozen=True)
class AdvisorOptions:
    top: int = 20
    analyze: bool = False
    hypopg: bool = True
    min_cost_drop: float = 0.5
    small_rows: float = 1000
    min_cost: float = 100.0


SCAN_FACTOR = 5  # workload rows tried for EXPLAINable queries, per EXPLAIN slot
MAX_CANDIDATES = 24  # hypothetical indexes tried per query (singles first, then pairs, order, ...)
_READ_VERBS = frozenset({"select", "with", "values", "table"})


def _error_text(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return redact_text(f"{type(exc).__name__}: {lines[0] if lines else ''}")


def volatile_names(col: Collector, queries: list[WorkloadQuery]) -> set[str] | None:
    """Functions the workload calls that pg_proc marks VOLATILE; None when pg_proc could not be read."""
    from apiaudit.db.sqlparse import ParseFailure, function_names, parse_statements

    names: set[str] = set()
    for q in queries:
        try:
            for tree in parse_statements(q.sample):
                names |= function_names(tree)
        except ParseFailure:
            continue
    if not names:
        return set()
    rows = col.rows("volatile_functions", {"names": sorted(names)})
    return None if rows is None else {str(r["name"]) for r in rows}


def _resolve_schema(use: cand.TableUse, ev: DbEvidence) -> str | None:
    if use.schema:
        return use.schema
    matches = [t["schema"] for t in ev.tables or [] if t["table"] == use.table]
    if "public" in matches:
        return "public"
    return matches[0] if len(matches) == 1 else None


def _already_indexed(ev: DbEvidence, schema: str, table: str, columns: list[str]) -> bool:
    for ix in ev.indexes or []:
        if ix["schema"] == schema and ix["table"] == table and ix["is_valid"] and not ix["predicate"]:
            keys = list(ix["key_columns"])
            if keys[: len(columns)] == columns:
                return True
    return False


def _candidates_for(result: PlanResult, tree: Any, ev: DbEvidence, opts: AdvisorOptions) -> list[dict[str, Any]]:
    flagged = {(i["schema"], i["table"]) for i in result.issues if i["kind"] == "seq_scan_filter"}
    sorting = any(i["kind"] == "sort_limit" for i in result.issues)
    out: list[dict[str, Any]] = []
    for use in cand.table_uses(tree):
        schema = _resolve_schema(use, ev)
        if schema is None:
            continue
        row = ev.table(schema, use.table)
        rows = int(row["rows"]) if row else None
        where = " AND ".join(use.partial) or None
        if ev.hypopg:
            if rows is not None and rows < opts.small_rows:
                continue  # the guide's "When NOT to Index": small tables
            out += _shapes(ev, schema, use, where, rows)[: max(0, MAX_CANDIDATES - len(out))]
            continue
        if (schema, use.table) not in flagged and not (sorting and use.order):
            continue
        cols = use.columns() or (list(use.equality)[:1])
        if not cols or (_already_indexed(ev, schema, use.table, cols) and not where):
            continue
        out.append(_candidate(schema, use.table, [cand.Shape(tuple(cols), (False,) * len(cols), "column")],
                              where, rows))
    return out


def _shapes(ev: DbEvidence, schema: str, use: cand.TableUse, where: str | None, rows: int | None) -> list[Row]:
    out = []
    for group in cand.candidate_keys(use):
        if len(group) == 1 and not where and _covered(ev, schema, use.table, group[0]):
            continue
        out.append(_candidate(schema, use.table, group, where, rows))
    return out


def _covered(ev: DbEvidence, schema: str, table: str, shape: cand.Shape) -> bool:
    if shape.kind == "expression":
        return cand.expression_indexed(ev.indexes or [], schema, table, shape.keys[0][1:-1])
    return not any(shape.desc) and _already_indexed(ev, schema, table, list(shape.keys))


def _candidate(schema: str, table: str, group: list[cand.Shape], where: str | None, rows: int | None) -> Row:
    return {
        "schema": schema,
        "table": table,
        "columns": [k + (" DESC" if d else "") for s in group for k, d in zip(s.keys, s.desc, strict=True)],
        "kind": group[0].kind,
        "where": where,
        "rows": rows,
        "verified": None,
        "sql": "; ".join(cand.shape_sql(schema, table, s, where, concurrently=True) for s in group),
        "hypo_sql": [cand.shape_sql(schema, table, s, where, concurrently=False) for s in group],
    }


def _verify(conn: Any, result: PlanResult, text: str, version: int, opts: AdvisorOptions) -> None:
    for c in result.candidates:
        try:
            plan, names = explain_with_hypothetical(conn, text, version, c.pop("hypo_sql"))
        except Exception as exc:  # verification failure keeps the candidate unverified
            c["error"] = _error_text(exc)
            continue
        before, after = result.cost or 0.0, planlib.total_cost(plan)
        drop = (before - after) / before if before > 0 else 0.0
        c.update(
            cost_before=round(before, 2),
            cost_after=round(after, 2),
            cost_drop=round(drop, 4),
            used=bool(names) and all(planlib.uses_index_named(plan, n) for n in names.split(",")),
        )
        c["verified"] = bool(c["used"] and drop >= opts.min_cost_drop)
    _choose_best(result.candidates)


def _choose_best(candidates: list[Row]) -> None:
    """The cheapest verified shape per table is the advice (fewer columns on a tie)."""
    best: dict[tuple[str, str], Row] = {}
    for c in candidates:
        if not c.get("verified"):
            continue
        key = (c["schema"], c["table"])
        have = best.get(key)
        if have is None or (c["cost_after"], len(c["columns"])) < (have["cost_after"], len(have["columns"])):
            best[key] = c
    for c in candidates:
        c["best"] = any(c is b for b in best.values())


def advise_one(
    conn: Any, q: WorkloadQuery, ev: DbEvidence, version: int, volatile: set[str] | None, opts: AdvisorOptions
) -> PlanResult:
    result = PlanResult(fingerprint=q.fingerprint, sample=q.sample, calls=q.calls)
    # Volatility unknown: plain EXPLAIN still runs (the planner never calls a VOLATILE function).
    verdict = judge_volatility(judge(q.sample), volatile or set(), analyze=False)
    if not verdict.ok:
        result.refused = verdict.reason
        return result
    text = _with_values(q, ev)
    result.explained_with = "generic plan" if text == q.sample else "logged values"
    try:
        node = explain(conn, text, version)
    except UserCodeRefused as exc:  # would run the database users' own code: a note, not an error
        result.refused = str(exc)
        return result
    except Exception as exc:  # a timeout or an unknown relation: say so, go on with the next
        result.error = _error_text(exc)
        return result
    result.cost, result.plan = planlib.total_cost(node), node
    rows_of = {(t["schema"], t["table"]): int(t["rows"]) for t in ev.tables or []}
    result.issues = planlib.find_issues(node, rows_of, opts.small_rows)
    if (result.cost or 0.0) < opts.min_cost:
        result.skipped = f"cost {result.cost or 0:.1f} is under the advisor's minimum {opts.min_cost:g}"
    elif (result.issues or ev.hypopg) and verdict.tree is not None:
        result.candidates = _candidates_for(result, verdict.tree, ev, opts)
        if ev.hypopg and result.candidates:
            _verify(conn, result, text, version, opts)
        for c in result.candidates:
            c.pop("hypo_sql", None)
    if opts.analyze:
        _analyze(conn, q, result, verdict, volatile, version)
    return result


def _with_values(q: WorkloadQuery, ev: DbEvidence) -> str:
    """The query with real logged values when the log has them and they pass the same safety judge."""
    for text in literal_texts(ev, q.fingerprint):
        if judge(text).ok:
            return text
    return q.sample


def _analyze(
    conn: Any, q: WorkloadQuery, result: PlanResult, verdict: Any, volatile: set[str] | None, version: int
) -> None:
    # Executing: with volatility unknown, every function called counts as volatile.
    strict = judge_volatility(verdict, set(verdict.functions) if volatile is None else volatile, analyze=True)
    if not strict.ok or not is_plain_select(verdict.tree) or param_count(q.sample):
        return  # only plain SELECTs without placeholders are executed
    try:
        node = explain(conn, q.sample, version, analyze=True)
    except Exception as exc:
        result.error = _error_text(exc)
        return
    result.analyzed = {"actual_ms": node.get("Actual Total Time"), "actual_rows": node.get("Actual Rows")}


def run_advisor(conn: Any, col: Collector, ev: DbEvidence, version: int, opts: AdvisorOptions) -> list[PlanResult]:
    """EXPLAIN the top ``opts.top`` workload queries that can be EXPLAINed.

    Refused statements (DDL, writes, unparseable) do not use up the budget: on a young database
    pg_stat_statements' top rows are its CREATE/INSERT setup, which would otherwise crowd out every
    SELECT (a query given by --log, with no timings, ranks last). Past the first ``top`` rows only
    SELECT-like rows are tried (at most SCAN_FACTOR x top in all), and refused ones are not listed.
    """
    chosen = _to_try(ev.workload, opts.top)
    volatile = volatile_names(col, chosen)
    results, explained = [], 0
    for i, q in enumerate(chosen):
        if explained >= opts.top:
            break
        result = advise_one(conn, q, ev, version, volatile, opts)
        if result.refused is None:
            explained += 1
        elif i >= opts.top:
            continue
        results.append(result)
    return results


def _to_try(workload: list[WorkloadQuery], top: int) -> list[WorkloadQuery]:
    later = (q for q in workload[top:] if _select_like(q.sample))
    return workload[:top] + list(itertools.islice(later, top * (SCAN_FACTOR - 1)))


def _select_like(sample: str) -> bool:
    """Cheap pre-filter (no parse): only these can pass the safety judge."""
    words = sample.lstrip("( \t\n").split(None, 1)
    return bool(words) and words[0].lower().rstrip("(") in _READ_VERBS
