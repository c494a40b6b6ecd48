"""`apiaudit db [DSN]`: audit a PostgreSQL database and/or its query logs (database half)."""

from __future__ import annotations

from typing import Annotated

import typer

from apiaudit.commands.common import CommonOptions, finish, load_config, with_common_options


@with_common_options
def command(
    common: CommonOptions,
    dsn: Annotated[str | None, typer.Argument(help="postgresql://user@host:port/db (or targets.database).")] = None,
    log: Annotated[list[str] | None, typer.Option("--log", help="Query log FILE/glob (stderr, csvlog, jsonlog, "
                                                  ".sql, .gz/.zst; - for stdin). Repeatable.")] = None,
    log_format: Annotated[str | None, typer.Option("--log-format", help="auto, stderr, csvlog, jsonlog or sql.")] = None,
    log_prefix: Annotated[str | None, typer.Option("--log-prefix", help="The server's log_line_prefix.")] = None,
    analyze: Annotated[bool, typer.Option("--analyze", help="Opt-in EXPLAIN ANALYZE of plain SELECTs.")] = False,
    top: Annotated[int | None, typer.Option("--top", help="Workload queries to EXPLAIN (default 20).")] = None,
    statement_timeout: Annotated[int | None, typer.Option("--statement-timeout", help="ms per statement.")] = None,
) -> int:
    """Audit PostgreSQL: FK indexes, EXPLAIN on the real workload (pg_stat_statements and logs),
    HypoPG-verified index advice, index hygiene, N+1 from query logs, pool and transaction health.
    Read-only: every session runs with default_transaction_read_only = on.

    Examples:

      apiaudit db postgresql://app@127.0.0.1:5432/shop

      apiaudit db postgresql://app@127.0.0.1:5432/shop --log /var/log/postgresql/postgresql-15-main.log

      apiaudit db --log postgresql.csv --format json -o db.json
    """
    cfg = load_config(common)
    from apiaudit.db.audit import DbOptions, run_db_audit

    options = DbOptions.from_cli(
        cfg, dsn=dsn, logs=log or [], log_format=log_format, log_prefix=log_prefix, analyze=analyze, top=top,
        statement_timeout_ms=statement_timeout, verbose=common.verbose, quiet=common.quiet,
    )
    report = run_db_audit(options, cfg)
    return finish(report, common, cfg)
