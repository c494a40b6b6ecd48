"""Markdown summary for pull-request comments and ``$GITHUB_STEP_SUMMARY``.

Compact: the score, the section table, failing items, the top findings, then ``<details>`` blocks.
GitHub renders HTML inside Markdown, so text from the target is HTML-escaped and its Markdown
punctuation backslash-escaped; code goes into fences longer than any backtick run it contains.
The result stays under GitHub's 65,536-character comment limit.
"""

from __future__ import annotations

import re
from html import escape

from apiaudit.model import Report
from apiaudit.report import RenderOptions, view
from apiaudit.report.impact import fix_first

MAX_CHARS = 60_000  # GitHub refuses comments over 65,536 characters
MAX_LINES = 60  # a PR comment people read; the HTML report has the rest
TOP_FINDINGS = 5
STATUS_ICON = {"pass": "✅", "warn": "⚠️", "fail": "❌", "not_assessed": "➖"}
SEVERITY_ICON = {"critical": "🟥", "high": "🔴", "medium": "🟠", "low": "🔵", "info": "⚪"}
# Inline punctuation that can start formatting anywhere in a line (GFM; "|" matters only in tables,
# where cell() escapes it); "_" only outside words, since
# intraword underscores never emphasise (customer_id stays readable).
_MD_INLINE = re.compile(r"([\\`*\[\]~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# GitHub turns @name into a mention (a notification), #123 into a cross-reference and bare
# http(s)://, www. into links; a word joiner after the first character breaks each, invisibly.
WORD_JOINER = "\u2060"
_MD_AUTOLINK = re.compile(r"@(?=[A-Za-z0-9])|#(?=\d)|(?i:https?)(?=:)|(?i:www)(?=\.)")
# What turns the start of a line into a heading, quote, list item or thematic break.
_MD_LINE_START = re.compile(r"^(\d*)([#+=-]|(?<=\d)[.)])")


def md(text: object) -> str:
    """Plain text safe for Markdown: HTML-escaped, formatting punctuation escaped, on one line;
    ``@mentions``, ``#123`` references and bare URLs from the target cannot ping people or link out."""
    flat = " ".join(str(text).split())
    escaped = _MD_INLINE.sub(r"\\\1", escape(flat, quote=False))
    escaped = _MD_AUTOLINK.sub(lambda m: m.group(0)[0] + WORD_JOINER + m.group(0)[1:], escaped)
    return _MD_LINE_START.sub(r"\1\\\2", escaped)


def code_span(text: object) -> str:
    flat = " ".join(str(text).split())
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", flat)), default=0) + 1)
    return f"{ticks} {flat} {ticks}"


def fence(text: str, lang: str = "") -> str:
    ticks = "`" * max(3, max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(report: Report, opts: RenderOptions) -> str:
    """At most ``MAX_LINES`` lines: headline, fix-these-first, sections, changes, then ``<details>``."""
    head = [
        _headline(report),
        _fix_first(report),
        _sections(report),
        _compare(report),
        _errors(report),
    ]
    text = "\n\n".join(p for p in head if p)
    rest = [p for p in (_passed(report), _not_assessed(report), _skipped(report)) if p]
    used = text.count("\n") + sum(p.count("\n") + 2 for p in rest) + 7
    listed = _all_findings(report, MAX_LINES - used)
    text = "\n\n".join([text, *([listed] if listed else []), *rest]) + "\n"
    if len(text) > MAX_CHARS:
        cut = text[:MAX_CHARS].rsplit("\n\n", 1)[0]
        text = cut + "\n\n</details>\n\n_Summary truncated; see the HTML or JSON report for everything._\n"
    return text


def _headline(report: Report) -> str:
    score = report.score or {}
    overall = score.get("overall")
    result = "not scored" if overall is None else f"{overall}/100 (grade {score.get('grade')})"
    lines = [f"## apiaudit {md(report.kind)} report: {result}"]
    gate = view.gate_of(report)
    if gate is not None:
        lines.append("**CI gate: passed** ✅" if gate.get("passed") else "**CI gate: failed** ❌")
        lines += [f"> {md(r)}" for r in gate.get("reasons", [])]
    counts = view.severity_counts(report)
    summary = " · ".join(f"{n} {sev}" for sev, n in counts.items() if n) or "no findings"
    lines.append(f"Findings: {summary}")
    base = view.baseline_summary(report)
    if base:
        fixed = f", {base['fixed']} fixed" if "fixed" in base else ""
        lines.append(f"Against the baseline: {base['new']} new, {base['known']} known{fixed}")
    if report.targets:
        lines.append("Targets: " + ", ".join(code_span(t) for t in report.targets))
    return "\n\n".join(lines)


def _sections(report: Report) -> str:
    rows = ["| Section | Score | Assessed |", "|---|---:|---:|"]
    for name, sec in (report.score.get("sections") or {}).items():
        value = "n/a" if sec.get("score") is None else str(sec["score"])
        rows.append(
            f"| {view.SECTION_TITLES.get(name, md(name))} | {value} "
            f"| {sec.get('assessed', 0)}/{sec.get('total', 0)} |"
        )
    return "\n".join(rows)


def _fix_first(report: Report) -> str:
    ranked = fix_first(report, TOP_FINDINGS)
    if not ranked:
        return ""
    failing = view.gate_failing(report)
    rows = [
        f"### Fix these first ({len(ranked)} of {len(report.findings)} findings)",
        "",
        "| Severity | Rule | Where | Estimated saving |",
        "|---|---|---|---|",
    ]
    for f, impact in ranked:
        sev = f"{SEVERITY_ICON[f.severity.label]} {f.severity.label}" + (" (known)" if f.known else "")
        if failing is not None and f.id in failing:
            sev += " · gate"
        where = code_span(view.shorten(view.location_text(f.location), 70))
        saving = md(impact.text) if impact else "–"
        rows.append(f"| {sev} | `{f.rule}` | {cell(where)} | {cell(saving)} |")
    return "\n".join(rows)


def _compare(report: Report) -> str:
    """New and fixed findings against ``--compare BASE`` (recorded by the command in stats)."""
    cmp = report.stats.get("compare")
    if not isinstance(cmp, dict):
        return ""
    before, after = cmp.get("score_before"), report.score.get("overall")
    delta = ""
    if isinstance(before, int) and isinstance(after, int):
        delta = f" · score {before} → {after} ({after - before:+d})"
    new, fixed = cmp.get("new") or [], cmp.get("fixed") or []
    lines = [f"### Against {code_span(cmp.get('file', 'the base report'))}: {len(new)} new, "
             f"{len(fixed)} fixed{delta}"]
    by_id = {f.id: f for f in report.findings}
    for fid in new[:5]:
        f = by_id.get(fid)
        if f is not None:
            where = code_span(view.shorten(view.location_text(f.location), 70))
            lines.append(f"- 🆕 {f.severity.label} `{f.rule}` {where}")
    for item in fixed[:5]:
        if isinstance(item, dict):
            where = code_span(view.shorten(str(item.get("where", "")), 70))
            lines.append(f"- ✅ fixed `{md(item.get('rule', ''))}` {where}")
    more = max(0, len(new) - 5) + max(0, len(fixed) - 5)
    if more:
        lines.append(f"- … {more} more in the full report")
    return "\n".join(lines)


def _all_findings(report: Report, room: int) -> str:
    """Every finding on one line each, collapsed; as many as the line budget allows."""
    if not report.findings:
        return ""
    shown = report.findings[: max(3, room)] if len(report.findings) > room else report.findings
    lines = [f"<details><summary>All findings ({len(report.findings)})</summary>", ""]
    for f in shown:
        where = code_span(view.shorten(view.location_text(f.location), 60))
        known = " (known)" if f.known else ""
        message = md(view.shorten(f.message, 140))
        lines.append(f"- {SEVERITY_ICON[f.severity.label]} `{f.rule}`{known} {where}: {message}")
    if len(report.findings) > len(shown):
        lines.append(f"- … {len(report.findings) - len(shown)} more: `apiaudit report report.json --format html`")
    return "\n".join([*lines, "", "</details>"])


def _passed(report: Report) -> str:
    items = [c for c in report.checklist if c.status == "pass"]
    if not items:
        return ""
    names = ", ".join(f"`{c.id}`" for c in items)
    return f"<details><summary>Passed ({len(items)} items)</summary>\n\n{names}\n\n</details>"


def _not_assessed(report: Report) -> str:
    items = [c for c in report.checklist if c.status == "not_assessed"]
    if not items:
        return ""
    lines = [f"<details><summary>Not assessed ({len(items)} of {len(report.checklist)} items)</summary>", ""]
    lines += [f"- `{c.id}`: {md(view.shorten(c.reason or 'not assessed', 100))}" for c in items]
    return "\n".join([*lines, "", "</details>"])


def _skipped(report: Report) -> str:
    """Work the audit did not do (budget, refusals, deadline): never silently dropped."""
    if not report.skipped:
        return ""
    lines = [f"<details><summary>Skipped ({len(report.skipped)})</summary>", ""]
    lines += [f"- {md(view.shorten(str(s.get('where', '')), 60))}: {md(s.get('what', ''))} — "
              f"{md(view.shorten(str(s.get('reason', '')), 100))}" for s in report.skipped[:8]]
    if len(report.skipped) > 8:
        lines.append(f"- … {len(report.skipped) - 8} more in the JSON report")
    return "\n".join([*lines, "", "</details>"])


def _errors(report: Report) -> str:
    """Errors are never hidden: what could not be audited changes what the verdict means."""
    if not report.errors:
        return ""
    lines = [f"### Errors during the audit ({len(report.errors)})"]
    lines += [
        f"- **{md(e.get('where', ''))}**: {md(view.shorten(str(e.get('message', '')), 200))}"
        for e in report.errors[:5]
    ]
    if len(report.errors) > 5:
        lines.append(f"- … {len(report.errors) - 5} more in the JSON report")
    return "\n".join(lines)
