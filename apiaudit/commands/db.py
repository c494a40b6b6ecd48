"""`apiaudit db [DSN]`: audit a PostgreSQL database and/or its query logs (database half)."""

from __future__ import annotations

from typing import Annotated

import typer

from apiaudit.commands.common import (
    CommonOptions,
    DeadlineOpt,
    check_number,
    deadline_seconds,
    finish,
    load_config,
    with_common_options,
)

DsnArg = Annotated[str | None, typer.Argument(help="postgresql://user@host:port/db (or targets.database).")]
LogOpt = Annotated[
    list[str] | None,
    typer.Option("--log", help="Query log FILE/glob (stderr, csvlog, jsonlog, .sql, .gz/.zst; - for stdin). "
                 "Repeatable."),
]
LogFormatOpt = Annotated[
    str | None, typer.Option("--log-format", help="auto, stderr, csvlog, jsonlog or sql.")
]
LogPrefixOpt = Annotated[str | None, typer.Option("--log-prefix", help="The server's log_line_prefix.")]
LogDatabaseOpt = Annotated[str | None, typer.Option(
    "--log-database", help="Audit only this database's statements of a shared log (default: the DSN's database).")]
LogUserOpt = Annotated[str | None, typer.Option("--log-user", help="Audit only this user's statements.")]
LogAppOpt = Annotated[str | None, typer.Option(
    "--log-application", help="Audit only statements of this application_name.")]
AnalyzeOpt = Annotated[bool, typer.Option("--analyze", help="Opt-in EXPLAIN ANALYZE of plain SELECTs.")]
UserCodeOpt = Annotated[
    bool,
    typer.Option("--explain-user-functions", help="Also EXPLAIN statements that reach functions, operators "
                 "or views of the database's users (planning may run them; trusted code only)."),
]
TopOpt = Annotated[int | None, typer.Option("--top", help="Workload queries to EXPLAIN (default 20).")]
TimeoutOpt = Annotated[
    int | None, typer.Option("--statement-timeout", help="ms per statement (default 5000).")
]
SaveOpt = Annotated[str | None, typer.Option("--save-evidence", help="Save what was collected to FILE.")]
FromOpt = Annotated[
    str | None,
    typer.Option("--from-evidence", help="Re-check saved evidence offline (no database connection)."),
]


@with_common_options
def command(
    common: CommonOptions,
    dsn: DsnArg = None,
    log: LogOpt = None,
    log_format: LogFormatOpt = None,
    log_prefix: LogPrefixOpt = None,
    log_database: LogDatabaseOpt = None,
    log_user: LogUserOpt = None,
    log_application: LogAppOpt = None,
    analyze: AnalyzeOpt = False,
    explain_user_functions: UserCodeOpt = False,
    top: TopOpt = None,
    statement_timeout: TimeoutOpt = None,
    save_evidence: SaveOpt = None,
    from_evidence: FromOpt = None,
    deadline: DeadlineOpt = None,
) -> int:
    """Audit PostgreSQL: FK indexes, EXPLAIN on the real workload (pg_stat_statements and logs),
    HypoPG-verified index advice, index hygiene, N+1 from query logs, pool and transaction health.
    Read-only: every statement runs in a READ ONLY transaction with search_path pinned to pg_catalog;
    statements that would run the database users' own code are not EXPLAINed (see --explain-user-functions).

    Examples:

      apiaudit db postgresql://app@127.0.0.1:5432/shop

      apiaudit db postgresql://app@127.0.0.1:5432/shop --log /var/log/postgresql/postgresql-15-main.log

      apiaudit db --log postgresql.csv --format json -o db.json

      apiaudit db postgresql://app@127.0.0.1/shop --save-evidence ev.json

      apiaudit db --from-evidence ev.json --fail-on medium
    """
    check_number("--top", top, positive=True)
    check_number("--statement-timeout", statement_timeout, positive=True)
    cfg = load_config(common)
    from apiaudit.db.audit import DbOptions, run_db_audit

    options = DbOptions.from_cli(
        cfg, dsn=dsn, logs=log or [], log_format=log_format, log_prefix=log_prefix, analyze=analyze, top=top,
        statement_timeout_ms=statement_timeout, verbose=common.verbose, quiet=common.quiet,
        save_evidence=save_evidence, from_evidence=from_evidence, explain_user_functions=explain_user_functions,
    )
    options.deadline_s = deadline_seconds("db", deadline, cfg.db)
    from apiaudit.db.logs.filters import cli_options

    options.log_options.update(cli_options(database=log_database, user=log_user, application=log_application))
    report = run_db_audit(options, cfg)
    return finish(report, common, cfg)
