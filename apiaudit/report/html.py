"""Self-contained HTML report: one file, inline CSS and SVG, no script, no external fetch.

The page declares its own Content-Security-Policy (``default-src 'none'``; the one inline style
block allowed by its SHA-256 hash), so it renders the same when opened from disk, attached to a
CI run or served with a strict CSP. Jinja2 autoescape is on for everything; only the SVG built in
:mod:`apiaudit.report.charts` (which escapes its own text) and the CSS are marked safe.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from apiaudit.model import Report, Severity
from apiaudit.report import RenderOptions, charts, gauge, impact, view

CSS_TEMPLATE = "report.css"
PAGE_TEMPLATE = "report.html.j2"
FIX_FIRST = 5


@lru_cache(maxsize=1)
def environment() -> Environment:
    # PackageLoader reads the templates from the installed package (works from a wheel or a zip).
    env = Environment(
        loader=PackageLoader("apiaudit.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["location"] = view.location_text
    env.filters["evidence_rows"] = view.evidence_rows
    env.filters["fix_blocks"] = view.fix_blocks
    env.filters["score_bar"] = lambda score: Markup(gauge.score_bar(score))
    env.filters["inline_code"] = inline_code
    return env


def inline_code(text: str) -> Markup:
    """Escape ``text`` and show its `backticked` spans as <code> (rule fixes use them for snippets)."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # unbalanced backticks: show the text as it is
        return Markup.escape(text)
    return Markup("").join(
        Markup("<code>{}</code>").format(p) if i % 2 else Markup.escape(p) for i, p in enumerate(parts)
    )


def css_and_policy() -> tuple[str, str]:
    env = environment()
    assert env.loader is not None
    css = env.loader.get_source(env, CSS_TEMPLATE)[0].strip()
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    policy = f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    return css, policy


def render(report: Report, opts: RenderOptions) -> str:
    css, policy = css_and_policy()
    page = environment().get_template(PAGE_TEMPLATE)
    return page.render(**context(report, opts), css=Markup(css), csp=policy)


def context(report: Report, opts: RenderOptions) -> dict[str, Any]:
    score = report.score or {}
    known = sum(1 for f in report.findings if f.known)
    return {
        "report": report,
        "score": score,
        "gauge": Markup(gauge.gauge(score.get("overall"), score.get("grade"))),
        "sections": view.items_by_section(report),
        "section_scores": score.get("sections") or {},
        "section_titles": view.SECTION_TITLES,
        "status_labels": view.STATUS_LABELS,
        "groups": [(item, acting) for item, found in view.findings_by_item(report)
                   if (acting := [f for f in found if f.severity != Severity.INFO])],
        "info_findings": [f for f in report.findings if f.severity == Severity.INFO],
        "fix_first": impact.fix_first(report, FIX_FIRST),
        "rules": view.rule_docs(report, opts),
        "counts": view.severity_counts(report),
        "known": known,
        "baseline": view.baseline_summary(report),
        "charts": [
            (c.id, c.title, Markup(c.svg))
            for c in charts.all_charts(report.measurements, view.chart_defaults(opts))
        ],
        "workload": report.workload[:20],
        "gate": view.gate_of(report),
        "status_counts": _status_counts(report),
        "stats": view.stats_split(report),
    }


def _status_counts(report: Report) -> dict[str, int]:
    counts = {status: 0 for status in view.STATUS_LABELS}
    for item in report.checklist:
        counts[item.status] = counts.get(item.status, 0) + 1
    return counts
