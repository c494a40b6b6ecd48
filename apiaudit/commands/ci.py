"""`apiaudit ci`: every audit apiaudit.yaml configures, every report it asks for, one gate.

The ``lhci autorun`` of apiaudit: one command for a CI job. It reads ``targets`` (api, database,
logs, cache), runs each half that is configured, merges the results, writes each format of
``ci.formats`` into ``ci.output_dir`` (default: json, html, sarif, junit and markdown into
``apiaudit-report/``), appends the Markdown summary to ``$GITHUB_STEP_SUMMARY`` and exits with the
gate. A half that was configured but could not be audited (unreachable, every endpoint refused)
is reported and makes the exit code 3 even when the others ran: CI must not go green on half an audit.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from apiaudit.commands.common import CommonOptions, deadline_seconds, finish, load_config, with_common_options

DEFAULT_FORMATS = ["json", "html", "sarif", "junit", "markdown"]
DEFAULT_OUTPUT_DIR = "apiaudit-report"


def planned_halves(cfg: Any) -> list[tuple[str, Callable[[], Any]]]:
    """(name, run) for each half the config's targets ask for, in the order a reader expects."""
    halves: list[tuple[str, Callable[[], Any]]] = []
    targets = cfg.targets
    if targets.get("api") or cfg.endpoints:
        def scan() -> Any:
            from apiaudit.http.audit import ScanOptions, run_scan

            deadline = deadline_seconds("scan", None, cfg.http)
            return run_scan(ScanOptions.from_cli(cfg, urls=[], quiet=True, deadline=deadline), cfg)

        halves.append(("scan", scan))
    if targets.get("database") or targets.get("logs"):
        def db() -> Any:
            from apiaudit.db.audit import DbOptions, run_db_audit

            opts = DbOptions.from_cli(cfg, dsn=None, logs=[], log_format=None, log_prefix=None, analyze=False,
                                      top=None, statement_timeout_ms=None, quiet=True)
            opts.deadline_s = deadline_seconds("db", None, cfg.db)
            return run_db_audit(opts, cfg)

        halves.append(("db", db))
    if (cfg.monitoring or {}).get("url"):
        def monitor() -> Any:
            from apiaudit.monitor.audit import MonitorOptions, run_monitor

            return run_monitor(MonitorOptions.from_cli(cfg, url=None), cfg)

        halves.append(("monitor", monitor))
    if targets.get("cache"):
        def cache() -> Any:
            from apiaudit.cache.audit import CacheOptions, run_cache_audit

            deadline = deadline_seconds("cache", None, cfg.cache)
            return run_cache_audit(CacheOptions.from_cli(cfg, urls=[], sample_keys=None, deadline_s=deadline), cfg)

        halves.append(("cache", cache))
    return halves


@with_common_options
def command(common: CommonOptions) -> int:
    """Run every audit the config file names, write every report, and gate (for CI jobs).

    Examples:

      apiaudit ci                          # reads ./apiaudit.yaml

      apiaudit ci -c apiaudit.yaml --fail-on medium
    """
    from apiaudit.assemble import merge_reports
    from apiaudit.errors import EXIT_CANNOT_AUDIT, AuditError, UsageError

    cfg = load_config(common)
    halves = planned_halves(cfg)
    if not halves:
        where = cfg.path or "./apiaudit.yaml (not found)"
        raise UsageError(f"apiaudit ci: {where} names no targets (targets.api, targets.database, targets.logs "
                         "or targets.cache); `apiaudit init` writes a commented one")
    reports, failed = [], []
    for name, run in halves:
        if not common.quiet:
            print(f"apiaudit ci: {name} …", file=sys.stderr)
        try:
            reports.append(run())
        except AuditError as exc:
            failed.append((name, str(exc)))
            print(f"apiaudit ci: {name} could not be audited: {exc}", file=sys.stderr)
    if not reports:
        raise AuditError("; ".join(f"{name}: {why}" for name, why in failed))
    merged = merge_reports(reports, cfg.ruleset)
    merged.errors.extend({"where": f"ci {name}", "message": f"could not be audited: {why}"} for name, why in failed)
    if not common.formats and not common.output:
        common.formats = list(cfg.ci.get("formats") or DEFAULT_FORMATS)
        common.output_dir = common.output_dir or cfg.ci.get("output_dir") or DEFAULT_OUTPUT_DIR
        common.validate()
    code = finish(merged, common, cfg)
    if failed:
        print(f"apiaudit ci: exit 3: {len(failed)} of {len(halves)} configured audits could not run "
              f"({', '.join(name for name, _ in failed)})", file=sys.stderr)
        return EXIT_CANNOT_AUDIT
    return code
