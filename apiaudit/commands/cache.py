"""`apiaudit cache URL`: audit a Redis or Memcached application cache."""

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
    read_report_file,
    with_common_options,
)


@with_common_options
def command(
    common: CommonOptions,
    urls: Annotated[list[str] | None, typer.Argument(help="redis://[user:pass@]host:port/db, rediss://, "
                                                     "memcached://host:port (or targets.cache).")] = None,
    sample_keys: Annotated[int | None, typer.Option(
        "--sample-keys", help="Keys to sample with SCAN (default 1000).")] = None,
    with_report: Annotated[list[str] | None, typer.Option(
        "--with-report", help="A saved scan or db JSON report: adds combined findings (slow uncacheable "
        "endpoints while the cache misses; cache-aside candidates from the db workload). "
        "Repeatable.")] = None,
    deadline: DeadlineOpt = None,
) -> int:
    """Audit the application cache: hit rate, TTL strategy, evictions, big keys, connections.
    Read-only commands only (INFO, SCAN, TTL, TYPE, MEMORY USAGE, CONFIG GET).

    Examples:

      apiaudit cache redis://127.0.0.1:6379/0

      apiaudit cache memcached://127.0.0.1:11211 --format json -o cache.json

      apiaudit cache redis://127.0.0.1:6379/0 --with-report scan.json --with-report db.json
    """
    check_number("--sample-keys", sample_keys)
    cfg = load_config(common)
    from apiaudit.cache.audit import CacheOptions, run_cache_audit
    from apiaudit.cache.related import related_from_reports

    related = related_from_reports([(path, read_report_file(path)) for path in with_report or []])
    options = CacheOptions.from_cli(cfg, urls=urls or [], sample_keys=sample_keys, verbose=common.verbose,
                                    related=related, deadline_s=deadline_seconds("cache", deadline, cfg.cache))
    report = run_cache_audit(options, cfg)
    return finish(report, common, cfg)
