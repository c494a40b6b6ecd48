"""Foreign keys without a supporting index (checklist: database.indexes).

Coverage: the FK's columns, in any order, must be the leading key columns of a valid, non-partial
B-tree index with no expression among them; INCLUDE columns do not count (they are not searchable).
Partitioned tables: the FK of a partitioned parent is cloned onto every partition
(``conparentid <> 0``); clones are skipped and the parent is reported once. The parent counts as
covered by a partitioned index, or when every leaf partition has its own covering index.
"""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.db.evidence import NO_TABLES, DbEvidence, Row
from apiaudit.db.naming import qualified, quote_ident
from apiaudit.model import Finding
from apiaudit.requirements import Req


def covers(index: Row, attnums: list[int]) -> bool:
    if not index["is_valid"] or index["predicate"] or index["method"] != "btree":
        return False
    keys = list(index["key_attnums"])
    prefix = keys[: len(attnums)]
    return len(prefix) == len(attnums) and 0 not in prefix and set(prefix) == set(attnums)


def _leaves(table_oid: int, children: dict[int, list[Row]]) -> list[Row]:
    out: list[Row] = []
    for child in children.get(table_oid, []):
        out += _leaves(int(child["oid"]), children) if child["relkind"] == "p" else [child]
    return out


def _covered(
    fk: Row, by_table: dict[int, list[Row]], children: dict[int, list[Row]], names: dict[int, dict[str, int]]
) -> bool:
    oid = int(fk["table_oid"])
    if any(covers(ix, list(fk["attnums"])) for ix in by_table.get(oid, [])):
        return True
    if fk["relkind"] != "p":
        return False
    leaves = _leaves(oid, children)
    if not leaves:
        return False
    for leaf in leaves:  # attnums differ between parent and partitions: match by column name
        leaf_nums = names.get(int(leaf["oid"]), {})
        wanted = [leaf_nums.get(c, -1) for c in fk["columns"]]
        if not any(covers(ix, wanted) for ix in by_table.get(int(leaf["oid"]), [])):
            return False
    return True


def _attnum_names(indexes: list[Row]) -> dict[int, dict[str, int]]:
    names: dict[int, dict[str, int]] = {}
    for ix in indexes:
        for num, name in zip(ix["key_attnums"], ix["key_columns"], strict=False):
            if num and name:
                names.setdefault(int(ix["table_oid"]), {})[name] = int(num)
    return names


def _finding(fk: Row, rows: int, small: float) -> Finding:
    cols = list(fk["columns"])
    rule = "db.fk.unindexed-small" if rows < small else "db.fk.unindexed"
    create = (
        f"CREATE INDEX CONCURRENTLY ON {qualified(fk['schema'], fk['table'])} "
        f"({', '.join(quote_ident(c) for c in cols)})"
    )
    if fk["relkind"] == "p":  # CONCURRENTLY is not supported on partitioned tables (PG docs, CREATE INDEX)
        create = create.replace(" CONCURRENTLY", "")
    note = "; partitioned table, reported once for all partitions" if fk["relkind"] == "p" else ""
    return Finding(
        rule,
        {"schema": fk["schema"], "table": fk["table"], "columns": cols},
        {
            "columns_text": ", ".join(cols),
            "constraint": fk["constraint"],
            "rows": rows,
            "ref_table": f"{fk['ref_schema']}.{fk['ref_table']}",
            "create_sql": create,
            "partition_note": note,
        },
        {
            "constraint": fk["constraint"],
            "rows": rows,
            "references": f"{fk['ref_schema']}.{fk['ref_table']}",
            "partitioned": fk["relkind"] == "p",
        },
    )


@check("db.fk.unindexed", "db.fk.unindexed-small", kind="db",
       requires=(Req.CATALOG_FOREIGN_KEYS, Req.CATALOG_INDEXES, Req.CATALOG_TABLES))
def check_fk_unindexed(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.foreign_keys is None or ev.indexes is None or ev.tables is None:
        yield NotApplicable(ev.unavailable("foreign keys or indexes"))
        return
    if not ev.tables:
        yield NotApplicable(NO_TABLES)
        return
    by_table: dict[int, list[Row]] = {}
    for ix in ev.indexes:
        by_table.setdefault(int(ix["table_oid"]), []).append(ix)
    children: dict[int, list[Row]] = {}
    for t in ev.tables:
        if t.get("parent_oid"):
            children.setdefault(int(t["parent_oid"]), []).append(t)
    rows_of: dict[int, int] = {int(t["oid"]): int(t["rows"]) for t in ev.tables}
    names = _attnum_names(ev.indexes)
    small = ctx.threshold("small_table_rows")
    for fk in ev.foreign_keys:
        if fk["is_clone"] or _covered(fk, by_table, children, names):
            continue
        yield _finding(fk, rows_of.get(int(fk["table_oid"]), 0), small)
