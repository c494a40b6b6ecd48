"""Terminal report with rich: score summary, the checklist table, findings grouped by item."""

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

STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "not_assessed": "dim"}
STATUS_TEXT = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "not_assessed": "n/a"}
SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
EVIDENCE_CHARS = 600


def render(report: Report, opts: RenderOptions) -> str:
    buf = io.StringIO()
    console = Console(
        file=buf, force_terminal=opts.color, no_color=not opts.color, width=opts.width or 110,
        color_system="standard" if opts.color else None, soft_wrap=False,
    )
    console.print(_summary(report))
    console.print(_checklist(report))
    by_item: dict[str, list[ReportFinding]] = {}
    for f in report.findings:
        by_item.setdefault(f.checklist, []).append(f)
    for item in report.checklist:
        findings = by_item.get(item.id, [])
        if findings:
            console.print(Text(f"\n{item.id} — {item.title}", style="bold underline"))
            for f in findings:
                console.print(_finding(f, verbose=opts.verbose))
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


def _checklist(report: Report) -> Table:
    table = Table(title="Checklist", show_lines=False, expand=False)
    table.add_column("status")
    table.add_column("item")
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
    if f.evidence:
        ev = json.dumps(f.evidence, ensure_ascii=False, default=str)
        if not verbose and len(ev) > EVIDENCE_CHARS:
            ev = ev[:EVIDENCE_CHARS] + " …"
        parts.append(Text(f"    evidence: {ev}", style="dim"))
    if f.fix:
        fix = f.fix if verbose else f.fix.splitlines()[0]
        parts.append(Text(f"    fix: {fix}", style="green"))
    return Group(*parts)
