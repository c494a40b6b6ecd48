"""`apiaudit scan URL...`: probe a live API (HTTP half of the checklist)."""

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

UrlsArg = Annotated[
    list[str] | None, typer.Argument(help="Endpoint URLs to probe (or targets.api in config).")
]
OpenapiOpt = Annotated[
    str | None, typer.Option("--openapi", help="auto, a FILE or a URL of an OpenAPI document.")
]
HeaderOpt = Annotated[
    list[str] | None, typer.Option("--header", "-H", help="Extra request header 'Name: value'.")
]
MaxRequestsOpt = Annotated[int | None, typer.Option("--max-requests", help="Request budget (default 500).")]
ConcurrencyOpt = Annotated[
    int | None, typer.Option("--concurrency", help="Requests in flight per host (default 4).")
]
TimeoutOpt = Annotated[float | None, typer.Option("--timeout", help="Seconds per request (default 10).")]
SamplesOpt = Annotated[
    int | None, typer.Option("--samples", help="Extra GETs per endpoint for latency (0 = off).")
]
BurstOpt = Annotated[
    int | None, typer.Option("--burst", help="Opt-in rate-limit burst probe: send up to N requests.")
]
InsecureOpt = Annotated[bool, typer.Option("--insecure", help="Do not verify TLS certificates.")]
SaveOpt = Annotated[str | None, typer.Option("--save-evidence", help="Save the HTTP exchanges to FILE.")]
FromOpt = Annotated[str | None, typer.Option("--from-evidence", help="Re-check saved exchanges offline.")]


@with_common_options
def command(
    common: CommonOptions,
    urls: UrlsArg = None,
    openapi: OpenapiOpt = None,
    header: HeaderOpt = None,
    max_requests: MaxRequestsOpt = None,
    concurrency: ConcurrencyOpt = None,
    timeout: TimeoutOpt = None,
    samples: SamplesOpt = None,
    burst: BurstOpt = None,
    insecure: InsecureOpt = False,
    save_evidence: SaveOpt = None,
    from_evidence: FromOpt = None,
    deadline: DeadlineOpt = None,
) -> int:
    """Probe a running API: caching, validation, compression, pagination, field selection, rate
    limits, latency, statelessness and static assets. Only GET/HEAD/OPTIONS are sent.

    Examples:

      apiaudit scan http://127.0.0.1:8000/api/users http://127.0.0.1:8000/api/products

      apiaudit scan http://127.0.0.1:8000 --openapi auto --format json -o scan.json

      apiaudit scan https://api.example.com/v1/items -H "Authorization: Bearer $TOKEN" --fail-on medium

      apiaudit scan --from-evidence scan-evidence.json    # re-check offline, no network
    """
    from apiaudit.deadline import MAX_SECONDS

    for name, value in (("--max-requests", max_requests), ("--concurrency", concurrency), ("--timeout", timeout)):
        check_number(name, value, positive=True, maximum=MAX_SECONDS if name == "--timeout" else None)
    check_number("--samples", samples)
    check_number("--burst", burst)
    cfg = load_config(common)
    from apiaudit.http.audit import ScanOptions, run_scan

    options = ScanOptions.from_cli(
        cfg, urls=urls or [], openapi=openapi, headers=header or [], max_requests=max_requests,
        concurrency=concurrency, timeout=timeout, samples=samples, burst=burst, insecure=insecure,
        save_evidence=save_evidence, from_evidence=from_evidence, verbose=common.verbose, quiet=common.quiet,
        deadline=deadline_seconds("scan", deadline, cfg.http),
    )
    report = run_scan(options, cfg)
    return finish(report, common, cfg)
