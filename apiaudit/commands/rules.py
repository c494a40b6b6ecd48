"""`apiaudit rules [ID]`: list the rules, or explain one (id, family prefix or checklist item)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from apiaudit.errors import UsageError


def command(
    rule_id: Annotated[str | None, typer.Argument(help="A rule id, a family (http.cache) or a checklist item.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or markdown.")] = "table",
) -> int:
    """List every rule, or explain the rules matching ID.

    Examples:

      apiaudit rules

      apiaudit rules db.fk.unindexed

      apiaudit rules api.pagination
    """
    from apiaudit.rules import load_rules

    ruleset = load_rules()
    if fmt not in ("table", "json", "markdown"):
        raise UsageError(f"--format: unknown format {fmt!r} (choose from table, json, markdown)")
    rules = list(ruleset.rules.values()) if rule_id is None else ruleset.select(rule_id)
    if not rules and rule_id is not None:
        raise UsageError(f"unknown rule id {rule_id!r} (see 'apiaudit rules')")
    if fmt == "json":
        print(json.dumps([_as_dict(r) for r in rules], indent=2))
    elif fmt == "markdown" and rule_id is None:
        print(reference(ruleset), end="")
    elif fmt == "markdown" or (rule_id is not None and len(rules) <= 3):
        print("\n\n".join(_markdown(r) for r in rules))
    else:
        from rich.table import Table

        from apiaudit.report.console import id_column, listing_console

        table = Table(title=f"{len(rules)} rules")
        id_column(table, "id", [r.id for r in rules])
        table.add_column("severity", no_wrap=True)
        id_column(table, "checklist", [r.checklist for r in rules])
        table.add_column("title")
        for r in rules:
            table.add_row(r.id, r.severity.label, r.checklist, r.title)
        widest = max((len(r.id) + len(r.checklist) for r in rules), default=0)
        listing_console(widest + 10).print(table)
    return 0


def _as_dict(rule: object) -> dict[str, object]:
    from apiaudit.rules import Rule

    assert isinstance(rule, Rule)
    return {
        "id": rule.id, "title": rule.title, "checklist": rule.checklist, "severity": rule.severity.label,
        "summary": rule.summary, "why": rule.why, "fix": rule.fix, "message": rule.message,
        "enabled": rule.enabled,
    }


def _markdown(rule: object) -> str:
    d = _as_dict(rule)
    return (
        f"## {d['id']}\n\n**{d['title']}** — severity `{d['severity']}`, checklist item `{d['checklist']}`\n\n"
        f"{d['summary']}\n\n**Why:** {d['why']}\n\n**Fix:**\n\n{d['fix']}\n"
    )


def reference(ruleset: object) -> str:
    """The generated rules reference (docs/rules.md): rules grouped by checklist item, then each rule."""
    from apiaudit.rules import RuleSet

    assert isinstance(ruleset, RuleSet)
    lines = ["# Rules reference", "",
             "Generated from `rules/*.yaml` by `apiaudit rules --format markdown` — do not edit by hand.", ""]
    for item in ruleset.checklist.values():
        rules = [r for r in ruleset.rules.values() if r.checklist == item.id]
        lines += [f"## {item.id} — {item.title}", ""]
        if not rules:
            lines += [f"_{item.outside or 'No rule judges this item yet.'}_", ""]
            continue
        lines += ["| rule | severity | title |", "|---|---|---|"]
        lines += [f"| [`{r.id}`](#{r.id.replace('.', '')}) | {r.severity.label} | {r.title} |" for r in rules]
        lines.append("")
    lines += ["# Rules", ""]
    for rule in ruleset.rules.values():
        lines += [_markdown(rule).replace("## ", "### ", 1), ""]
    thresholds = ruleset.thresholds.values()
    lines += ["# Thresholds", "", "| name | default | unit | meaning |", "|---|---|---|---|"]
    lines += [f"| `{t.name}` | {t.default:g} | {t.unit} | {t.help} |" for t in thresholds]
    return "\n".join(lines) + "\n"
