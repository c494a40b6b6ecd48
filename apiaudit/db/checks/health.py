"""Database health as PgHero shows it: sequences near their type's end and integer key widths that
disagree (database.indexes), transaction ID wraparound age (database.transactions), dead tuples and
tables with autovacuum switched off (database.query_plans), and connection churn from
pg_stat_database's session counters (database.connection_pooling)."""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.db.evidence import DbEvidence, Row
from apiaudit.db.naming import qualified, quote_ident
from apiaudit.model import Finding
from apiaudit.requirements import Req

# Integer widths by the name regtype::text gives them (PostgreSQL docs, 8.1 "Numeric Types").
INT_MAX = {"smallint": 32767, "integer": 2147483647, "bigint": 9223372036854775807}
# reloption values PostgreSQL reads as false (docs, 20.1.2 "Parameter Interaction via ... Boolean")
FALSE_WORDS = frozenset({"false", "off", "no", "0", "f", "n"})


def _database(ev: DbEvidence) -> str:
    return str((ev.server or {}).get("database") or "")


def sequence_fix(row: Row) -> str:
    """Widen the column (when an int2/int4 column caps the sequence) and the sequence to bigint."""
    seq = qualified(row["schema"], row["sequence"])
    steps = []
    if row.get("table") and row.get("column_type") in ("smallint", "integer"):
        steps.append(f"ALTER TABLE {qualified(row['table_schema'], row['table'])} "
                     f"ALTER COLUMN {quote_ident(row['column'])} TYPE bigint;")
    if row.get("sequence_type") != "bigint" or int(row["seq_max"]) < INT_MAX["bigint"]:
        steps.append(f"ALTER SEQUENCE {seq} AS bigint MAXVALUE {INT_MAX['bigint']};")
    return "  ".join(steps) or f"ALTER SEQUENCE {seq} MAXVALUE {INT_MAX['bigint']};"


@check("db.sequence.exhaustion", kind="db", requires=(Req.CATALOG_SEQUENCES,))
def check_sequences(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.sequences is None:
        yield NotApplicable(ev.unavailable("sequences"))
        return
    warn = ctx.threshold("db_sequence_used_pct")
    for s in ev.sequences:
        last, cap = int(s["last_value"]), int(s["cap"])
        used = 100.0 * last / cap if cap > 0 else 100.0
        if used < warn:
            continue
        owned = bool(s.get("table"))
        by_column = owned and cap < int(s["seq_max"])
        column = f"{qualified(s['table_schema'], s['table'])}.{quote_ident(s['column'])}" if owned else ""
        capped_by = (f"its {s['column_type']} column {column}" if by_column
                     else f"the sequence's own maximum ({s['sequence_type']})")
        yield Finding(
            "db.sequence.exhaustion",
            {"schema": s["table_schema"] if owned else s["schema"], "table": s["table"] if owned else s["sequence"],
             "columns": [s["column"]] if owned else [], "sequence": s["sequence"]},
            {"sequence": qualified(s["schema"], s["sequence"]), "used_pct": round(used, 1), "last_value": last,
             "cap": cap, "capped_by": capped_by, "remaining": max(cap - last, 0), "fix_sql": sequence_fix(s)},
            {"last_value": last, "max": cap, "sequence_type": s["sequence_type"],
             "column_type": s.get("column_type"), "cycle": bool(s.get("cycle"))},
        )


@check("db.sequence.key-type-mismatch", kind="db", requires=(Req.CATALOG_KEY_TYPES,))
def check_key_types(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.key_types is None:
        yield NotApplicable(ev.unavailable("foreign key column types"))
        return
    for k in ev.key_types:
        col, ref = str(k["column_type"]), str(k["ref_type"])
        if col not in INT_MAX or ref not in INT_MAX or col == ref:
            continue
        # Widen the narrower side; when it is the referenced key, its own sequence needs widening too.
        if INT_MAX[col] < INT_MAX[ref]:
            narrow, fix = "referencing", (f"ALTER TABLE {qualified(k['schema'], k['table'])} "
                                          f"ALTER COLUMN {quote_ident(k['column'])} TYPE {ref};")
        else:
            narrow, fix = "referenced", (f"ALTER TABLE {qualified(k['ref_schema'], k['ref_table'])} "
                                         f"ALTER COLUMN {quote_ident(k['ref_column'])} TYPE {col};")
            if k.get("ref_sequence"):  # already quoted by pg_get_serial_sequence
                fix += f"  ALTER SEQUENCE {k['ref_sequence']} AS {col};"
        yield Finding(
            "db.sequence.key-type-mismatch",
            {"schema": k["schema"], "table": k["table"], "columns": [k["column"]], "constraint": k["constraint"]},
            {"column": f"{qualified(k['schema'], k['table'])}.{quote_ident(k['column'])}", "column_type": col,
             "ref_column": f"{qualified(k['ref_schema'], k['ref_table'])}.{quote_ident(k['ref_column'])}",
             "ref_type": ref, "narrow": narrow, "fix_sql": fix},
            {"constraint": k["constraint"], "column_type": col, "ref_type": ref},
        )


@check("db.health.xid-wraparound", kind="db", requires=(Req.CATALOG_XID_AGE,))
def check_xid_age(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.xid_age is None:
        yield NotApplicable(ev.unavailable("transaction ID ages"))
        return
    warn = ctx.threshold("db_xid_age_warn_pct")
    for r in ev.xid_age:
        age, limit = int(r["xid_age"]), int(r["freeze_max_age"])
        pct = 100.0 * age / limit if limit > 0 else 0.0
        if pct < warn:
            continue
        if r["scope"] == "database":
            what, loc = f"database {quote_ident(r['database'])}", {"target": r["database"], "scope": "database"}
            fix = f"VACUUM (FREEZE, VERBOSE);  -- connected to database {quote_ident(r['database'])}"
        else:
            table = qualified(r["schema"], r["table"])
            what, loc = f"table {table}", {"schema": r["schema"], "table": r["table"], "columns": []}
            fix = f"VACUUM (FREEZE, VERBOSE) {table};"
        yield Finding(
            "db.health.xid-wraparound",
            loc,
            {"what": what, "xid_age": age, "pct": round(pct, 4 if pct < 1 else 1), "freeze_max_age": limit,
             "fix_sql": fix},
            {"xid_age": age, "autovacuum_freeze_max_age": limit},
        )


def autovacuum_off(value: object) -> bool:
    return value is not None and str(value).strip().lower() in FALSE_WORDS


@check("db.health.dead-tuples", "db.health.autovacuum-disabled", kind="db", requires=(Req.CATALOG_VACUUM,))
def check_vacuum(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.vacuum is None:
        yield NotApplicable(ev.unavailable("vacuum statistics"))
        return
    ratio_max, dead_min = ctx.threshold("db_dead_tuple_pct"), ctx.threshold("db_dead_tuples_min")
    for t in ev.vacuum:
        table = qualified(t["schema"], t["table"])
        loc = {"schema": t["schema"], "table": t["table"], "columns": []}
        live, dead = int(t["n_live_tup"]), int(t["n_dead_tup"])
        off = autovacuum_off(t.get("autovacuum_enabled"))
        if off:
            yield Finding(
                "db.health.autovacuum-disabled", loc,
                {"qualified_table": table, "dead": dead, "live": live},
                {"autovacuum_enabled": t["autovacuum_enabled"], "n_dead_tup": dead},
            )
        pct = 100.0 * dead / max(live, 1)
        if dead >= dead_min and pct >= ratio_max:
            age = t.get("vacuum_age_s")
            yield Finding(
                "db.health.dead-tuples", loc,
                {"qualified_table": table, "dead": dead, "live": live, "pct": round(pct),
                 "last_vacuum": "never" if age is None else f"{round(float(age) / 3600, 1)} h ago",
                 "autovacuum": "switched off for this table" if off else "on"},
                {"n_dead_tup": dead, "n_live_tup": live, "vacuum_age_s": age},
            )


@check("db.pool.session-churn", kind="db", requires=(Req.CATALOG_SESSIONS,))
def check_churn(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.sessions is None:
        yield NotApplicable(ev.unavailable("session counters"))
        return
    per_min_max, min_sessions = ctx.threshold("db_sessions_per_min_max"), ctx.threshold("db_churn_min_sessions")
    for r in ev.sessions:
        sessions, window = int(r["sessions"]), max(float(r["window_s"]), 1.0)
        rate = 60.0 * sessions / window
        if sessions < min_sessions or rate < per_min_max:
            continue
        avg_ms = float(r["session_time_ms"]) / sessions
        yield Finding(
            "db.pool.session-churn",
            {"target": r["database"], "scope": "sessions"},
            {"database": r["database"], "per_min": round(rate, 1), "sessions": sessions,
             "minutes": round(window / 60, 1), "since": "the last statistics reset" if r["since_reset"]
             else "the server started", "avg_ms": round(avg_ms, 1),
             "backends": int(r["backends"]), "max_connections": int(r["max_connections"])},
            {"sessions": sessions, "window_s": round(window), "session_time_ms": float(r["session_time_ms"]),
             "numbackends": int(r["backends"]), "max_connections": int(r["max_connections"]),
             "superuser_reserved_connections": int(r["reserved_connections"])},
        )
