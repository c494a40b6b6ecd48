"""What the demo shows and writes: report files, the terminal report, and the "still running" notice."""

from __future__ import annotations

import sys
from pathlib import Path

from apiaudit.demo.database import INSTALL_HINT
from apiaudit.demo.steps import Steps
from apiaudit.fileio import atomic_write
from apiaudit.model import Report

FORMATS = ("json", "html", "markdown")  # written when this build has the renderer (apiaudit.report.FORMATS)
NO_PG_REASON = f"PostgreSQL server binaries not found, so the demo ran without a database ({INSTALL_HINT})"


def mark_database_missing(report: Report) -> None:
    """Database items stay not_assessed; say why in the demo's terms (and how to fix it)."""
    for item in report.checklist:
        if item.status == "not_assessed" and (
            item.section == "database" or "database" in (item.reason or "")
        ):
            item.reason = NO_PG_REASON


def write_reports(report: Report, out: Path, steps: Steps) -> list[Path]:
    from apiaudit.report import FORMATS as AVAILABLE
    from apiaudit.report import RenderOptions, render

    written = []
    for fmt in FORMATS:
        if fmt not in AVAILABLE:
            continue
        path = out / AVAILABLE[fmt][1]
        try:
            atomic_write(path, render(fmt, report, RenderOptions(color=False, verbose=True)), named=False)
        except Exception as exc:  # one broken renderer must not cost the other reports
            steps.note(f"could not write {path}: {type(exc).__name__}: {exc}")
            continue
        written.append(path)
    return written


def print_report(report: Report) -> None:
    from apiaudit.report import RenderOptions, render

    tty = sys.stdout.isatty()
    sys.stdout.write(render("table", report, RenderOptions(color=tty, verbose=False)))
    sys.stdout.flush()


def print_written(written: list[Path], steps: Steps) -> None:
    steps.info(f"\nReports written: {', '.join(str(p) for p in written)}")
    html = [p for p in written if p.suffix == ".html"]
    if html:
        steps.info(f"Open {html[0]} in a browser for the full report with charts.")
    steps.info(
        "This is a demo, not a gate: it exits 0 whatever it finds. `apiaudit scan` and `apiaudit db` "
        "exit 1 when the gate fails (--fail-on, --min-score), which is what CI uses."
    )


def print_still_running(
    steps: Steps, *, api_url: str, config: Path, dsn: str | None, log_file: Path | None
) -> None:
    lines = ["", "Still running (Ctrl-C stops everything):", f"  sample API  {api_url}   (see /openapi.json)"]
    if dsn:
        lines += [f"  PostgreSQL  {dsn}", f"  server log  {log_file}"]
    lines += ["Try:", f"  apiaudit scan {api_url}/api/customers", f"  apiaudit scan -c {config}"]
    if dsn:
        lines.append(f"  apiaudit db {dsn} --log {log_file}")
    steps.info("\n".join(lines))
