"""The db audit entry point: logs (optional) -> connect -> catalog -> workload -> EXPLAIN -> checks -> report.

IO lives here and in the collectors it calls; checks only read the :class:`DbEvidence`. A failing
collector costs its own checklist items (recorded in ``errors``); exit 3 only when neither the
database nor any log could be read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from apiaudit.assemble import assemble, utc_now
from apiaudit.checks import CheckContext, run_checks
from apiaudit.db.dsn import checked_dsn, display_dsn
from apiaudit.db.evidence import DbEvidence
from apiaudit.db.workload import WorkloadQuery, merge_workloads
from apiaudit.deadline import DEFAULT_DEADLINE_S, Deadline
from apiaudit.errors import AuditError, UsageError
from apiaudit.model import Report
from apiaudit.redact import redact_text

DEFAULT_TOP = 20  # workload queries EXPLAINed
# The catalog evidence a db audit reads; all of it refused = nothing audited (exit 3).
CATALOG_EVIDENCE = ("settings", "tables", "indexes", "foreign_keys", "activity", "column_stats")
DEFAULT_REPORT_WORKLOAD = 50  # DESIGN.md: workload lists the top 50
DEFAULT_STATEMENTS = 500  # pg_stat_statements rows read
NO_STATEMENTS = (
    "the log(s) hold no SQL statement: set log_statement = 'all' or log_min_duration_statement = 0 "
    "(PostgreSQL docs, 20.8 \"What to Log\")"
)


@dataclass
class DbOptions:
    dsn: str | None
    logs: list[str] = field(default_factory=list)
    log_format: str | None = None
    log_prefix: str | None = None
    analyze: bool = False
    explain_user_functions: bool = False  # EXPLAIN statements that reach user-defined code
    top: int = DEFAULT_TOP
    statement_timeout_ms: int = 5000
    lock_timeout_ms: int = 1000
    connect_timeout_s: float = 5.0
    hypopg: bool = True
    min_cost_drop: float | None = None  # fraction; None: the db_min_cost_drop_pct threshold
    workload_limit: int = DEFAULT_STATEMENTS
    schemas: list[str] = field(default_factory=list)
    log_options: dict[str, Any] = field(default_factory=dict)
    save_evidence: str | None = None
    from_evidence: str | None = None
    verbose: bool = False
    quiet: bool = False
    deadline_s: float = DEFAULT_DEADLINE_S["db"]
    deadline: Deadline | None = None  # started by run_db_audit

    @classmethod
    def from_cli(
        cls,
        cfg: Any,
        *,
        dsn: str | None,
        logs: list[str],
        log_format: str | None,
        log_prefix: str | None,
        analyze: bool,
        top: int | None,
        statement_timeout_ms: int | None,
        verbose: bool = False,
        quiet: bool = False,
        save_evidence: str | None = None,
        from_evidence: str | None = None,
        explain_user_functions: bool = False,
    ) -> DbOptions:
        db = dict(getattr(cfg, "db", {}) or {})
        target, paths = _targets(cfg, dsn, logs, from_evidence)
        top_n = top if top is not None else int(db.get("top_queries", DEFAULT_TOP))
        timeout = (
            statement_timeout_ms
            if statement_timeout_ms is not None
            else int(db.get("statement_timeout_ms", 5000))
        )
        if top_n < 1:
            raise UsageError(f"--top must be at least 1 (got {top_n})")
        if timeout < 1:
            raise UsageError(f"--statement-timeout must be at least 1 ms (got {timeout})")
        logs_cfg = dict(getattr(cfg, "logs", {}) or {})
        if target:  # the default --log-database: a shared server log's other databases stay out
            from apiaudit.db.logs.filters import dsn_database

            logs_cfg["dsn_database"] = dsn_database(target)
        return cls(
            dsn=checked_dsn(target) if target else None,
            logs=paths,
            log_format=log_format or logs_cfg.get("format"),
            log_prefix=log_prefix or logs_cfg.get("prefix"),
            analyze=analyze or bool(db.get("analyze", False)),
            explain_user_functions=explain_user_functions or bool(db.get("explain_user_functions", False)),
            top=top_n,
            statement_timeout_ms=timeout,
            **_db_section(db),
            log_options=logs_cfg,
            verbose=verbose,
            quiet=quiet,
            save_evidence=save_evidence,
            from_evidence=from_evidence,
        )


def _targets(
    cfg: Any, dsn: str | None, logs: list[str], from_evidence: str | None
) -> tuple[str | None, list[str]]:
    """The DSN and log paths from the command line, else from apiaudit.yaml ``targets``."""
    if from_evidence:
        if dsn:
            raise UsageError("--from-evidence replays saved evidence: give it without a DSN")
        return None, list(logs)
    targets = dict(getattr(cfg, "targets", {}) or {})
    target = dsn or targets.get("database")
    paths = list(logs) or list(targets.get("logs") or [])
    if not target and not paths:
        raise UsageError(
            "give a DSN (apiaudit db postgresql://user@host/db) or --log FILE, "
            "or set targets.database in apiaudit.yaml"
        )
    return target, paths


def _db_section(db: dict[str, Any]) -> dict[str, Any]:
    """Options that only apiaudit.yaml's ``db:`` section sets."""
    return {
        "lock_timeout_ms": int(db.get("lock_timeout_ms", 1000)),
        "connect_timeout_s": float(db.get("connect_timeout_s", 5.0)),
        "hypopg": bool(db.get("hypopg", True)),
        "min_cost_drop": _fraction(db.get("min_cost_drop")),
        "workload_limit": int(db.get("workload_limit", DEFAULT_STATEMENTS)),
        "schemas": list(db.get("schemas") or []),
    }


def _fraction(value: Any) -> float | None:
    """db.min_cost_drop accepts 0.5 or 50 (per cent)."""
    if value is None:
        return None
    number = float(value)
    return number / 100 if number > 1 else number


def _analyze_logs(options: DbOptions, errors: list[dict[str, str]]) -> Any:
    try:
        from apiaudit.db.logs import analyze_logs
    except ImportError:
        errors.append(
            {"where": "logs", "message": "query-log analysis is not available in this build; --log ignored"}
        )
        return None
    try:
        result = analyze_logs(
            options.logs, fmt=options.log_format, prefix=options.log_prefix, options=options.log_options
        )
    except (UsageError, AuditError):
        raise
    except Exception as exc:  # a broken parser must not sink the database half
        errors.append({"where": "logs", "message": redact_text(f"{type(exc).__name__}: {exc}")})
        return None
    errors.extend(getattr(result, "errors", None) or [])
    return result


def run_db_audit(options: DbOptions, cfg: Any) -> Report:
    started, t0 = utc_now(), time.monotonic()
    options.deadline = Deadline(options.deadline_s)
    errors: list[dict[str, str]] = []
    log_ev = _analyze_logs(options, errors) if options.logs else None
    log_workload: list[WorkloadQuery] = list(getattr(log_ev, "workload", None) or [])
    if options.from_evidence:
        from apiaudit.db import evidence_io

        ev, stats = evidence_io.load(options.from_evidence), {"replayed": True}
        ev.workload = merge_workloads(ev.statements or [], log_workload)
    else:
        ev, stats = _collect(options, cfg, log_ev, log_workload, errors)
    ev.logs = log_ev
    ev.refused.update(refused_queries(errors))
    if options.save_evidence:
        from apiaudit.db import evidence_io

        evidence_io.save(ev, options.save_evidence)
    stats.update(_log_stats(log_ev))
    ctx = CheckContext(ruleset=cfg.ruleset, thresholds=cfg.thresholds, options={"analyze": options.analyze})
    run = run_checks("db", ev, ctx)
    for notice in ev.notices:
        errors.append({"where": "notice", "message": notice})
    from apiaudit.db.measure import measurements

    return assemble(
        kind="db",
        targets=[t for t in [ev.target, *options.logs] if t],
        run=run,
        ruleset=cfg.ruleset,
        started_at=started,
        duration_s=time.monotonic() - t0,
        stats=stats,
        errors=errors,
        workload=[q.to_dict() for q in ev.workload[:DEFAULT_REPORT_WORKLOAD]],
        measurements={**_log_measurements(log_ev), **measurements(ev)},
    )


def _collect(
    options: DbOptions, cfg: Any, log_ev: Any, log_workload: list[WorkloadQuery], errors: list[dict[str, str]]
) -> tuple[DbEvidence, dict[str, Any]]:
    """Database evidence over one read-only session; exit 3 only if the logs cannot stand in."""
    from apiaudit.db.collect import collect_database

    ev = DbEvidence(target=display_dsn(options.dsn) if options.dsn else None)
    ev.logs = log_ev  # the advisor EXPLAINs with the values the log recorded
    stats: dict[str, Any] = {}
    if options.dsn:
        try:
            stats = collect_database(options, cfg, ev, log_workload, errors)
            if ev.connected and all(getattr(ev, name) is None for name in CATALOG_EVIDENCE):
                # Connected, but every catalog question was refused: nothing of the database was seen.
                refused = refused_queries(errors)
                first = next(iter(refused.values()), "no rows")
                raise AuditError(f"could not audit the database: every catalog query was refused "
                                 f"({len(refused)} of {len(CATALOG_EVIDENCE) + 1}; first: {first})")
        except AuditError as exc:
            if options.deadline is not None and options.deadline.expired():
                exc = AuditError(f"{options.deadline.reached('(--deadline / db.deadline_s)')}: {exc}")
            if not _logs_usable(log_ev):
                raise exc from None
            errors.append({"where": "database", "message": str(exc)})
        else:
            if options.deadline is not None and options.deadline.expired():
                errors.append({"where": "deadline", "message": deadline_cut(options.deadline, ev)})
    if not ev.connected:
        ev.workload = merge_workloads(log_workload)
        if not _logs_usable(log_ev):
            if log_ev is not None and log_ev.read_any:
                errors.append({"where": "logs", "message": NO_STATEMENTS})
            raise AuditError("nothing could be audited: " + _error_lines(errors))
    return ev, stats


def deadline_cut(deadline: Deadline, ev: DbEvidence) -> str:
    """What the database half finished before its session was cut by the deadline."""
    parts = {"settings": ev.settings, "tables": ev.tables, "indexes": ev.indexes, "foreign keys": ev.foreign_keys,
             "activity": ev.activity, "pg_stat_statements": ev.statements}
    done = [name for name, value in parts.items() if value is not None]
    cut = [name for name, value in parts.items() if value is None]
    explained = sum(1 for p in ev.plans or [] if p.plan is not None)
    return (f"{deadline.reached('(--deadline / db.deadline_s)')}: the database session was cut; finished: "
            f"{', '.join(done) or 'nothing'}, {explained} of {len(ev.workload or [])} workload queries "
            f"EXPLAINed; not finished: {', '.join(cut) or 'EXPLAIN of the rest'}")


def refused_queries(errors: list[dict[str, str]]) -> dict[str, str]:
    """Catalog queries that failed (``db query <name>`` errors from the collector) -> their message."""
    out: dict[str, str] = {}
    for e in errors:
        where = str(e.get("where", ""))
        if where.startswith("db query "):
            out.setdefault(where[len("db query "):], str(e.get("message", "")))
    return out


def _error_lines(errors: list[dict[str, str]]) -> str:
    """The first error entries with their ``where`` (which log file, the database...)."""
    shown = "; ".join(f"{e.get('where', '?')}: {e.get('message', '')}" for e in errors[:5])
    more = len(errors) - 5
    return shown + (f"; and {more} more" if more > 0 else "") if shown else "no database and no readable log"


def _logs_usable(log_ev: Any) -> bool:
    """Some log file was read and held statements (unreadable files, or a log written with
    log_statement = 'none', audit nothing: exit 3 rather than a report of not_assessed items)."""
    if log_ev is None or not getattr(log_ev, "read_any", False):
        return False
    stats = getattr(log_ev, "stats", None) or {}
    # Mostly unparsable (a wrong --log-prefix, a format not recognised): what was read is noise.
    return int(stats.get("log_statements") or 0) > 0 and not mostly_unparsed(stats)


def mostly_unparsed(stats: dict[str, Any]) -> bool:
    return int(stats.get("log_unparsed") or 0) > int(stats.get("log_parsed") or 0)


def _log_measurements(log_ev: Any) -> dict[str, Any]:
    got = getattr(log_ev, "measurements", None)
    return dict(got) if isinstance(got, dict) else {}


def _log_stats(log_ev: Any) -> dict[str, Any]:
    raw = getattr(log_ev, "stats", None)
    if raw is None:
        return {}
    return dict(raw) if isinstance(raw, dict) else dict(vars(raw))
