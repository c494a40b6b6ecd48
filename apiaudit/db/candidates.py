"""Candidate indexes from a query's AST (sqlglot): equality columns first, then one range column,
then ORDER BY columns (the usual B-tree column order; PostgreSQL docs, "Multicolumn Indexes").

Per table of the FROM/JOIN list: ``col = $1`` and ``$1 = col``, ``col IN (...)``, join keys
``a.x = b.y`` (both sides) count as equality; ``<``/``>``/``BETWEEN`` as range. Constant predicates
that survive literal masking (``col IS [NOT] NULL``, ``WHERE active``, ``WHERE NOT archived``)
become the WHERE of a partial index (the guide's ``WHERE status = 'active'`` example; a masked
``status = $1`` cannot, and is left to HypoPG and pg_stats).
Unqualified columns are attributed only when the query reads a single table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from apiaudit.db.naming import quote_ident as _quote

MAX_COLUMNS = 4


@dataclass
class TableUse:
    schema: str | None
    table: str
    equality: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)  # predicate texts, e.g. "deleted_at IS NULL"

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
    else:
        _record_constant(node, tables)


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
        found += [u for u in tables.values() if u.columns() or u.partial]
    return found


def index_sql(schema: str, table: str, columns: list[str], where: str | None, *, concurrently: bool) -> str:
    cols = ", ".join(_quote(c) for c in columns)
    how = "CREATE INDEX CONCURRENTLY" if concurrently else "CREATE INDEX"
    tail = f" WHERE {where}" if where else ""
    return f"{how} ON {_quote(schema)}.{_quote(table)} ({cols}){tail}"
