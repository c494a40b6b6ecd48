"""Collect everything the db checks read over one read-only session (IO only)."""

from __future__ import annotations

import sys
from typing import Any

from apiaudit.db.catalog import Collector, collect_catalog, collect_settings
from apiaudit.db.connect import SessionSettings, apply_timeouts, connect, verify_session
from apiaudit.db.dsn import workload_search_path
from apiaudit.db.evidence import DbEvidence
from apiaudit.db.explain import DEFAULT_PATH, ExplainPolicy, set_policy
from apiaudit.db.sqlfiles import scope_params
from apiaudit.db.statements import collect_statements
from apiaudit.db.usercode import DEFAULT_ALLOWED_EXTENSIONS
from apiaudit.db.workload import WorkloadQuery, merge_workloads
from apiaudit.errors import AuditError
from apiaudit.redact import redact_text


def collect_database(
    options: Any, cfg: Any, ev: DbEvidence, log_workload: list[WorkloadQuery], errors: list[dict[str, str]]
) -> dict[str, Any]:
    settings = SessionSettings(
        options.statement_timeout_ms, options.lock_timeout_ms, options.connect_timeout_s,
        deadline=getattr(options, "deadline", None),
    )
    conn = connect(options.dsn, settings)
    try:
        col = Collector(conn, errors)
        collect_settings(col, ev)
        try:
            apply_timeouts(conn, settings)
        except Exception as exc:  # psycopg.Error: the session is unusable without its timeouts
            raise AuditError(f"cannot set the session's timeouts: {redact_text(str(exc).strip())}") from None
        verify_session(conn)
        server = col.rows("server")
        if not server:
            raise AuditError(
                "connected, but the server facts query failed: "
                + (errors[-1]["message"] if errors else "no row")
            )
        ev.server = server[0]
        role_warnings(col, options, errors)
        collect_catalog(col, ev, options.schemas)
        ev.statements = collect_statements(col, ev.server, options.workload_limit, ev.notices, ev.raw_samples)
        ev.workload = merge_workloads(ev.statements or [], log_workload)
        ev.hypopg = _hypopg(ev, options)
        set_policy(conn, explain_policy(options, cfg, ev))
        ev.plans = _advise(conn, col, ev, options, cfg)
        errors.extend(plan_errors(ev.plans))
        _parse_notice(ev)
        _user_code_notice(ev)
        return {
            "queries": len(ev.workload),
            "explained": sum(1 for p in ev.plans if p.plan is not None),
            "refused": sum(1 for p in ev.plans if p.refused),
            "catalog_queries": col.queries,
            "tables": len(ev.tables or []),
            "indexes": len(ev.indexes or []),
            "foreign_keys": len(ev.foreign_keys or []),
        }
    finally:
        conn.close()


def _advise(conn: Any, col: Collector, ev: DbEvidence, options: Any, cfg: Any) -> list[Any]:
    if not ev.workload or ev.server is None:
        return []
    from apiaudit.db.advisor import run_advisor  # sqlglot: imported only when there is a workload

    return run_advisor(conn, col, ev, int(ev.server["version_num"]), _advisor_options(options, cfg, ev))


def plan_errors(plans: list[Any]) -> list[dict[str, str]]:
    """One error entry per workload query whose EXPLAIN failed (lock timeout, statement timeout,
    planning error), so every output format says the query was not judged, not only measurements."""
    out = []
    for p in plans:
        if not p.error:
            continue
        what = "EXPLAIN ANALYZE failed" if p.plan is not None else "not EXPLAINed"
        sample = p.sample if len(p.sample) <= 120 else p.sample[:120] + " …"
        out.append({"where": f"explain {p.fingerprint}", "message": f"{what}: {p.error} ({sample})"})
    return out


def explain_policy(options: Any, cfg: Any, ev: DbEvidence) -> ExplainPolicy:
    """The workload's search_path (DSN options, PGOPTIONS), the user-code switch, HypoPG's schema."""
    db = dict(getattr(cfg, "db", {}) or {})
    path = workload_search_path(options.dsn) if options.dsn else None
    allowed = db.get("trusted_extensions")
    return ExplainPolicy(
        search_path=tuple(path) if path is not None else DEFAULT_PATH,
        allow_user_code=bool(getattr(options, "explain_user_functions", False)),
        allowed_extensions=tuple(str(a) for a in allowed) if allowed else DEFAULT_ALLOWED_EXTENSIONS,
        hypopg_schema=(ev.server or {}).get("hypopg_schema"),
    )


def role_warnings(col: Collector, options: Any, errors: list[dict[str, str]]) -> None:
    """Warn (errors list and stderr, never the gate) when the audit role could write or is a superuser."""
    rows = col.rows("role", scope_params(options.schemas))
    if not rows:
        return
    r = rows[0]
    rights = []
    if r["superuser"]:
        rights.append("is a superuser")
    if r["writable_tables"]:
        rights.append(f"may INSERT/UPDATE/DELETE/TRUNCATE {r['writable_tables']} table(s)")
    if r["create_schemas"]:
        rights.append(f"may CREATE in schema(s) {', '.join(r['create_schemas'][:5])}")
    if r["create_in_database"]:
        rights.append("may CREATE schemas in the database")
    if not rights:
        return
    message = (
        f"the audit role {r['role']} {'; '.join(rights)}: more than an audit needs. Use a role with "
        "pg_monitor, pg_read_all_stats and CONNECT only (README, \"Safety\": the database role)"
    )
    errors.append({"where": "database role", "message": message})
    if not getattr(options, "quiet", False):
        print(f"apiaudit: warning: {message}", file=sys.stderr)


def _user_code_notice(ev: DbEvidence) -> None:
    refused = [p.fingerprint for p in ev.plans or [] if (p.refused or "").startswith("not explained:")]
    if refused:
        ev.notices.append(
            f"{len(refused)} workload statement(s) not explained because planning them could run "
            f"user-defined code ({', '.join(refused[:5])}; see each plan's reason): pass "
            "--explain-user-functions if that code is trusted"
        )


def _parse_notice(ev: DbEvidence) -> None:
    unparsed = [p.fingerprint for p in ev.plans or [] if (p.refused or "").startswith("not parseable")]
    if unparsed:
        ev.notices.append(
            f"{len(unparsed)} workload statement(s) could not be parsed by sqlglot "
            f"({', '.join(unparsed[:5])}): kept in the workload, not EXPLAINed, AST checks skipped"
        )


def _advisor_options(options: Any, cfg: Any, ev: DbEvidence) -> Any:
    from apiaudit.db.advisor import AdvisorOptions

    drop = (
        options.min_cost_drop
        if options.min_cost_drop is not None
        else cfg.threshold("db_min_cost_drop_pct") / 100
    )
    return AdvisorOptions(
        top=options.top,
        analyze=options.analyze,
        hypopg=ev.hypopg,
        min_cost_drop=drop,
        small_rows=cfg.threshold("small_table_rows"),
        min_cost=cfg.threshold("db_advisor_min_cost"),
    )


def _hypopg(ev: DbEvidence, options: Any) -> bool:
    server = ev.server or {}
    if not options.hypopg:
        ev.notices.append("HypoPG verification disabled by configuration: index candidates are unverified")
        return False
    if server.get("has_hypopg"):
        return True
    how = (
        "CREATE EXTENSION hypopg"
        if server.get("hypopg_available")
        else "install HypoPG, then CREATE EXTENSION hypopg"
    )
    ev.notices.append(
        f"HypoPG is not installed in this database ({how}): index candidates are unverified, lower confidence"
    )
    return False
