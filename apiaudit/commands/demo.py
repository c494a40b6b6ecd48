"""`apiaudit demo`: the whole product on an embedded sample API and a throwaway PostgreSQL."""

from __future__ import annotations

from typing import Annotated

import typer


def command(
    keep_running: Annotated[bool, typer.Option("--keep-running", help="Leave the sample API and database up.")] = False,
    output_dir: Annotated[str, typer.Option("--output-dir", help="Where to write the reports.")] = "apiaudit-demo",
) -> int:
    """Start a sample API with deliberate problems (and a throwaway PostgreSQL when available),
    audit both, and write apiaudit-demo/report.json and report.html.

    Example:

      apiaudit demo
    """
    from apiaudit.demo.run import run_demo

    return run_demo(keep_running=keep_running, output_dir=output_dir)
