"""Index hygiene (checklist: database.indexes): invalid, duplicate, redundant, unused,
low-cardinality and small-table indexes — the guide's "When NOT to Index".

Duplicates compare method, key columns, operator classes, collations, sort options, expressions,
predicate and INCLUDE columns exactly. A prefix is redundant only for B-trees with the same
predicate and expressions (PostgreSQL docs, "Multicolumn Indexes": a B-tree on (a, b) serves a).
Indexes behind a constraint (PK, UNIQUE, EXCLUDE) or unique indexes are never flagged unless an
identical unique index covers them.
An index that is the support of a foreign key is never advised away as unused, low-cardinality
or on a small table: that would contradict ``db.fk.unindexed`` (the FK check owns that question).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.db.checks.fk import covers
from apiaudit.db.evidence import NO_TABLES, DbEvidence, Row
from apiaudit.db.naming import qualified
from apiaudit.model import Finding
from apiaudit.requirements import Req


def _loc(ix: Row) -> dict[str, Any]:
    return {"schema": ix["schema"], "table": ix["table"], "index": ix["index"]}


def _vars(ix: Row, **extra: Any) -> dict[str, Any]:
    return {
        "qualified_index": qualified(ix["schema"], ix["index"]),
        "qualified_table": qualified(ix["schema"], ix["table"]),
        "columns_text": ", ".join(c or "(expression)" for c in ix["key_columns"]),
        **extra,
    }


def _definition(ix: Row) -> str:
    """A readable shape of the index (pg_get_indexdef costs ~50 us per index on the server)."""
    cols = ", ".join(c or "(expression)" for c in ix["key_columns"])
    text = f"{'UNIQUE ' if ix['is_unique'] else ''}{ix['method']} ({cols})"
    if ix.get("expressions"):
        text += f" expressions: {ix['expressions']}"
    if ix.get("predicate"):
        text += f" WHERE {ix['predicate']}"
    return text


def _protected(ix: Row) -> bool:
    return bool(ix["is_unique"] or ix["is_primary"] or ix["is_exclusion"] or ix["backs_constraint"])


def _nkeys(ix: Row) -> int:
    return int(ix["nkeys"])


def _key(ix: Row, n: int | None = None) -> tuple[Any, ...]:
    """The comparable shape of the first ``n`` key columns (all of them by default)."""
    n = _nkeys(ix) if n is None else n
    return (
        ix["table_oid"],
        ix["method"],
        tuple(ix["key_attnums"][:n]),
        tuple(ix["opclasses"][:n]),
        tuple(ix["collations"][:n]),
        tuple(ix["options"][:n]),
        ix["expressions"],
        ix["predicate"],
    )


def _full_key(ix: Row) -> tuple[Any, ...]:
    return (*_key(ix), tuple(ix["include_attnums"]))


def _rank(ix: Row) -> tuple[int, int, int, str]:
    """Which of identical indexes to keep: constraint-backing first, then primary, unique, name."""
    return (
        -int(bool(ix["backs_constraint"])),
        -int(bool(ix["is_primary"])),
        -int(bool(ix["is_unique"])),
        ix["index"],
    )


@check("db.index.invalid", "db.index.duplicate", "db.index.redundant", kind="db",
       requires=(Req.CATALOG_INDEXES, Req.CATALOG_TABLES))
def check_index_shapes(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.indexes is None:
        yield NotApplicable(ev.unavailable("indexes"))
        return
    if not ev.tables:
        yield NotApplicable(NO_TABLES)
        return
    for ix in ev.indexes:
        if not ix["is_valid"]:
            yield Finding("db.index.invalid", _loc(ix), _vars(ix), {"definition": _definition(ix)})
    valid = [ix for ix in ev.indexes if ix["is_valid"]]
    duplicates = set()
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for ix in valid:
        groups.setdefault(_full_key(ix), []).append(ix)
    for group in groups.values():
        group.sort(key=_rank)
        keeper = group[0]
        for other in group[1:]:
            if other["backs_constraint"] or (_protected(other) and not keeper["is_unique"]):
                continue
            duplicates.add(other["index"])
            yield Finding(
                "db.index.duplicate",
                _loc(other),
                _vars(other, other=keeper["index"]),
                {"definition": _definition(other), "same_as": _definition(keeper)},
            )
    yield from _redundant(valid, duplicates)


def _redundant(valid: list[Row], skip: set[str]) -> Iterator[Finding]:
    by_table: dict[int, list[Row]] = {}
    for ix in valid:
        by_table.setdefault(int(ix["table_oid"]), []).append(ix)
    for group in by_table.values():
        for short in group:
            if (
                short["method"] != "btree"
                or _protected(short)
                or short["include_attnums"]
                or short["index"] in skip
            ):
                continue
            n = _nkeys(short)
            for longer in group:
                if longer is short or longer["method"] != "btree" or _nkeys(longer) <= n:
                    continue
                if _key(longer, n) == _key(short):
                    yield Finding(
                        "db.index.redundant",
                        _loc(short),
                        _vars(short, other=longer["index"]),
                        {"definition": _definition(short), "covered_by": _definition(longer)},
                    )
                    break


def _fk_covering(ev: DbEvidence) -> set[tuple[int, str]]:
    by_table: dict[int, list[Row]] = {}
    for ix in ev.indexes or []:
        by_table.setdefault(int(ix["table_oid"]), []).append(ix)
    out = set()
    for fk in ev.foreign_keys or []:
        for ix in by_table.get(int(fk["table_oid"]), []):
            if covers(ix, list(fk["attnums"])):
                out.add((int(ix["table_oid"]), ix["index"]))
    return out


def _unjudged(server: Row, age: float | None, min_days: float) -> str | None:
    """Why idx_scan = 0 proves nothing here, or None when the statistics have enough history."""
    if server.get("in_recovery"):
        return ("this server is a standby (pg_is_in_recovery): its statistics count only the queries it "
                "served since it started, not the primary's")
    if age is None:
        return ("statistics were never reset (pg_stat_database.stats_reset is NULL: a new database, a "
                "standby, a restore or a failover), so how long idx_scan has been counting is unknown")
    if age < min_days * 86400:
        return f"statistics are only {age / 86400:.1f} days old (db_unused_min_stats_days = {min_days:g})"
    return None


def _advised(ev: DbEvidence) -> set[tuple[str, str, tuple[str, ...]]]:
    """(schema, table, columns) of every index the advisor proposed: never advised away as unused."""
    return {
        (c["schema"], c["table"], tuple(c["columns"]))
        for p in ev.plans or []
        for c in p.candidates
        if c.get("verified") is not False
    }


def _is_advised(ix: Row, advised: set[tuple[str, str, tuple[str, ...]]]) -> bool:
    keys = tuple(ix["key_columns"])
    return any(
        s == ix["schema"] and t == ix["table"] and keys[: len(cols)] == cols for s, t, cols in advised
    )


@check("db.index.unused", "db.index.unused-unjudged", kind="db",
       requires=(Req.CATALOG_INDEXES, Req.CATALOG_TABLES, Req.CATALOG_SERVER))
def check_unused(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.indexes is None or ev.server is None:
        yield NotApplicable(ev.unavailable("indexes or statistics"))
        return
    if not ev.tables:
        yield NotApplicable(NO_TABLES)
        return
    age = ev.server.get("stats_age_s")
    why = _unjudged(ev.server, age, ctx.threshold("db_unused_min_stats_days"))
    if why is not None:
        where = {"target": ev.server.get("database"), "scope": "indexes"}
        yield Finding("db.index.unused-unjudged", where, {"reason": why}, {"stats_age_s": age})
        return
    if age is None:  # _unjudged() refuses a missing statistics age; kept explicit for the type checker
        return
    replicas = int(ev.server.get("replicas") or 0)
    replica_note = (
        f" {replicas} replica(s) are connected: their queries are not in these statistics, so check "
        "pg_stat_user_indexes on each before dropping." if replicas else ""
    )
    tables = {int(t["oid"]): t for t in ev.tables or []}
    fk_ix, advised = _fk_covering(ev), _advised(ev)
    for ix in ev.indexes:
        table = tables.get(int(ix["table_oid"]))
        # Partitioned indexes have no scans of their own; on an empty table nothing could use it yet.
        if table is None or table["relkind"] == "p" or not int(table["rows"]):
            continue
        if ix["idx_scan"] or _protected(ix) or not ix["is_valid"]:
            continue
        if (int(ix["table_oid"]), ix["index"]) in fk_ix or _is_advised(ix, advised):
            continue  # dropping it would bring back an unindexed foreign key or a missing index
        yield Finding(
            "db.index.unused",
            _loc(ix),
            _vars(ix, size=_size(ix["bytes"]), stats_age=f"statistics collected over {age / 86400:.1f} days",
                  replica_note=replica_note),
            {"idx_scan": 0, "bytes": ix["bytes"], "stats_age_s": age, "replicas": replicas},
        )


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _distinct(ix: Row, rows: int, stats: dict[tuple[str, str, str], float]) -> float | None:
    nd = stats.get((ix["schema"], ix["table"], ix.get("first_column") or ""))
    if ix.get("first_type") == "boolean":
        return 2.0
    if nd is None:
        return None
    return float(nd) if nd >= 0 else -float(nd) * rows  # negative: a fraction of the rows (pg_stats)


@check("db.index.low-cardinality", "db.index.small-table", kind="db",
       requires=(Req.CATALOG_INDEXES, Req.CATALOG_TABLES))
def check_when_not_to_index(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.indexes is None or ev.tables is None:
        yield NotApplicable(ev.unavailable("indexes"))
        return
    if not ev.tables:
        yield NotApplicable(NO_TABLES)
        return
    rows_of = {int(t["oid"]): int(t["rows"]) for t in ev.tables}
    fk_ix = _fk_covering(ev)
    small, low = ctx.threshold("small_table_rows"), ctx.threshold("db_low_cardinality_distinct")
    for ix in ev.indexes:
        if _protected(ix) or not ix["is_valid"] or (int(ix["table_oid"]), ix["index"]) in fk_ix:
            continue
        rows = rows_of.get(int(ix["table_oid"]), 0)
        if rows == 0:
            continue  # an empty (or never analysed) table says nothing about its indexes yet
        if rows < small:
            yield Finding("db.index.small-table", _loc(ix), _vars(ix, rows=rows), {"rows": rows})
            continue
        distinct = _distinct(ix, rows, ev.column_stats or {})
        if _nkeys(ix) == 1 and not ix["predicate"] and distinct is not None and 0 < distinct <= low:
            column = ix["key_columns"][0] or "(expression)"
            yield Finding(
                "db.index.low-cardinality",
                _loc(ix),
                _vars(ix, column=column, column_type=ix.get("first_type") or "?", distinct=round(distinct)),
                {"n_distinct": distinct, "rows": rows},
            )
