"""JUnit XML: one testsuite per checklist section, one testcase per checklist item.

The testcases mirror the CI gate: an item carries a ``<failure>`` only when it holds a finding that
failed the gate (new, at or above ``--fail-on``, as recorded in ``stats.gate.failing``; without a
recorded gate, the default gate: new findings at or above high). Its other findings, and those of
``warn`` items, are listed in ``<system-out>``; so a passed gate never shows a failing test.
``not_assessed`` items are ``<skipped>`` with the reason. Audit errors become
``<error>`` testcases in an extra suite. The shape validates against the Jenkins xUnit ``junit-10.xsd``
that GitLab and Jenkins both read.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from apiaudit.model import ChecklistStatus, Report, ReportFinding, Severity
from apiaudit.report import RenderOptions, view

# XML 1.0 §2.2: characters outside this set may not appear in a document, even escaped.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def gate_failing(report: Report) -> set[str]:
    recorded = view.gate_failing(report)
    if recorded is not None:
        return recorded
    return {f.id for f in report.findings if not f.known and f.severity >= Severity.HIGH}


def render(report: Report, opts: RenderOptions) -> str:
    by_id = {f.id: f for f in report.findings}
    failing = gate_failing(report)
    root = ET.Element("testsuites", name=f"apiaudit {report.kind}", time=_time(report.duration_s))
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for section, items in view.items_by_section(report):
        suite = _suite(report, section, items, by_id, failing)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    if report.errors:
        root.append(_errors_suite(report))
        totals["tests"] += len(report.errors)
        totals["errors"] += len(report.errors)
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(
    report: Report, section: str, items: list[ChecklistStatus], by_id: dict[str, ReportFinding], failing: set[str]
) -> ET.Element:
    failed = sum(1 for i in items if i.status != "not_assessed" and failing.intersection(i.findings))
    counts = {"fail": failed, "not_assessed": sum(1 for i in items if i.status == "not_assessed")}
    suite = ET.Element(
        "testsuite",
        name=f"apiaudit.{section}",
        tests=str(len(items)),
        failures=str(counts["fail"]),
        errors="0",
        skipped=str(counts["not_assessed"]),
        time="0",
        timestamp=clean(report.started_at),
    )
    sec = (report.score.get("sections") or {}).get(section) or {}
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("section", view.SECTION_TITLES.get(section, section)),
        ("score", sec.get("score")),
        ("overall", report.score.get("overall")),
        ("grade", report.score.get("grade")),
    ):
        ET.SubElement(props, "property", name=name, value=clean("n/a" if value is None else value))
    for item in items:
        suite.append(_case(section, item, [by_id[i] for i in item.findings if i in by_id], failing))
    return suite


def _case(section: str, item: ChecklistStatus, findings: list[ReportFinding], failing: set[str]) -> ET.Element:
    case = ET.Element(
        "testcase", name=clean(f"{item.id}: {item.title}"), classname=f"apiaudit.{section}", time="0"
    )
    if item.status == "not_assessed":
        ET.SubElement(case, "skipped", message=clean(item.reason or "not assessed"))
    elif any(f.id in failing for f in findings):
        gating = [f for f in findings if f.id in failing]
        worst = max(f.severity for f in gating)
        message = f"{len(gating)} finding(s) fail the gate, worst {worst.label}; {len(findings)} in all"
        failure = ET.SubElement(case, "failure", type="apiaudit.fail", message=clean(message))
        failure.text = clean(findings_text(findings))
    elif findings:
        out = ET.SubElement(case, "system-out")
        out.text = clean(findings_text(findings))
    return case


def findings_text(findings: list[ReportFinding]) -> str:
    blocks = []
    for f in findings:
        lines = [
            f"[{f.severity.label.upper()}]{' (known)' if f.known else ''} {f.rule} {f.id}: {f.message}",
            f"  at: {view.location_text(f.location)}",
        ]
        lines += [f"  {k}: {v}" for k, v in view.evidence_rows(f.evidence, limit=500)]
        if f.fix:
            lines.append("  fix: " + f.fix.replace("\n", "\n       "))
        lines.append(f"  fingerprint: {f.fingerprint}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _errors_suite(report: Report) -> ET.Element:
    suite = ET.Element(
        "testsuite",
        name="apiaudit.audit",
        tests=str(len(report.errors)),
        failures="0",
        errors=str(len(report.errors)),
        skipped="0",
        time="0",
    )
    for i, err in enumerate(report.errors, 1):
        case = ET.SubElement(
            suite,
            "testcase",
            name=clean(f"error {i}: {err.get('where', '')}"),
            classname="apiaudit.audit",
            time="0",
        )
        error = ET.SubElement(case, "error", type="apiaudit.error", message=clean(err.get("message", "")))
        error.text = clean(err.get("message", ""))
    return suite


def _time(seconds: float) -> str:
    return f"{max(seconds, 0.0):.3f}"
