"""`apiaudit cache URL`: audit a Redis or Memcached application cache."""

from __future__ import annotations

from typing import Annotated

import typer

from apiaudit.commands.common import CommonOptions, finish, load_config, with_common_options


@with_common_options
def command(
    common: CommonOptions,
    urls: Annotated[list[str] | None, typer.Argument(help="redis://[user:pass@]host:port/db, rediss://, "
                                                     "memcached://host:port (or targets.cache).")] = None,
    sample_keys: Annotated[int | None, typer.Option("--sample-keys", help="Keys to sample with SCAN (default 1000).")] = None,
) -> int:
    """Audit the application cache: hit rate, TTL strategy, evictions, big keys, connections.
    Read-only commands only (INFO, SCAN, TTL, TYPE, MEMORY USAGE, CONFIG GET).

    Examples:

      apiaudit cache redis://127.0.0.1:6379/0

      apiaudit cache memcached://127.0.0.1:11211 --format json -o cache.json
    """
    cfg = load_config(common)
    from apiaudit.cache.audit import CacheOptions, run_cache_audit

    options = CacheOptions.from_cli(cfg, urls=urls or [], sample_keys=sample_keys, verbose=common.verbose)
    report = run_cache_audit(options, cfg)
    return finish(report, common, cfg)
