"""`apiaudit init`: write a commented apiaudit.yaml from the API's OpenAPI document and a DSN."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def command(
    url: Annotated[str | None, typer.Argument(help="The API's base URL (its OpenAPI document is looked for).")] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="PostgreSQL DSN (its password is not written: set PGPASSWORD).")
    ] = None,
    cache: Annotated[list[str] | None, typer.Option("--cache", help="Redis/Memcached URL, repeatable.")] = None,
    log: Annotated[list[str] | None, typer.Option("--log", help="PostgreSQL log file(s) for N+1.")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="File to write.")] = "apiaudit.yaml",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> int:
    """Write a commented apiaudit.yaml: targets, endpoints from the OpenAPI document, gate and CI formats.

    Examples:

      apiaudit init http://127.0.0.1:8000 --db postgresql://auditor@127.0.0.1:5432/shop

      apiaudit init http://127.0.0.1:8000 -o staging.yaml --force
    """
    from apiaudit.config import load_config
    from apiaudit.errors import UsageError
    from apiaudit.fileio import atomic_write
    from apiaudit.initfile import discover_endpoints, render, safe_dsn

    if not (url or db or cache or log):
        raise UsageError("nothing to write: give the API URL, --db, --cache or --log")
    if url and not url.startswith(("http://", "https://")):
        raise UsageError(f"not an http(s) URL: {url!r}")
    path = Path(output)
    if path.exists() and not force:
        raise UsageError(f"{output} exists; use --force to overwrite it")
    endpoints, pending, spec = discover_endpoints(url) if url else ([], [], None)
    dsn, hidden = safe_dsn(db) if db else (None, False)
    text = render(url, endpoints, pending, spec, dsn, list(cache or []), list(log or []))
    try:
        atomic_write(path, text, named=True)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    load_config(str(path), explicit=True)  # what we wrote must load; a bug here is ours, loudly
    found = f"{len(endpoints)} endpoint(s) from {spec}" if spec else "no OpenAPI document found"
    print(f"apiaudit init: wrote {output} ({found})", file=sys.stderr)
    if hidden:
        print("apiaudit init: the DSN's password was not written: export PGPASSWORD (or use ~/.pgpass) "
              "before running apiaudit", file=sys.stderr)
    return 0
