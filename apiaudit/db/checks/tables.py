"""Table activity (checklist: database.indexes): large tables read mostly by sequential scans
(corroborating evidence for a missing index) and indexed tables whose updates are rarely HOT
(the guide's "frequently updated columns" under "When NOT to Index")."""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.db.evidence import NO_TABLES, DbEvidence
from apiaudit.db.naming import qualified
from apiaudit.model import Finding
from apiaudit.requirements import Req


@check("db.table.seq-scan-heavy", kind="db", requires=(Req.CATALOG_TABLES,))
def check_seq_scan_heavy(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.tables is None:
        yield NotApplicable(ev.unavailable("table statistics"))
        return
    if not ev.tables:
        yield NotApplicable(NO_TABLES)
        return
    small, min_scans = ctx.threshold("small_table_rows"), ctx.threshold("db_seq_scan_min")
    for t in ev.tables:
        rows, seq, idx = int(t["rows"]), int(t["seq_scan"]), int(t["idx_scan"])
        if t["relkind"] != "r" or rows < small or seq < min_scans or seq <= idx:
            continue
        yield Finding(
            "db.table.seq-scan-heavy",
            {"schema": t["schema"], "table": t["table"], "columns": []},
            {
                "rows": rows,
                "seq_scan": seq,
                "idx_scan": idx,
                "seq_tup_read": int(t["seq_tup_read"]),
                "qualified_table": qualified(t["schema"], t["table"]),
            },
            {"rows": rows, "seq_scan": seq, "idx_scan": idx, "seq_tup_read": int(t["seq_tup_read"])},
        )


@check("db.index.update-heavy", kind="db", requires=(Req.CATALOG_TABLES, Req.CATALOG_INDEXES))
def check_update_heavy(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.tables is None or ev.indexes is None:
        yield NotApplicable(ev.unavailable("table statistics"))
        return
    if not ev.tables:
        yield NotApplicable(NO_TABLES)
        return
    secondary: dict[int, list[str]] = {}
    for ix in ev.indexes:
        if not ix["is_primary"]:
            secondary.setdefault(int(ix["table_oid"]), []).append(ix["index"])
    min_hot = ctx.threshold("db_hot_update_min_pct")
    floor = ctx.threshold("small_table_rows")
    for t in ev.tables:
        upd, hot = int(t["n_tup_upd"]), int(t["n_tup_hot_upd"])
        names = secondary.get(int(t["oid"]), [])
        # "Heavily": at least as many updates as rows (and not a handful on a tiny table).
        if not names or upd < max(floor, int(t["rows"])):
            continue
        hot_pct = 100.0 * hot / upd
        if hot_pct >= min_hot:
            continue
        yield Finding(
            "db.index.update-heavy",
            {"schema": t["schema"], "table": t["table"], "columns": []},
            {
                "updates": upd,
                "hot_pct": round(hot_pct, 1),
                "indexes": len(names),
                "index_list": ", ".join(sorted(names)[:5]),
                "qualified_table": qualified(t["schema"], t["table"]),
            },
            {"n_tup_upd": upd, "n_tup_hot_upd": hot, "rows": int(t["rows"])},
        )
