"""`apiaudit monitor PROMETHEUS_URL`: judge the four monitoring items from the team's Prometheus."""

from __future__ import annotations

from typing import Annotated

import typer

from apiaudit.commands.common import CommonOptions, finish, load_config, with_common_options


@with_common_options
def command(
    url: Annotated[str | None, typer.Argument(help="Prometheus base URL (default: monitoring.url).")] = None,
    job: Annotated[str | None, typer.Option("--job", help="The API's scrape job (default: the job with "
                                            "the most request-duration series).")] = None,
    window: Annotated[str | None, typer.Option("--window", help="Range for rates and percentiles "
                                               "(default 1h).")] = None,
    deadline: Annotated[float | None, typer.Option("--deadline", help="Stop after SECONDS (default 60).")] = None,
    common: CommonOptions | None = None,
) -> int:
    """Read Prometheus (GET /api/v1/query, rules, targets, metadata; nothing else) and judge latency
    P50/P95/P99 per route, 5xx rates, alert rules (and rules that can never fire), resource series,
    targets down and exporter cache hit rates. A bearer token or basic auth comes from apiaudit.yaml
    (monitoring.bearer_token: ${PROM_TOKEN}).

    Examples:

      apiaudit monitor http://127.0.0.1:9090

      apiaudit monitor http://prometheus:9090 --job api --window 6h --format html -o monitor.html
    """
    from apiaudit.commands.common import check_number
    from apiaudit.monitor.audit import MonitorOptions, run_monitor

    assert common is not None
    cfg = load_config(common)
    check_number("--deadline", deadline, positive=True, maximum=86400)
    options = MonitorOptions.from_cli(cfg, url=url, job=job, window=window, deadline_s=deadline)
    return finish(run_monitor(options, cfg), common, cfg)
