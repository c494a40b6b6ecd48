"""Candidate indexes from a query's AST (sqlglot): equality columns first, then one range column,
then ORDER BY columns (the usual B-tree column order; PostgreSQL docs, "Multicolumn Indexes").

Per table of the FROM/JOIN list: ``col = $1`` and ``$1 = col``, ``col IN (...)``, join keys
``a.x = b.y`` (both sides) count as equality; ``<``/``>``/``BETWEEN`` as range. Constant predicates
that survive literal masking (``col IS [NOT] NULL``, ``WHERE active``, ``WHERE NOT archived``)
become the WHERE of a partial index (the guide's ``WHERE status = 'active'`` example; a masked
``status = $1`` cannot, and is left to HypoPG and pg_stats).
Unqualified columns are attributed only when the query reads a single table.

:func:`candidate_keys` expands one table use into the index shapes worth a HypoPG try, as Dexter
does: every predicate column alone and every ordered pair (a wrong-order composite index is then
just one more candidate), the ORDER BY columns (with DESC where the query mixes directions) after
the equality columns (top-N, under a Limit or a Gather Merge), each column of an OR (a BitmapOr
needs one index per branch, so they are tried together), and expressions compared to a value
(``lower(email) = $1``: an expression index).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from apiaudit.db.naming import quote_ident as _quote

MAX_COLUMNS = 4
MAX_PREDICATE_COLUMNS = 5  # ordered pairs of at most these: 20 pairs + 5 singles per table use


@dataclass
class TableUse:
    schema: str | None
    table: str
    equality: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)  # predicate texts, e.g. "deleted_at IS NULL"
    desc: set[str] = field(default_factory=set)  # ORDER BY columns sorted DESC
    expressions: list[str] = field(default_factory=list)  # "lower(email)" compared to a value
    or_branches: list[list[str]] = field(default_factory=list)  # columns of each OR's branches

    def add(self, bucket: list[str], column: str) -> None:
        if column not in bucket:
            bucket.append(column)

    def columns(self) -> list[str]:
        # Join keys matter when nothing else filters this table (it is then the inner side).
        cols = list(self.equality) or list(self.joins)
        if self.ranges:
            cols.append(self.ranges[0])
        elif self.order:
            cols += [c for c in self.order if c not in cols]
        return cols[:MAX_COLUMNS]


def _tables(select: exp.Select) -> dict[str, TableUse]:
    """Alias (or name) -> TableUse for real tables of this SELECT (CTE names are not tables)."""
    ctes = {c.alias_or_name for c in select.find_all(exp.CTE)}
    out: dict[str, TableUse] = {}
    for t in select.find_all(exp.Table):
        if not t.name or t.name in ctes:
            continue
        use = TableUse(schema=t.db or None, table=t.name)
        out[t.alias_or_name] = use
    return out


def _owner(col: exp.Column, tables: dict[str, TableUse]) -> TableUse | None:
    if col.table:
        return tables.get(col.table)
    return next(iter(tables.values())) if len(tables) == 1 else None


def _is_value(node: exp.Expression) -> bool:
    return isinstance(
        node, (exp.Parameter, exp.Placeholder, exp.Literal, exp.Boolean, exp.Cast)
    ) and not list(node.find_all(exp.Column))


def _record(node: exp.Expression, tables: dict[str, TableUse]) -> None:
    if isinstance(node, exp.EQ):
        left, right = node.this, node.expression
        if isinstance(left, exp.Column) and isinstance(right, exp.Column):
            for side in (left, right):  # a join key: both sides want an index
                use = _owner(side, tables)
                if use:
                    use.add(use.joins, side.name)
            return
        col = left if isinstance(left, exp.Column) else right if isinstance(right, exp.Column) else None
        other = right if col is left else left
        if col is not None and _is_value(other):
            use = _owner(col, tables)
            if use:
                use.add(use.equality, col.name)
        elif _is_value(right) and isinstance(left, exp.Func) and not isinstance(left, exp.AggFunc):
            _record_expression(left, tables)
    elif isinstance(node, exp.In) and isinstance(node.this, exp.Column):
        use = _owner(node.this, tables)
        if use:
            use.add(use.equality, node.this.name)
    elif isinstance(node, (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)):
        col = node.this if isinstance(node.this, exp.Column) else node.args.get("expression")
        if isinstance(col, exp.Column):
            use = _owner(col, tables)
            if use:
                use.add(use.ranges, col.name)
    elif (
        isinstance(node, exp.Is)
        and isinstance(node.this, exp.Column)
        and isinstance(node.expression, exp.Null)
    ):
        use = _owner(node.this, tables)
        if use:  # sqlglot >= 26 marks IS NOT NULL with negate=True (older: NOT (x IS NULL))
            text = "IS NOT NULL" if node.args.get("negate") else "IS NULL"
            use.add(use.partial, f"{_quote(node.this.name)} {text}")
    elif isinstance(node, exp.Or):
        _record_or(node, tables)
    elif isinstance(node, (exp.Like, exp.ILike)) and isinstance(node.this, exp.Column):
        use = _owner(node.this, tables)
        if use:  # a prefix pattern can use a B-tree (text_pattern_ops / C collation)
            use.add(use.ranges, node.this.name)
    else:
        _record_constant(node, tables)


def _record_expression(func: exp.Func, tables: dict[str, TableUse]) -> None:
    cols = list(func.find_all(exp.Column))
    owners = {id(_owner(c, tables)) for c in cols}
    use = _owner(cols[0], tables) if cols else None
    if use is None or len(owners) != 1:
        return
    bare = func.copy()
    for c in bare.find_all(exp.Column):
        c.set("table", None)
    use.add(use.expressions, bare.sql("postgres"))


def _record_or(node: exp.Or, tables: dict[str, TableUse]) -> None:
    """``a = $1 OR b = $2`` on one table: one index per branch lets the planner BitmapOr them."""
    branches = _disjuncts(node)
    per_branch: list[tuple[TableUse, str]] = []
    for branch in branches:
        probe: dict[str, TableUse] = {k: TableUse(v.schema, v.table) for k, v in tables.items()}
        _record(branch, probe)
        found = [(tables[k], (u.equality + u.ranges)[0]) for k, u in probe.items() if u.equality or u.ranges]
        if len(found) != 1:
            return
        per_branch.append(found[0])
    uses = {id(u) for u, _ in per_branch}
    if len(uses) == 1 and per_branch:
        use = per_branch[0][0]
        cols = list(dict.fromkeys(c for _, c in per_branch))
        if cols not in use.or_branches:
            use.or_branches.append(cols)


def _disjuncts(node: exp.Expression) -> list[exp.Expression]:
    if isinstance(node, exp.Or):
        return _disjuncts(node.this) + _disjuncts(node.expression)
    if isinstance(node, exp.Paren):
        return _disjuncts(node.this)
    return [node]


def _record_constant(node: exp.Expression, tables: dict[str, TableUse]) -> None:
    """Predicates that survive literal masking and make a partial index: ``WHERE active``,
    ``WHERE NOT archived``, ``col IS NOT NULL`` (pg_stat_statements turns every literal into $n)."""
    negated = isinstance(node, exp.Not)
    inner = node.this if negated else node
    if isinstance(inner, exp.Column):
        use = _owner(inner, tables)
        if use:
            use.add(use.partial, f"{'NOT ' if negated else ''}{_quote(inner.name)}")
    elif (
        negated
        and isinstance(inner, exp.Is)
        and isinstance(inner.this, exp.Column)
        and isinstance(inner.expression, exp.Null)
    ):
        use = _owner(inner.this, tables)
        if use:
            use.add(use.partial, f"{_quote(inner.this.name)} IS NOT NULL")


def _conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    if node is None:
        return []
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    return [node]


def table_uses(tree: exp.Expression) -> list[TableUse]:
    """Every real table a query filters, joins or orders on, with the columns involved."""
    found: list[TableUse] = []
    for select in tree.find_all(exp.Select):
        tables = _tables(select)
        where = select.args.get("where")
        preds = _conjuncts(where.this if where else None)
        for join in select.args.get("joins") or []:
            preds += _conjuncts(join.args.get("on"))
        for pred in preds:
            _record(pred, tables)
        order = select.args.get("order")
        for ordered in order.expressions if order else []:
            if isinstance(ordered.this, exp.Column):
                use = _owner(ordered.this, tables)
                if use:
                    use.add(use.order, ordered.this.name)
                    if ordered.args.get("desc"):
                        use.desc.add(ordered.this.name)
        found += [u for u in tables.values() if u.columns() or u.partial or u.expressions or u.or_branches]
    return found


@dataclass(frozen=True)
class Shape:
    """One candidate index: key columns (a column name, or ``(expression)``), DESC flags, kind."""

    keys: tuple[str, ...]
    desc: tuple[bool, ...]
    kind: str  # column | pair | order | expression | or-branch

    @property
    def names(self) -> list[str]:
        return list(self.keys)


def candidate_keys(use: TableUse) -> list[list[Shape]]:
    """Groups of index shapes to try with HypoPG (a group is created together: OR branches)."""
    preds = list(dict.fromkeys(use.equality + use.joins + use.ranges))[:MAX_PREDICATE_COLUMNS]
    leading = [c for c in preds if c in use.equality or c in use.joins]
    out: list[list[Shape]] = []

    def add(keys: list[str], kind: str, desc: list[bool] | None = None) -> None:
        keys = list(dict.fromkeys(keys))[:MAX_COLUMNS]
        shape = Shape(tuple(keys), tuple(desc or [False] * len(keys))[: len(keys)], kind)
        if keys and all((g[0].keys, g[0].desc) != (shape.keys, shape.desc) for g in out if len(g) == 1):
            out.append([shape])

    for c in preds:
        add([c], "column")
    for e in use.expressions:
        add([f"({e})"], "expression")
    for branch in use.or_branches:
        group = [Shape((c,), (False,), "or-branch") for c in branch]
        if group not in out:
            out.append(group)
    if use.order:
        mixed = 0 < len(use.desc & set(use.order)) < len(use.order)
        order = [c for c in use.order if c not in leading]
        keys = leading + order
        add(keys, "order", [mixed and c in use.desc for c in keys])
        add(list(use.order), "order", [mixed and c in use.desc for c in use.order])
    for a in leading:  # pairs last: the most numerous, cut first by the advisor's budget
        for b in preds:
            if a != b:
                add([a, b], "pair")
    return out


def shape_sql(schema: str, table: str, shape: Shape, where: str | None, *, concurrently: bool) -> str:
    how = "CREATE INDEX CONCURRENTLY" if concurrently else "CREATE INDEX"
    pairs = zip(shape.keys, shape.desc, strict=True)
    keys = ", ".join((k if k.startswith("(") else _quote(k)) + (" DESC" if d else "") for k, d in pairs)
    tail = f" WHERE {where}" if where else ""
    return f"{how} ON {_quote(schema)}.{_quote(table)} ({keys}){tail}"


def bare_expression(text: str) -> str:
    """An expression compared without spaces, quotes, casts, case or table qualifiers."""
    text = re.sub(r"::\w+", "", text.lower())
    text = re.sub(r"\b\w+\.(?=\w)", "", text)
    return re.sub(r"[\s\"()]", "", text)


def expression_indexed(indexes: list[dict[str, Any]], schema: str, table: str, expression: str) -> bool:
    """Whether a valid index on the table leads with ``expression`` (pg_get_expr text of indexprs)."""
    want = bare_expression(expression)
    return any(
        ix["schema"] == schema and ix["table"] == table and ix.get("expressions") and ix["is_valid"]
        and bare_expression(str(ix["expressions"]).split(",")[0]) == want
        for ix in indexes
    )


def index_sql(schema: str, table: str, columns: list[str], where: str | None, *, concurrently: bool) -> str:
    cols = ", ".join(_quote(c) for c in columns)
    how = "CREATE INDEX CONCURRENTLY" if concurrently else "CREATE INDEX"
    tail = f" WHERE {where}" if where else ""
    return f"{how} ON {_quote(schema)}.{_quote(table)} ({cols}){tail}"
