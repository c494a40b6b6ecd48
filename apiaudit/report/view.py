"""Read-only views of a finished report that several renderers share.

Nothing here scores or judges: it groups, orders, labels and looks up rule wording (``why``,
``docs``) that the JSON report deliberately does not repeat for every finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from apiaudit.model import SECTIONS, ChecklistStatus, Report, ReportFinding, Severity
from apiaudit.report import RenderOptions

SECTION_TITLES: dict[str, str] = {
    "database": "Database",
    "caching": "Caching",
    "api_design": "API design",
    "scaling": "Scaling",
    "monitoring": "Monitoring",
}
STATUS_LABELS: dict[str, str] = {
    "pass": "pass",
    "warn": "warn",
    "fail": "fail",
    "not_assessed": "not assessed",
}


@dataclass(frozen=True)
class RuleDoc:
    """Wording of a rule a finding refers to; empty strings when the rule is not installed here."""

    id: str
    title: str = ""
    summary: str = ""
    why: str = ""
    docs: str | None = None
    default_severity: str = ""


def ruleset_of(opts: RenderOptions) -> Any:
    """The ruleset given by the caller, else the installed rules, else None (renderers degrade)."""
    given = opts.extra.get("ruleset")
    if given is not None:
        return given
    try:
        from apiaudit.rules import load_rules

        return load_rules()
    except Exception:  # a broken rules dir must not stop a report from rendering
        return None


def rule_docs(report: Report, opts: RenderOptions) -> dict[str, RuleDoc]:
    ruleset = ruleset_of(opts)
    rules = getattr(ruleset, "rules", {}) if ruleset is not None else {}
    out: dict[str, RuleDoc] = {}
    for f in report.findings:
        rule = rules.get(f.rule)
        if rule is None:
            out.setdefault(f.rule, RuleDoc(id=f.rule, title=f.title))
        else:
            out[f.rule] = RuleDoc(
                id=rule.id,
                title=rule.title,
                summary=rule.summary,
                why=rule.why,
                docs=rule.docs,
                default_severity=rule.severity.label,
            )
    return out


def findings_by_item(report: Report) -> Iterator[tuple[ChecklistStatus, list[ReportFinding]]]:
    """Checklist items in report order, each with its findings (only items that have some)."""
    by_id = {f.id: f for f in report.findings}
    placed: set[str] = set()
    for item in report.checklist:
        mine = [by_id[i] for i in item.findings if i in by_id]
        mine += [f for f in report.findings if f.checklist == item.id and f.id not in item.findings]
        placed.update(f.id for f in mine)
        if mine:
            yield item, mine
    orphans = [f for f in report.findings if f.id not in placed]
    if orphans:
        yield ChecklistStatus("other", "", "Other findings", "warn", None, [f.id for f in orphans]), orphans


def items_by_section(report: Report) -> list[tuple[str, list[ChecklistStatus]]]:
    sections = [s for s in SECTIONS if any(c.section == s for c in report.checklist)]
    return [(s, [c for c in report.checklist if c.section == s]) for s in sections]


def severity_counts(report: Report) -> dict[str, int]:
    """Counts per severity label, worst first, including zeros."""
    counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
    for f in report.findings:
        counts[f.severity.label] += 1
    return counts


def location_text(loc: dict[str, Any]) -> str:
    """One line naming where a finding is (never the masked sample's full text)."""
    if "url" in loc:
        return f"{loc.get('method', 'GET')} {loc['url']}"
    if "index" in loc:
        return f"index {_dotted(loc.get('schema'), loc.get('table'))}.{loc['index']}"
    if "table" in loc:
        cols = loc.get("columns") or []
        suffix = f"({', '.join(str(c) for c in cols)})" if cols else ""
        return f"table {_dotted(loc.get('schema'), loc['table'])}{suffix}"
    if "fingerprint" in loc:
        sample = str(loc.get("sample") or "")
        return f"query {loc['fingerprint']}" + (f": {shorten(sample, 90)}" if sample else "")
    if "server" in loc:
        prefix = loc.get("key_prefix")
        return f"cache {loc['server']}" + (f" keys {prefix}*" if prefix else "")
    if "target" in loc:
        return str(loc["target"])
    return ", ".join(f"{k}={v}" for k, v in loc.items())


def _dotted(*parts: Any) -> str:
    return ".".join(str(p) for p in parts if p)


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def evidence_rows(evidence: dict[str, Any], *, limit: int = 2000) -> list[tuple[str, str]]:
    """Flat (key, value) rows for an evidence table; nested values shown as compact JSON."""
    rows = []
    for key, value in evidence.items():
        if value is None or isinstance(value, (dict, list, tuple, bool)):
            text = json.dumps(value, ensure_ascii=False, default=str, indent=None)
        else:
            text = str(value)
        rows.append((str(key), shorten_keep_lines(text, limit)))
    return rows


def shorten_keep_lines(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Stats shown in the HTML summary box; the rest go to a collapsed table further down.
HEADLINE_STATS = ("http_requests", "endpoints", "queries", "explained", "log_lines", "keys_sampled")


def stats_split(report: Report) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    shown: list[tuple[str, Any]] = []
    rest: list[tuple[str, Any]] = []
    for key, value in report.stats.items():
        if key == "gate" or isinstance(value, (dict, list)):
            continue
        (shown if key in HEADLINE_STATS else rest).append((key.replace("_", " "), value))
    return shown, rest


def gate_of(report: Report) -> dict[str, Any] | None:
    gate = report.stats.get("gate")
    return gate if isinstance(gate, dict) else None


def gate_failing(report: Report) -> set[str] | None:
    """Ids of the findings that failed the recorded gate; None when no gate was recorded."""
    gate = gate_of(report)
    if gate is None or not isinstance(gate.get("failing"), list):
        return None
    return {str(i) for i in gate["failing"]}


def source_location(loc: dict[str, Any], report: Report | None = None) -> tuple[str, int | None] | None:
    """A repository file (and line) a finding can be shown at: one its check named, or the line of
    apiaudit.yaml / the OpenAPI file that declares its endpoint (``measurements.sources``)."""
    path = loc.get("file") or loc.get("spec_file")
    if isinstance(path, str) and path:
        line = loc.get("line") or loc.get("spec_line")
        return path, line if isinstance(line, int) and not isinstance(line, bool) else None
    url = loc.get("url")
    if report is None or not isinstance(url, str):
        return None
    for entry in report.measurements.get("sources") or []:
        if isinstance(entry, dict) and url in (entry.get("url"), str(entry.get("url", "")).split("?")[0]):
            line = entry.get("line")
            return str(entry.get("file")), line if isinstance(line, int) and not isinstance(line, bool) else None
    return None


def fix_blocks(text: str) -> list[tuple[str, str]]:
    """Split a rule's fix into ("text", ...) and ("code", ...) blocks: ``` fences or 4-space indents."""
    blocks: list[tuple[str, str]] = []
    buf: list[str] = []
    kind = "text"

    def flush(next_kind: str) -> None:
        nonlocal buf, kind
        body = "\n".join(buf).strip("\n")
        if body.strip():
            blocks.append((kind, body if kind == "code" else body.strip()))
        buf, kind = [], next_kind

    fenced = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            flush("text" if fenced else "code")
            fenced = not fenced
            continue
        if not fenced:
            indented = line.startswith("    ") or line.startswith("\t")
            want = "code" if indented or (kind == "code" and not line.strip()) else "text"
            if want != kind:
                flush(want)
            line = line[4:] if want == "code" and line.startswith("    ") else line
        buf.append(line)
    flush("text")
    return blocks


# Threshold lines drawn on charts when the report itself carries none (rules/thresholds.yaml names).
CHART_THRESHOLDS = {
    "warn_ms": "p95_warn_ms",
    "crit_ms": "p95_critical_ms",
    "warn_pct": "cache_hit_rate_warn_pct",
    "crit_pct": "cache_hit_rate_critical_pct",
}


def chart_defaults(opts: RenderOptions) -> dict[str, float]:
    """The ruleset's default thresholds for the chart lines (a report does not record overrides)."""
    ruleset = ruleset_of(opts)
    known = getattr(ruleset, "thresholds", {}) if ruleset is not None else {}
    return {key: known[name].default for key, name in CHART_THRESHOLDS.items() if name in known}


def baseline_summary(report: Report) -> dict[str, int] | None:
    """Counts against the --baseline: known/new from the findings, fixed when the gate recorded it
    (``stats["baseline"]["fixed"]``: fingerprints in the baseline that this run no longer found)."""
    known = sum(1 for f in report.findings if f.known)
    recorded = report.stats.get("baseline")
    fixed = recorded.get("fixed") if isinstance(recorded, dict) else None
    if not known and not isinstance(fixed, int):
        return None
    out = {"known": known, "new": len(report.findings) - known}
    if isinstance(fixed, int) and not isinstance(fixed, bool):
        out["fixed"] = fixed
    return out
