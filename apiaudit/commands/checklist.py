"""`apiaudit checklist`: the guide's 21 items, their sections and the rules that judge each."""

from __future__ import annotations

from typing import Annotated, Any

import typer


def command(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> int:
    """Show the performance checklist and which rules assess each item.

    Example:

      apiaudit checklist
    """
    import json

    from apiaudit.errors import UsageError
    from apiaudit.rules import load_rules

    ruleset = load_rules()
    rows: list[dict[str, Any]] = []
    for item in ruleset.checklist.values():
        rules = sorted(r.id for r in ruleset.rules.values() if r.checklist == item.id)
        rows.append({"id": item.id, "section": item.section, "title": item.title, "rules": rules,
                     "outside": item.outside})
    if fmt == "json":
        print(json.dumps(rows, indent=2))
        return 0
    if fmt != "table":
        raise UsageError(f"--format: unknown format {fmt!r} (choose from table, json)")
    from rich.table import Table

    from apiaudit.report.console import id_column, listing_console

    table = Table(title="API Performance & Scaling Guide — checklist")
    table.add_column("section", no_wrap=True)
    id_column(table, "id", [row["id"] for row in rows])
    table.add_column("item")
    table.add_column("rules")
    for row in rows:
        label = f"{len(row['rules'])} rules" if row["rules"] else (row["outside"] or "none yet")
        table.add_row(row["section"], row["id"], row["title"], label)
    listing_console(max(len(r["id"]) for r in rows) + 12).print(table)
    return 0
