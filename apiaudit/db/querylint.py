"""Query anti-patterns in the workload SQL, read from the sqlglot AST (used by checks/antipatterns.py).

Samples are normalised (literals masked as ``$n``), so literal-based patterns (leading-wildcard LIKE,
a deep OFFSET) read the real values the log recorded for the query (``apiaudit.db.literals``: raw
texts and logged parameters); without any, an OFFSET parameter is reported as such and a LIKE
parameter is not judged. pg_stat_statements' own text (kept in ``raw_samples``) still lists every
IN-list parameter (not on PostgreSQL 18, which squashes lists). "Function on column" is not reported
when an expression index on that table already matches. Unparseable statements are kept in the
workload and skipped here (the audit says how many).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlglot import exp

from apiaudit.checks import CheckContext
from apiaudit.db.candidates import expression_indexed
from apiaudit.db.evidence import DbEvidence
from apiaudit.db.literals import literal_texts
from apiaudit.db.naming import qualified
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


def _literal_selects(q: WorkloadQuery, ev: DbEvidence) -> list[exp.Select]:
    out = []
    for text in literal_texts(ev, q.fingerprint):
        try:
            tree = parse_one(text)
        except ParseFailure:
            continue
        if isinstance(tree, exp.Select):
            out.append(tree)
    return out


def _offset_value(sel: exp.Select) -> int | None:
    offset = sel.args.get("offset")
    value = offset.expression if isinstance(offset, exp.Offset) else offset
    # A logged parameter is quoted ("OFFSET '50000'"): a string of digits counts too.
    text = str(value.this).strip() if isinstance(value, exp.Literal) else ""
    return int(text) if text.isdigit() else None


def _offset_rules(
    q: WorkloadQuery, sel: exp.Select, literal: list[exp.Select], ctx: CheckContext
) -> Iterator[Finding]:
    if sel.args.get("offset") is None:
        return
    seen = [n for n in (_offset_value(t) for t in [sel, *literal]) if n is not None]
    if seen:  # real values known: judge them (OFFSET 0 is the first page, never a finding)
        n = max(seen)
        if n >= ctx.threshold("db_deep_offset"):
            yield Finding(
                "db.query.offset-pagination", _loc(q), {**_base(q), "offset_text": str(n)}, {"offset": n}
            )
        return
    yield Finding("db.query.offset-pagination", _loc(q), {**_base(q), "offset_text": "with a parameter"})


def _table_of(column: exp.Column, sel: exp.Select) -> exp.Table | None:
    tables = [t for t in sel.find_all(exp.Table) if t.name]
    if column.table:
        return next((t for t in tables if column.table in (t.alias_or_name, t.name)), None)
    return tables[0] if len(tables) == 1 else None


def _schema_of(table: exp.Table, ev: DbEvidence) -> str:
    if table.db:
        return str(table.db)
    schemas = [t["schema"] for t in ev.tables or [] if t["table"] == table.name]
    return "public" if "public" in schemas or not schemas else schemas[0]


def _like_rules(
    q: WorkloadQuery, sel: exp.Select, literal: list[exp.Select], ev: DbEvidence
) -> Iterator[Finding]:
    for tree in [sel, *literal]:
        where = tree.args.get("where")
        for like in where.find_all(exp.Like, exp.ILike) if where is not None else []:
            pattern = like.expression
            if isinstance(pattern, exp.Literal) and pattern.is_string and str(pattern.this).startswith("%"):
                column = like.this
                table = _table_of(column, tree) if isinstance(column, exp.Column) else None
                qualified_table = qualified(_schema_of(table, ev), table.name) if table else "<table>"
                yield Finding(
                    "db.query.leading-wildcard", _loc(q),
                    {**_base(q), "column": column.sql("postgres"), "column_name": _column_name(column),
                     "qualified_table": qualified_table},
                    {"pattern": str(pattern.this)[:100]},
                )
                return


def _column_name(node: exp.Expression) -> str:
    return node.name if isinstance(node, exp.Column) else node.sql("postgres")


def _where_rules(q: WorkloadQuery, sel: exp.Select, ev: DbEvidence) -> Iterator[Finding]:
    where = sel.args.get("where")
    if where is None:
        return
    for cmp in where.find_all(exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.In):
        side = cmp.this
        column = side.find(exp.Column) if isinstance(side, exp.Func) else None
        if column is None or isinstance(side, exp.AggFunc):
            continue
        table = _table_of(column, sel)
        if table is None:
            continue
        schema = _schema_of(table, ev)
        expression = side.sql("postgres")
        if expression_indexed(ev.indexes or [], schema, table.name, expression):
            continue  # the matching expression index exists: the planner can use it
        unqualified = side.copy()
        for col in unqualified.find_all(exp.Column):
            col.set("table", None)
        yield Finding(
            "db.query.function-on-column", _loc(q),
            {**_base(q), "expression": unqualified.sql("postgres"),
             "qualified_table": qualified(schema, table.name)},
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
        literal = _literal_selects(q, ev)
        yield from _column_rules(q, tree, ev, ctx)
        yield from _offset_rules(q, tree, literal, ctx)
        yield from _like_rules(q, tree, literal, ev)
        yield from _where_rules(q, tree, ev)
        order = tree.args.get("order")
        if order is not None and order.find(exp.Rand) is not None:
            yield Finding(
                "db.query.order-by-random",
                _loc(q),
                {**_base(q), "table_name": _single_table(tree) or "<table>"},
            )
        yield from _raw_in_list(q, ev, ctx)
