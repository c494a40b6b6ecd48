"""Collect catalog evidence: one set-based query per question, never one per table.

Each collector returns rows or ``None`` and records the failure, so one refused view (a role
without rights, a statement timeout) costs one item, not the audit. Every query runs in its own
read-only, rolled-back transaction with the search_path pinned to pg_catalog (``connect.readonly``).
"""

from __future__ import annotations

from typing import Any

from apiaudit.db.connect import readonly
from apiaudit.db.evidence import DbEvidence, Row
from apiaudit.db.sqlfiles import load_sql, scope_params
from apiaudit.redact import redact_text

# Settings the pool/transaction checks read (PostgreSQL docs, "Client Connection Defaults").
SETTING_NAMES = [
    "max_connections",
    "superuser_reserved_connections",
    "idle_in_transaction_session_timeout",
    "statement_timeout",
    "idle_session_timeout",
    "shared_buffers",
]


class Collector:
    """Runs queries on one connection and keeps errors instead of raising them."""

    def __init__(self, conn: Any, errors: list[dict[str, str]]) -> None:
        self.conn = conn
        self.errors = errors
        self.queries = 0

    def rows(self, name: str, params: dict[str, Any] | None = None, *, replace: dict[str, str] | None = None
             ) -> list[Row] | None:
        try:
            self.queries += 1
            return fetch_all(self.conn, name, params, replace=replace)
        except Exception as exc:  # psycopg.Error, timeouts: recorded, the audit goes on
            self.errors.append({"where": f"db query {name}", "message": redact_text(_first_line(exc))})
            _recover(self.conn)
            return None


def fetch_all(
    conn: Any, name: str, params: dict[str, Any] | None = None, *, replace: dict[str, str] | None = None
) -> list[Row]:
    """Run one named query of ``apiaudit/db/sql`` (pinned, read-only, rolled back); rows as dicts.
    ``replace``: fixed text substitutions (an extension's schema, a version's column names)."""
    from psycopg.rows import dict_row

    text = load_sql(name)
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    with readonly(conn, row_factory=dict_row) as cur:
        cur.execute(text, params or {})
        return [dict(r) for r in cur.fetchall()]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _recover(conn: Any) -> None:
    try:
        if conn.info.transaction_status != 0:  # not idle: a failed ROLLBACK left a transaction open
            conn.execute("ROLLBACK")
    except Exception:  # the connection may be gone; later queries will say so
        pass


def collect_settings(col: Collector, ev: DbEvidence) -> None:
    """Run first, before this session sets its own timeouts (see ``connect``)."""
    ev.settings = col.rows("settings", {"names": SETTING_NAMES})


def collect_catalog(col: Collector, ev: DbEvidence, schemas: list[str]) -> None:
    scope = scope_params(schemas)
    ev.tables = col.rows("tables", scope)
    ev.indexes = col.rows("indexes", scope)
    ev.foreign_keys = col.rows("foreign_keys", scope)
    ev.activity = col.rows("activity")
    collect_health(col, ev, scope)
    stats = col.rows("column_stats", {**scope, "tables": []})
    if stats is not None:
        ev.column_stats = {(r["schema"], r["table"], r["column"]): float(r["n_distinct"]) for r in stats}


# pg_stat_database.sessions / session_time exist from PostgreSQL 14.
SESSIONS_MIN_VERSION = 140000


def collect_health(col: Collector, ev: DbEvidence, scope: dict[str, Any]) -> None:
    """Sequences, key widths, XID age, vacuum and session counters (apiaudit.db.checks.health)."""
    ev.sequences = collect_sequences(col, scope)
    ev.key_types = col.rows("key_types", scope)
    ev.xid_age = col.rows("xid_age")
    ev.vacuum = col.rows("vacuum", scope)
    if int((ev.server or {}).get("version_num") or 0) >= SESSIONS_MIN_VERSION:
        ev.sessions = col.rows("sessions")
    else:
        ev.refused["sessions"] = "pg_stat_database has no session counters before PostgreSQL 14"


SEQUENCE_BATCH = 1000  # sequences read (and locked) per transaction
SEQUENCES_KEPT = 200  # the most used ones kept in the evidence


def collect_sequences(col: Collector, scope: dict[str, Any]) -> list[Row] | None:
    """All sequences in batches by oid; the most used ``SEQUENCES_KEPT`` that were ever called."""
    kept: list[Row] = []
    after = 0
    while True:
        rows = col.rows("sequences", {**scope, "after_oid": after, "batch": SEQUENCE_BATCH})
        if rows is None:
            return None
        kept.extend(r for r in rows if r["last_value"] is not None)
        kept = sorted(kept, key=lambda r: -float(r["used_pct"]))[:SEQUENCES_KEPT]
        if len(rows) < SEQUENCE_BATCH:  # one row per sequence of the batch (owned by one column at most)
            return kept
        after = max(int(r["oid"]) for r in rows)
