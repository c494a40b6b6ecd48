"""pg_stat_statements -> :class:`WorkloadQuery` rows keyed by the shared fingerprint.

A role without read rights on pg_stat_statements sees ``<insufficient privilege>`` as query text
(pg_stat_statements docs, "Authorization"); those rows are dropped and the report says so.
"""

from __future__ import annotations

from typing import Any

from apiaudit.db.catalog import Collector
from apiaudit.db.workload import WorkloadQuery

HIDDEN = "<insufficient privilege>"


def to_workload(
    rows: list[dict[str, Any]], raw: dict[str, str] | None = None
) -> tuple[list[WorkloadQuery], int]:
    """Rows of statements.sql as workload queries; also how many were hidden by missing rights.

    ``raw`` receives, per fingerprint, the longest original text: the fingerprint folds IN lists of
    any length into one shape, pg_stat_statements keeps one ``$n`` per value (huge-IN-list check).
    """
    from apiaudit.db.fingerprint import fingerprint  # sqlglot: imported only when there are statements

    merged: dict[str, WorkloadQuery] = {}
    hidden = 0
    for row in rows:
        text = str(row.get("query") or "")
        if not text or text == HIDDEN:
            hidden += 1
            continue
        fid, sample = fingerprint(text)
        if raw is not None and len(text) > len(raw.get(fid, "")):
            raw[fid] = text
        calls = int(row.get("calls") or 0)
        total = float(row.get("total_ms") or 0.0)
        nrows = int(row.get("rows") or 0)
        have = merged.get(fid)
        if have is not None:  # two queryids, one shape (e.g. different search_path): add them up
            calls += have.calls
            total += have.total_ms or 0.0
            nrows += have.rows or 0
            sample = have.sample
        merged[fid] = WorkloadQuery(
            fingerprint=fid,
            sample=sample,
            calls=calls,
            source="pg_stat_statements",
            total_ms=total,
            mean_ms=total / calls if calls else None,
            rows=nrows,
        )
    return list(merged.values()), hidden


IO_BEFORE_17 = "s.blk_read_time OPERATOR(pg_catalog.+) s.blk_write_time"
PG17_IO = " OPERATOR(pg_catalog.+) ".join(
    f"s.{kind}_blk_{op}_time" for kind in ("shared", "local") for op in ("read", "write"))


def statements_query(version: int, pgss_schema: str) -> tuple[str, dict[str, str]]:
    """The statements*.sql that fits the server, and its substitutions: pg_stat_statements read through
    its extension's schema (the pinned search_path does not reach it); PG 17 renamed blk_read_time and
    blk_write_time (shared_/local_ variants); PG 12 has total_time (statements_pg12.sql)."""
    from apiaudit.db.naming import quote_ident

    replace = {"{pgss}": quote_ident(pgss_schema)}
    if version >= 170000:
        replace[IO_BEFORE_17] = PG17_IO
    return ("statements" if version >= 130000 else "statements_pg12"), replace


def collect_statements(
    col: Collector, server: dict[str, Any], limit: int, notices: list[str], raw: dict[str, str] | None = None
) -> list[WorkloadQuery] | None:
    if not server.get("has_pgss"):
        notices.append(
            "pg_stat_statements is not installed in this database: no workload from the server "
            "(CREATE EXTENSION pg_stat_statements; it needs shared_preload_libraries)"
        )
        return None
    name, replace = statements_query(int(server.get("version_num") or 0), server.get("pgss_schema") or "public")
    rows = col.rows(name, {"limit": limit}, replace=replace)
    if rows is None:
        notices.append(
            "pg_stat_statements could not be read (missing rights or not preloaded): "
            "query-plan checks use the logs only"
        )
        return None
    queries, hidden = to_workload(rows, raw)
    if hidden:
        notices.append(
            f"{hidden} pg_stat_statements rows hidden by missing privileges "
            "(GRANT pg_read_all_stats TO the audit role)"
        )
    return queries
