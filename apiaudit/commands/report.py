"""`apiaudit report FILE...`: merge saved JSON reports into one combined report, render and gate it."""

from __future__ import annotations

from typing import Annotated

import typer

from apiaudit.commands.common import CommonOptions, finish, load_config, read_report_file, with_common_options


@with_common_options
def command(
    files: Annotated[list[str], typer.Argument(help="JSON reports written by scan, db or cache (--format json).")],
    common: CommonOptions,
) -> int:
    """Merge saved reports (e.g. a scan and a db report) into one combined report.

    Examples:

      apiaudit report scan.json db.json --format html -o report.html

      apiaudit report scan.json --baseline main.json --fail-on medium
    """
    from apiaudit.assemble import merge_reports, reresolve

    cfg = load_config(common)
    # The gate re-judges: this config's rule severities/off and this run's --baseline, never the
    # severities or `known` flags saved by the run that wrote the file.
    reports = [reresolve(read_report_file(path), cfg.ruleset) for path in files]
    merged = merge_reports(reports, cfg.ruleset)
    return finish(merged, common, cfg)
