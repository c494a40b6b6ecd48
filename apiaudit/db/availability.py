"""What a db audit could measure: ``DbEvidence.available(req)`` for the evidence contract
(apiaudit.requirements). Pure: reads the evidence only (also on --from-evidence).

A catalog query that failed (permission denied, statement timeout) leaves its evidence ``None`` and
its reason in ``DbEvidence.refused``; a role without pg_read_all_stats sees other roles' sessions in
pg_stat_activity with a NULL state (the activity query shows them as "unknown"); a query log written
with log_min_duration_statement > 0 holds only slow statements (``LogEvidence.sampled``).
"""

from __future__ import annotations

from typing import Any

from apiaudit.requirements import Availability, NotAsked, Req

NO_DATABASE = NotAsked("no database given (apiaudit db DSN)")
NO_LOG = NotAsked("no query log given (apiaudit db --log FILE)")
# Catalog requirement -> (DbEvidence attribute, query name in apiaudit/db/sql, what it reads)
CATALOG: dict[Req, tuple[str, str, str]] = {
    Req.CATALOG_SERVER: ("server", "server", "server facts"),
    Req.CATALOG_SETTINGS: ("settings", "settings", "pg_settings"),
    Req.CATALOG_TABLES: ("tables", "tables", "table statistics (pg_stat_user_tables)"),
    Req.CATALOG_INDEXES: ("indexes", "indexes", "indexes (pg_index)"),
    Req.CATALOG_FOREIGN_KEYS: ("foreign_keys", "foreign_keys", "foreign keys (pg_constraint)"),
    Req.CATALOG_ACTIVITY: ("activity", "activity", "sessions (pg_stat_activity)"),
    Req.CATALOG_COLUMN_STATS: ("column_stats", "column_stats", "column statistics (pg_stats)"),
    Req.CATALOG_STATEMENTS: ("statements", "statements", "pg_stat_statements"),
    Req.CATALOG_SEQUENCES: ("sequences", "sequences", "sequences (pg_sequence)"),
    Req.CATALOG_KEY_TYPES: ("key_types", "key_types", "foreign key column types (pg_attribute)"),
    Req.CATALOG_XID_AGE: ("xid_age", "xid_age", "transaction ID ages (pg_database, pg_class)"),
    Req.CATALOG_VACUUM: ("vacuum", "vacuum", "vacuum statistics (pg_stat_all_tables)"),
    Req.CATALOG_SESSIONS: ("sessions", "sessions", "session counters (pg_stat_database)"),
}
HIDDEN_STATE = "unknown"  # activity.sql: COALESCE(a.state, 'unknown')


def available(ev: Any, req: Req) -> Availability:
    if req in CATALOG:
        return _catalog(ev, req)
    if req is Req.PRIV_READ_ALL_STATS:
        return _read_all_stats(ev)
    if req is Req.WORKLOAD:
        return True if ev.workload else (NO_DATABASE if ev.target is None and ev.logs is None
                                         else "no query workload (pg_stat_statements or a query log) was read")
    if req is Req.EXPLAIN_PLANS:
        if ev.target is None:
            return NO_DATABASE
        return True if any(p.plan is not None for p in ev.plans or []) else "no workload query could be EXPLAINed"
    return _log(ev.logs, req)


def _catalog(ev: Any, req: Req) -> Availability:
    attr, query, what = CATALOG[req]
    if getattr(ev, attr, None) is not None:
        return True
    if ev.target is None:
        return NO_DATABASE
    if not ev.connected:
        return "could not connect to the database"
    why = (getattr(ev, "refused", None) or {}).get(query)
    return f"{what} could not be read" + (f": {why}" if why else "")


def _read_all_stats(ev: Any) -> Availability:
    got = _catalog(ev, Req.CATALOG_ACTIVITY)
    if got is not True:
        return got
    hidden = sum(int(a.get("connections") or 0) for a in ev.activity if a.get("state") == HIDDEN_STATE)
    if ev.server.get("reads_all_stats") is False or hidden:
        return ("this role lacks pg_read_all_stats: pg_stat_activity hides other roles' sessions and their "
                "state (an idle-in-transaction session is invisible); grant pg_read_all_stats "
                "(PostgreSQL docs, 28.2.3 \"pg_stat_activity\")")
    return True


def _log(logs: Any, req: Req) -> Availability:
    if logs is None:
        return NO_LOG
    stats = logs.stats or {}
    if not int(stats.get("log_statements") or 0):
        return "the query log holds no statements (unreadable file, or log_statement/log_min_duration off)"
    if int(stats.get("log_unparsed") or 0) > int(stats.get("log_parsed") or 0):
        return (f"most lines of the query log could not be parsed ({stats.get('log_unparsed')} of "
                f"{stats.get('log_lines')}): wrong --log-prefix or --log-format")
    if req is Req.EVERY_STATEMENT_LOGGED and getattr(logs, "sampled", False):
        ms = getattr(logs, "min_duration_ms", None)
        about = f" (about {ms:.0f} ms)" if isinstance(ms, (int, float)) else ""
        return (f"the query log is sampled: it holds only statements slower than log_min_duration_statement"
                f"{about}; what it does not show cannot be judged (set log_min_duration_statement = 0)")
    if req is Req.TRANSACTION_BOUNDARIES and logs.grouping:
        return str(logs.grouping)
    return True
