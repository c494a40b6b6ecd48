"""Markdown summary for pull-request comments and ``$GITHUB_STEP_SUMMARY``.

Compact: the score, the section table, failing items, the top findings, then ``<details>`` blocks.
GitHub renders HTML inside Markdown, so text from the target is HTML-escaped and its Markdown
punctuation backslash-escaped; code goes into fences longer than any backtick run it contains.
The result stays under GitHub's 65,536-character comment limit.
"""

from __future__ import annotations

import json
import re
from html import escape

from apiaudit.model import Report, ReportFinding
from apiaudit.report import RenderOptions, view

MAX_CHARS = 60_000  # GitHub refuses comments over 65,536 characters
TOP_FINDINGS = 10
DETAILED_FINDINGS = 25
EVIDENCE_CHARS = 1500
STATUS_ICON = {"pass": "✅", "warn": "⚠️", "fail": "❌", "not_assessed": "➖"}
SEVERITY_ICON = {"critical": "🟥", "high": "🔴", "medium": "🟠", "low": "🔵", "info": "⚪"}
# Inline punctuation that can start formatting anywhere in a line (GFM; "|" matters only in tables,
# where cell() escapes it); "_" only outside words, since
# intraword underscores never emphasise (customer_id stays readable).
_MD_INLINE = re.compile(r"([\\`*\[\]~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# What turns the start of a line into a heading, quote, list item or thematic break.
_MD_LINE_START = re.compile(r"^(\d*)([#+=-]|(?<=\d)[.)])")


def md(text: object) -> str:
    """Plain text safe for Markdown: HTML-escaped, formatting punctuation escaped, on one line."""
    flat = " ".join(str(text).split())
    escaped = _MD_INLINE.sub(r"\\\1", escape(flat, quote=False))
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
    parts = [
        _headline(report),
        _sections(report),
        _failing(report),
        _top(report),
        _details(report),
        _not_assessed(report),
        _errors(report),
    ]
    text = "\n\n".join(p for p in parts if p) + "\n"
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


def _failing(report: Report) -> str:
    bad = [c for c in report.checklist if c.status in ("fail", "warn")]
    if not bad:
        return ""
    lines = ["### Checklist items to fix"]
    for c in sorted(bad, key=lambda c: c.status != "fail"):
        lines.append(f"- {STATUS_ICON[c.status]} **{md(c.title)}** (`{c.id}`): {len(c.findings)} finding(s)")
    return "\n".join(lines)


def _top(report: Report) -> str:
    ordered = sorted(report.findings, key=lambda f: (f.known, -f.severity))[:TOP_FINDINGS]
    if not ordered:
        return ""
    rows = [
        f"### Top findings ({len(ordered)} of {len(report.findings)})",
        "",
        "| Severity | Rule | Where | Message |",
        "|---|---|---|---|",
    ]
    for f in ordered:
        sev = f"{SEVERITY_ICON[f.severity.label]} {f.severity.label}" + (" (known)" if f.known else "")
        where = code_span(view.shorten(view.location_text(f.location), 80))
        rows.append(f"| {sev} | `{f.rule}` | {cell(where)} | {cell(md(view.shorten(f.message, 160)))} |")
    return "\n".join(rows)


def _details(report: Report) -> str:
    blocks = [_detail(f) for f in report.findings[:DETAILED_FINDINGS]]
    if len(report.findings) > DETAILED_FINDINGS:
        blocks.append(f"_{len(report.findings) - DETAILED_FINDINGS} more findings in the full report._")
    return "\n\n".join(blocks)


def _detail(f: ReportFinding) -> str:
    summary = escape(f"{f.id} · {f.severity.label} · {f.rule} — {f.title}" + (" (known)" if f.known else ""))
    body = [
        f"<details><summary>{summary}</summary>",
        "",
        md(f.message),
        "",
        f"**Where:** {code_span(view.location_text(f.location))}",
    ]
    if f.evidence:
        ev = json.dumps(f.evidence, indent=2, ensure_ascii=False, default=str)
        body += ["", "**Evidence:**", "", fence(view.shorten_keep_lines(ev, EVIDENCE_CHARS), "json")]
    if f.fix:
        body += ["", "**Fix:**", "", fence(f.fix)]
    body += ["", f"Rule docs: `apiaudit rules {f.rule}` · fingerprint `{f.fingerprint}`", "", "</details>"]
    return "\n".join(body)


def _not_assessed(report: Report) -> str:
    items = [c for c in report.checklist if c.status == "not_assessed"]
    if not items:
        return ""
    lines = [f"<details><summary>Not assessed ({len(items)} of {len(report.checklist)} items)</summary>", ""]
    lines += [f"- {md(c.title)} (`{c.id}`): {md(c.reason or 'not assessed')}" for c in items]
    return "\n".join([*lines, "", "</details>"])


def _errors(report: Report) -> str:
    if not report.errors:
        return ""
    lines = ["### Errors during the audit"]
    lines += [
        f"- **{md(e.get('where', ''))}**: {md(view.shorten(str(e.get('message', '')), 300))}"
        for e in report.errors
    ]
    return "\n".join(lines)
