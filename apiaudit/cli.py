"""The typer app: parses and dispatches; each command lives in ``apiaudit/commands/<name>.py``.

``main()`` is the one error handler: usage errors print one line and exit 2, audit errors exit 3,
Ctrl-C exits 130, and no traceback reaches the user unless APIAUDIT_DEBUG is set.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from apiaudit import __version__
from apiaudit.commands import (
    baseline,
    cache,
    checklist,
    ci,
    db,
    demo,
    doctor,
    init,
    k6,
    monitor,
    report,
    rules,
    scan,
)
from apiaudit.errors import EXIT_CANNOT_AUDIT, EXIT_INTERRUPTED, EXIT_USAGE, ApiauditError

app = typer.Typer(
    name="apiaudit",
    help="Audit a live API, its PostgreSQL database and its cache against the API Performance & "
    "Scaling Guide checklist; the exit code gates CI (0 pass, 1 gate failed, 2 usage error, 3 could not audit).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: importing rich's markdown stack doubled startup time
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Explicit registry of commands (name -> module with a `command` function).
for name, module in (
    ("scan", scan),
    ("db", db),
    ("cache", cache),
    ("monitor", monitor),
    ("report", report),
    ("ci", ci),
    ("doctor", doctor),
    ("init", init),
    ("baseline", baseline),
    ("k6", k6),
    ("demo", demo),
    ("rules", rules),
    ("checklist", checklist),
):
    app.command(name)(module.command)


def _version(value: bool) -> None:
    if value:
        print(f"apiaudit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """apiaudit: evidence for why an API is slow or will not scale."""


def main(argv: list[str] | None = None) -> None:
    import signal

    # A parent may have left SIGINT ignored (shells do for background jobs); Ctrl-C must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    try:  # typer >= 0.20 vendors click as typer._click
        from typer._click.exceptions import ClickException
    except ImportError:  # pragma: no cover - older typer
        from click import ClickException  # type: ignore[assignment]

    args = sys.argv[1:] if argv is None else argv
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="apiaudit", standalone_mode=False)
    except typer.Exit as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # typer turns Ctrl-C into Exit(130)
            print("apiaudit: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        return int(exc.exit_code)
    except typer.Abort:
        print("apiaudit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help())
            return EXIT_USAGE
        where = ctx.command_path if ctx is not None else "apiaudit"
        print(f"{where}: error: {exc.format_message()} (see '{where} --help')", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("apiaudit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ApiauditError as exc:
        from apiaudit.redact import redact_text

        print(f"apiaudit: error: {redact_text(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort: one line, no traceback, unless debugging
        if os.environ.get("APIAUDIT_DEBUG"):
            raise
        from apiaudit.redact import redact_text

        print(f"apiaudit: internal error: {type(exc).__name__}: {redact_text(str(exc))} "
              "(set APIAUDIT_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_CANNOT_AUDIT
    if result == EXIT_INTERRUPTED:  # typer returns Ctrl-C as 130 in non-standalone mode
        print("apiaudit: interrupted", file=sys.stderr)
    return int(result or 0)


if __name__ == "__main__":
    main()
