"""Query anti-patterns in the workload SQL, read from the sqlglot AST (used by checks/antipatterns.py).

Samples are normalised (literals masked as ``$n``), so literal-based patterns (leading-wildcard LIKE,
a deep literal OFFSET) are only seen where the text still carries literals; pg_stat_statements' own
text (kept in ``raw_samples``) still lists every IN-list parameter. Unparseable statements are kept
in the workload and skipped here (the audit says how many).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlglot import exp

from apiaudit.checks import CheckContext
from apiaudit.db.evidence import DbEvidence
from apiaudit.db.sqlparse import ParseFailure, parse_one
from apiaudit.db.workload import WorkloadQuery
from apiaudit.model import Finding

MAX_QUERIES = 50


def _loc(q: WorkloadQuery) -> dict[str, Any]:
    return {"fingerprint": q.fingerprint, "sample": q.sample[:500]}


def _base(q: WorkloadQuery) -> dict[str, Any]:
    return {"calls": q.calls, "mean_rows": round(_mean_rows(q) or 0)}


def _mean_rows(q: WorkloadQuery) -> float | None:
    return q.rows / q.calls if q.rows is not None and q.calls else None


def _single_table(sel: exp.Select) -> str | None:
    tables = [t for t in sel.find_all(exp.Table) if t.name]
    return tables[0].name if len(tables) == 1 else None


def _ncols(ev: DbEvidence, table: str) -> int | None:
    for t in ev.tables or []:
        if t["table"] == table:
            return int(t["ncols"])
    return None


def _column_rules(q: WorkloadQuery, sel: exp.Select, ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding]:
    table = _single_table(sel)
    limited = sel.args.get("limit") is not None
    mean = _mean_rows(q)
    if table and any(isinstance(e, exp.Star) for e in sel.expressions):
        ncols = _ncols(ev, table)
        if ncols is not None and ncols >= ctx.threshold("db_select_star_min_columns"):
            yield Finding("db.query.select-star", _loc(q), {**_base(q), "table_name": table, "ncols": ncols})
    aggregate = any(e.find(exp.AggFunc) for e in sel.expressions) or sel.args.get("group")
    if not limited and not aggregate and mean is not None and mean >= ctx.threshold("db_no_limit_rows"):
        yield Finding("db.query.no-limit", _loc(q), _base(q), {"mean_rows": round(mean, 1)})
        if (
            table
            and len(sel.expressions) == 1
            and isinstance(sel.expressions[0], exp.Column)
            and sel.args.get("where") is None
        ):
            yield Finding("db.query.count-by-fetch", _loc(q), {**_base(q), "table_name": table})


def _offset_rules(q: WorkloadQuery, sel: exp.Select, ctx: CheckContext) -> Iterator[Finding]:
    offset = sel.args.get("offset")
    if offset is None:
        return
    value = offset.expression if isinstance(offset, exp.Offset) else offset
    if isinstance(value, exp.Literal) and value.is_int:
        n = int(value.this)
        if n >= ctx.threshold("db_deep_offset"):
            yield Finding(
                "db.query.offset-pagination", _loc(q), {**_base(q), "offset_text": str(n)}, {"offset": n}
            )
        return
    yield Finding("db.query.offset-pagination", _loc(q), {**_base(q), "offset_text": "with a parameter"})


def _where_rules(q: WorkloadQuery, sel: exp.Select) -> Iterator[Finding]:
    where = sel.args.get("where")
    if where is None:
        return
    for like in where.find_all(exp.Like, exp.ILike):
        pattern = like.expression
        if isinstance(pattern, exp.Literal) and pattern.is_string and str(pattern.this).startswith("%"):
            yield Finding(
                "db.query.leading-wildcard", _loc(q), {**_base(q), "column": like.this.sql("postgres")}
            )
    for cmp in where.find_all(exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.In):
        side = cmp.this
        if (
            isinstance(side, exp.Func)
            and not isinstance(side, exp.AggFunc)
            and side.find(exp.Column) is not None
        ):
            yield Finding(
                "db.query.function-on-column", _loc(q), {**_base(q), "expression": side.sql("postgres")}
            )
            return


def _raw_in_list(q: WorkloadQuery, ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding]:
    raw = ev.raw_samples.get(q.fingerprint)
    if not raw:
        return
    try:
        tree = parse_one(raw)
    except ParseFailure:
        return
    biggest = max((len(i.expressions) for i in tree.find_all(exp.In)), default=0)
    if biggest > ctx.threshold("db_in_list_max"):
        yield Finding("db.query.huge-in-list", _loc(q), {**_base(q), "values": biggest}, {"values": biggest})


def lint_workload(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding]:
    """Anti-pattern findings for the top workload queries (pure: reads only ``ev``)."""
    for q in ev.workload[:MAX_QUERIES]:
        try:
            tree = parse_one(q.sample)
        except ParseFailure:
            continue  # kept in the workload; the audit's notices count these
        if not isinstance(tree, exp.Select):
            continue
        yield from _column_rules(q, tree, ev, ctx)
        yield from _offset_rules(q, tree, ctx)
        yield from _where_rules(q, tree)
        order = tree.args.get("order")
        if order is not None and order.find(exp.Rand) is not None:
            yield Finding(
                "db.query.order-by-random",
                _loc(q),
                {**_base(q), "table_name": _single_table(tree) or "<table>"},
            )
        yield from _raw_in_list(q, ev, ctx)
