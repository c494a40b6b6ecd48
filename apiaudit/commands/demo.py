"""`apiaudit demo`: the whole product on an embedded sample API and a throwaway PostgreSQL."""

from __future__ import annotations

from typing import Annotated

import typer


def command(
    keep_running: Annotated[
        bool,
        typer.Option(
            "--keep-running",
            help="Leave the sample API and database up (prints their URL and DSN; Ctrl-C stops them).",
        ),
    ] = False,
    output_dir: Annotated[
        str, typer.Option("--output-dir", help="Where to write the reports.")
    ] = "apiaudit-demo",
    fix: Annotated[
        list[str] | None,
        typer.Option(
            "--fix",
            help="Switch a deliberate problem off in the sample "
            "API: cache, compression, pagination, session, ratelimit or "
            "all. Repeatable.",
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Port of the sample API (default: a free one).")] = 0,
) -> int:
    """Start a sample API with deliberate problems (and a throwaway PostgreSQL when the server
    binaries are installed), audit both, and write apiaudit-demo/report.json and report.html.
    A demo, not a gate: exits 0 whenever it ran (3 when nothing could be audited).
    Set APIAUDIT_PG_BINDIR to choose the PostgreSQL binaries (a non-existent directory: HTTP half only).

    Examples:

      apiaudit demo

      apiaudit demo --keep-running

      apiaudit demo --fix cache --keep-running --port 8000
    """
    from apiaudit.demo.run import run_demo

    return run_demo(keep_running=keep_running, output_dir=output_dir, fixes=fix or [], port=port)
