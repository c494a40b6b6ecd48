"""Terminal report with rich: score summary, "fix these first", the checklist, findings by item.

Machine-facing ids (checklist items, rule ids, finding ids) are never truncated whatever the width
(``no_wrap`` + ``min_width``); evidence and info findings show with ``--verbose``; a fix's code
blocks are shown whole, since the code is the fix.
"""

from __future__ import annotations

import io
import json

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from apiaudit.model import Report, ReportFinding, Severity
from apiaudit.report import RenderOptions
from apiaudit.report.impact import fix_first
from apiaudit.report.view import fix_blocks, location_text

STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "not_assessed": "dim"}
STATUS_TEXT = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "not_assessed": "n/a"}
SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
FIX_FIRST = 5
SKIPPED_SHOWN = 10
DEFAULT_WIDTH = 110


def id_column(table: Table, name: str, values: list[str]) -> None:
    """A column of machine-facing ids: never wrapped, never cut (``apiaudit checklist | cat``)."""
    table.add_column(name, no_wrap=True, min_width=max((len(v) for v in values), default=len(name)))


def listing_console(id_widths: int) -> Console:
    """A console for command listings (rules, checklist) wide enough that id columns are never cropped."""
    import shutil

    return Console(width=max(shutil.get_terminal_size((110, 24)).columns, id_widths + 40))


def render(report: Report, opts: RenderOptions) -> str:
    buf = io.StringIO()
    console = Console(
        file=buf, force_terminal=opts.color, no_color=not opts.color, width=opts.width or DEFAULT_WIDTH,
        color_system="standard" if opts.color else None, soft_wrap=False,
    )
    console.print(_summary(report))
    top = _fix_first(report)
    if top is not None:
        console.print(top)
    console.print(_checklist(report))
    by_item: dict[str, list[ReportFinding]] = {}
    hidden = 0
    for f in report.findings:
        if f.severity == Severity.INFO and not opts.verbose:
            hidden += 1
            continue
        by_item.setdefault(f.checklist, []).append(f)
    for item in report.checklist:
        findings = by_item.get(item.id, [])
        if findings:
            console.print(Text(f"\n{item.id} — {item.title}", style="bold underline"))
            for f in findings:
                console.print(_finding(f, verbose=opts.verbose))
    if hidden:
        console.print(Text(f"\n{hidden} info finding(s) not shown (--verbose shows them)", style="dim"))
    if report.skipped:
        console.print(Text(f"\nSkipped ({len(report.skipped)}): items they feed are not assessed", style="bold"))
        for s in report.skipped[:SKIPPED_SHOWN]:
            console.print(f"  • {escape(str(s.get('where', '')))}: {escape(str(s.get('what', '')))} — "
                          f"{escape(str(s.get('reason', '')))}")
        if len(report.skipped) > SKIPPED_SHOWN:
            console.print(f"  … {len(report.skipped) - SKIPPED_SHOWN} more in the JSON report")
    if report.errors:
        console.print(Text("\nErrors", style="bold red"))
        for err in report.errors:
            console.print(f"  [red]•[/] {escape(err.get('where', ''))}: {escape(err.get('message', ''))}")
    return buf.getvalue()


def _summary(report: Report) -> Panel:
    score = report.score
    overall = score.get("overall")
    headline = Text()
    headline.append(f"apiaudit {report.kind} report  ", style="bold")
    if overall is None:
        headline.append("score: n/a (nothing assessed)", style="dim")
    else:
        style = "green" if overall >= 80 else "yellow" if overall >= 60 else "bold red"
        headline.append(f"score {overall}/100  grade {score.get('grade')}", style=style)
    sections = Table.grid(padding=(0, 2))
    for name, sec in (score.get("sections") or {}).items():
        value = "n/a" if sec.get("score") is None else f"{sec['score']}"
        sections.add_row(name, value, f"({sec.get('assessed', 0)}/{sec.get('total', 0)} assessed)")
    counts: dict[str, int] = {}
    for f in report.findings:
        counts[f.severity.label] = counts.get(f.severity.label, 0) + 1
    counts_text = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no findings"
    targets = ", ".join(report.targets) or "-"
    meta = Text(f"targets: {targets}\nfindings: {counts_text}\nduration: {report.duration_s:.1f}s")
    return Panel(Group(headline, sections, meta), expand=False)


def _fix_first(report: Report) -> Table | None:
    """The findings to fix first, ranked by severity and estimated saving (report/impact.py)."""
    ranked = fix_first(report, FIX_FIRST)
    if not ranked:
        return None
    table = Table(title="Fix these first", show_lines=False, expand=False, title_justify="left")
    table.add_column("severity", no_wrap=True)
    id_column(table, "rule", [f.rule for f, _ in ranked])
    table.add_column("where")
    table.add_column("estimated saving")
    for f, impact in ranked:
        table.add_row(
            Text(f.severity.label.upper(), style=SEVERITY_STYLE[f.severity]), f.rule,
            escape(location_text(f.location)), escape(impact.text) if impact else "-",
        )
    return table


def _checklist(report: Report) -> Table:
    table = Table(title="Checklist", show_lines=False, expand=False)
    table.add_column("status", no_wrap=True)
    id_column(table, "item", [item.id for item in report.checklist])
    table.add_column("title")
    table.add_column("findings / reason")
    for item in report.checklist:
        note = ", ".join(item.findings) if item.findings else (item.reason or "")
        table.add_row(
            Text(STATUS_TEXT[item.status], style=STATUS_STYLE[item.status]),
            item.id, escape(item.title), escape(note),
        )
    return table


def _finding(f: ReportFinding, *, verbose: bool) -> Group:
    head = Text("  ")
    head.append(f" {f.severity.label.upper()} ", style=SEVERITY_STYLE[f.severity])
    head.append(f" {f.id} {f.rule}", style="bold")
    if f.known:
        head.append("  (known, in baseline)", style="dim")
    parts: list[Text] = [head, Text(f"    {f.message}")]
    where = ", ".join(f"{k}={v}" for k, v in f.location.items() if k != "sample")
    if where:
        parts.append(Text(f"    at: {where}", style="dim"))
    if f.evidence and verbose:
        ev = json.dumps(f.evidence, ensure_ascii=False, default=str)
        parts.append(Text(f"    evidence: {ev}", style="dim"))
    if f.fix:
        parts.extend(_fix(f.fix))
    return Group(*parts)


def _fix(fix: str) -> list[Text]:
    """The whole fix: its prose on one line each, its code blocks verbatim and indented."""
    out: list[Text] = []
    for i, (kind, body) in enumerate(fix_blocks(fix)):
        if kind == "code":
            out.append(Text("\n".join("        " + line for line in body.splitlines()), style="cyan"))
        else:
            label = "    fix: " if i == 0 else "    "
            out.append(Text(label + " ".join(body.split()), style="green"))
    return out
