"""Collect everything the db checks read over one read-only session (IO only)."""

from __future__ import annotations

from typing import Any

from apiaudit.db.catalog import Collector, collect_catalog, collect_settings
from apiaudit.db.connect import SessionSettings, apply_timeouts, connect
from apiaudit.db.evidence import DbEvidence
from apiaudit.db.statements import collect_statements
from apiaudit.db.workload import WorkloadQuery, merge_workloads
from apiaudit.errors import AuditError
from apiaudit.redact import redact_text


def collect_database(
    options: Any, cfg: Any, ev: DbEvidence, log_workload: list[WorkloadQuery], errors: list[dict[str, str]]
) -> dict[str, Any]:
    settings = SessionSettings(
        options.statement_timeout_ms, options.lock_timeout_ms, options.connect_timeout_s
    )
    conn = connect(options.dsn, settings)
    try:
        col = Collector(conn, errors)
        collect_settings(col, ev)
        try:
            apply_timeouts(conn, settings)
        except Exception as exc:  # psycopg.Error: the session is unusable without its timeouts
            raise AuditError(f"cannot set the session's timeouts: {redact_text(str(exc).strip())}") from None
        server = col.rows("server")
        if not server:
            raise AuditError(
                "connected, but the server facts query failed: "
                + (errors[-1]["message"] if errors else "no row")
            )
        ev.server = server[0]
        collect_catalog(col, ev, options.schemas)
        ev.statements = collect_statements(col, ev.server, options.workload_limit, ev.notices, ev.raw_samples)
        ev.workload = merge_workloads(ev.statements or [], log_workload)
        ev.hypopg = _hypopg(ev, options)
        ev.plans = _advise(conn, col, ev, options, cfg)
        errors.extend(plan_errors(ev.plans))
        _parse_notice(ev)
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
