"""`apiaudit baseline REPORT...`: write the fingerprints of saved reports as a baseline file."""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def command(
    files: Annotated[list[str], typer.Argument(help="JSON reports (scan, db, cache, combined) to accept.")],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Baseline file to write.")
    ] = "apiaudit-baseline.json",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> int:
    """Accept today's findings: later runs with --baseline FILE fail only on new ones.

    A finding's fingerprint hashes its rule and location (never message text or numbers), so it
    survives re-runs on unchanged targets.

    Examples:

      apiaudit baseline scan.json db.json -o apiaudit-baseline.json

      apiaudit scan http://127.0.0.1:8000 --baseline apiaudit-baseline.json
    """
    from apiaudit.assemble import merge_reports
    from apiaudit.commands.common import read_report_file, write_baseline
    from apiaudit.rules import load_rules

    reports = [read_report_file(path) for path in files]
    report = reports[0] if len(reports) == 1 else merge_reports(reports, load_rules())
    write_baseline(report, output)
    if not quiet:
        print(f"apiaudit: wrote {len(report.findings)} fingerprint(s) to {output}", file=sys.stderr)
    return 0
