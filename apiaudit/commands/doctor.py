"""`apiaudit doctor`: pre-flight of everything apiaudit.yaml (or the options) names, each with its fix."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from apiaudit.preflight import Check

ConfigOpt = Annotated[str | None, typer.Option("--config", "-c", help="Config file (default: ./apiaudit.yaml).")]


def command(
    url: Annotated[list[str] | None, typer.Argument(help="API URLs to try (default: targets.api).")] = None,
    config: ConfigOpt = None,
    db: Annotated[str | None, typer.Option("--db", help="PostgreSQL DSN (default: targets.database).")] = None,
    cache: Annotated[list[str] | None, typer.Option("--cache", help="Cache URL (default: targets.cache).")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> int:
    """Check that an audit can measure what it needs: the API answers 2xx with the token, the database has
    pg_stat_statements, statement logging, a least-privilege role and HypoPG, the cache allows INFO.
    Exit 0 when nothing fails (warnings mean items would be "not assessed"), 3 when a target cannot be audited.

    Examples:

      apiaudit doctor

      apiaudit doctor http://127.0.0.1:8000/api/users --db postgresql://auditor@127.0.0.1/shop
    """
    from apiaudit import preflight
    from apiaudit.config import load_config
    from apiaudit.errors import EXIT_CANNOT_AUDIT, UsageError

    if fmt not in ("table", "json"):
        raise UsageError(f"--format: unknown format {fmt!r} (choose from table, json)")
    cfg = load_config(config, explicit=config is not None)
    urls = list(url or cfg.targets.get("api") or [])
    dsn = db or cfg.targets.get("database")
    caches = list(cache or cfg.targets.get("cache") or [])
    if not (urls or dsn or caches):
        raise UsageError("nothing to check: give URLs, --db or --cache (or targets in apiaudit.yaml)")
    checks = preflight.api_checks(urls, dict(cfg.headers)) if urls else []
    if dsn:
        checks += preflight.db_checks(dsn, float(cfg.db.get("connect_timeout_s", 5.0)))
    checks += preflight.cache_checks(caches)
    if fmt == "json":
        print(json.dumps(preflight.as_json(checks), indent=2))
    else:
        _table(checks)
    overall = preflight.worst(checks)
    print(f"apiaudit doctor: {overall}", file=sys.stderr)
    return EXIT_CANNOT_AUDIT if overall == "fail" else 0


def _table(checks: list[Check]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from apiaudit.report.console import listing_console

    table = Table(title="apiaudit doctor", show_lines=True)
    for col in ("status", "target", "check", "detail", "fix"):
        table.add_column(col, no_wrap=col == "status")
    style = {"ok": "green", "warn": "yellow", "fail": "bold red"}
    for c in checks:
        table.add_row(f"[{style[c.status]}]{c.status.upper()}[/]", escape(c.target), escape(c.name),
                      escape(c.detail), escape(c.fix))
    listing_console(80).print(table)
