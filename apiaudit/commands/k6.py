"""`apiaudit k6 SOURCE...`: write a k6 load-test script for scanned endpoints (the guide's stages)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from apiaudit.errors import UsageError

STAGES_HELP = "Comma-separated DURATION:VUS stages (default: the guide's 2m:100,5m:100,2m:200,5m:200,2m:0)."


def command(
    sources: Annotated[list[str], typer.Argument(help="JSON scan reports and/or endpoint URLs (GET).")],
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write the script to FILE (default stdout).")
    ] = None,
    stages: Annotated[str | None, typer.Option("--stages", help=STAGES_HELP)] = None,
    p95: Annotated[float, typer.Option("--p95", help="Threshold on P95 latency in ms (guide: 500).")] = 500.0,
    error_rate: Annotated[
        float, typer.Option("--error-rate", help="Threshold on the failed-request rate (guide: 0.01).")
    ] = 0.01,
) -> int:
    """Write a k6 script that load-tests the scanned endpoints (GET/HEAD only) with the guide's stages
    and thresholds: http_req_duration p(95)<500 and http_req_failed rate<0.01.

    Examples:

      apiaudit k6 scan.json -o loadtest.js && k6 run loadtest.js

      apiaudit k6 http://127.0.0.1:8000/api/users http://127.0.0.1:8000/api/products --p95 300
    """
    from apiaudit import __version__
    from apiaudit.report.k6 import K6Options, script

    chosen = _checked(stages, p95, error_rate)
    endpoints = _endpoints(sources)
    if not endpoints:
        raise UsageError("no GET/HEAD http(s) endpoint found in the given reports or URLs")
    labels = dict.fromkeys("the command line" if _is_url(s) else Path(s).name for s in sources)
    opts = K6Options(stages=chosen, p95_ms=p95, error_rate=error_rate, version=__version__,
                     source=", ".join(labels))
    text = script(endpoints, opts)
    if output:
        try:
            from apiaudit.fileio import atomic_write

            atomic_write(output, text, named=True)
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
        print(f"apiaudit: wrote a k6 script for {len(endpoints)} endpoint(s) to {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _checked(stages: str | None, p95: float, error_rate: float) -> tuple[tuple[str, int], ...]:
    from apiaudit.commands.common import check_number
    from apiaudit.report.k6 import GUIDE_STAGES, parse_stages

    check_number("--p95", p95, positive=True)  # nan/inf: a threshold k6 would never trip
    check_number("--error-rate", error_rate)
    if not 0 <= error_rate <= 1:
        raise UsageError(f"--error-rate must be between 0 and 1 (got {error_rate:g})")
    try:
        return parse_stages(stages) if stages else GUIDE_STAGES
    except ValueError as exc:
        raise UsageError(f"--stages: {exc}") from None


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _endpoints(sources: list[str]) -> list[tuple[str, str]]:
    from apiaudit.commands.common import read_report_file
    from apiaudit.http.targeting import TargetGuard
    from apiaudit.report.k6 import endpoints_of, unique_safe
    from apiaudit.targets import http_url

    found: list[tuple[str, str]] = []
    for source in sources:
        if _is_url(source) or "://" in source:
            found.append(("GET", http_url(source)))
        else:
            report = read_report_file(source)
            guard = TargetGuard(report.targets)  # never load-test a host the report did not audit
            kept = [(m, u) for m, u in endpoints_of(report) if guard.refusal(u) is None]
            found += kept
    return unique_safe(found)
