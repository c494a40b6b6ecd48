"""The library entry point: run audits from Python and get one :class:`~apiaudit.model.Report`.

    from apiaudit import audit
    report = audit(api=["http://127.0.0.1:8000/api/users"], database="postgresql://app@127.0.0.1/shop")
    print(report.score["overall"], [f.rule for f in report.findings])

It does what the CLI does (same config file, same checks, same safety limits), minus rendering and
the gate: callers decide what to do with the report.
"""

from __future__ import annotations

from apiaudit.model import Report


def audit(
    *,
    api: list[str] | None = None,
    database: str | None = None,
    logs: list[str] | None = None,
    cache: list[str] | None = None,
    config: str | None = None,
    samples: int | None = None,
) -> Report:
    """Audit whichever targets are given (or named in ``config``) and merge the results.

    Parameters:
        api: endpoint URLs to scan.
        database: a PostgreSQL DSN.
        logs: query log files for the database audit (also without ``database``).
        cache: redis:// or memcached:// URLs.
        config: an apiaudit.yaml path (targets in it are used when the arguments are empty).
        samples: extra GETs per endpoint for latency (None = config/default).

    Raises ``apiaudit.errors.UsageError`` for bad input and ``AuditError`` when nothing could be audited.
    """
    from apiaudit.assemble import merge_reports
    from apiaudit.config import load_config
    from apiaudit.errors import UsageError

    cfg = load_config(config, explicit=config is not None)
    reports: list[Report] = []
    if api or cfg.targets.get("api"):
        from apiaudit.http.audit import ScanOptions, run_scan

        opts = ScanOptions.from_cli(cfg, urls=list(api or []), samples=samples, quiet=True)
        reports.append(run_scan(opts, cfg))
    if database or logs or cfg.targets.get("database"):
        from apiaudit.db.audit import DbOptions, run_db_audit

        db_opts = DbOptions.from_cli(cfg, dsn=database, logs=list(logs or []), log_format=None, log_prefix=None,
                                     analyze=False, top=None, statement_timeout_ms=None, quiet=True)
        reports.append(run_db_audit(db_opts, cfg))
    if cache or cfg.targets.get("cache"):
        from apiaudit.cache.audit import CacheOptions, run_cache_audit

        reports.append(run_cache_audit(CacheOptions.from_cli(cfg, urls=list(cache or []), sample_keys=None), cfg))
    if not reports:
        raise UsageError("nothing to audit: give api=, database=, logs= or cache= (or targets in the config)")
    return merge_reports(reports, cfg.ruleset)
