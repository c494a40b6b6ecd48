"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` annotation per finding.

Printed to a job's log, each line becomes an annotation on the run (and on the PR diff when it names a
file). Findings that fail the gate are errors, other findings warnings, info findings notices, so the
annotations say what the gate said. Escaping follows the runner's rules (actions/toolkit
``command.ts``): ``%``, CR and LF in data; additionally ``:`` and ``,`` in properties.
"""

from __future__ import annotations

from apiaudit.model import Report, ReportFinding, Severity
from apiaudit.report import RenderOptions, view

MAX_ANNOTATIONS = 50  # GitHub shows at most 50 annotations per step; the rest go to a summary line


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def level(f: ReportFinding, failing: set[str] | None) -> str:
    if failing is not None:
        if f.id in failing:
            return "error"
        return "notice" if f.severity == Severity.INFO else "warning"
    if f.severity >= Severity.HIGH and not f.known:
        return "error"
    return "notice" if f.severity == Severity.INFO else "warning"


def render(report: Report, opts: RenderOptions) -> str:
    failing = view.gate_failing(report)
    lines: list[str] = []
    for f in report.findings[:MAX_ANNOTATIONS]:
        props = {"title": f"{f.rule} ({f.severity.label})"}
        where = view.source_location(f.location, report)
        if where:
            props["file"] = where[0]
            if where[1]:
                props["line"] = str(where[1])
        prop_text = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
        message = f"{f.message} [at {view.location_text(f.location)}]"
        lines.append(f"::{level(f, failing)} {prop_text}::{escape_data(message)}")
    if len(report.findings) > MAX_ANNOTATIONS:
        rest = len(report.findings) - MAX_ANNOTATIONS
        lines.append(f"::notice title=apiaudit::{rest} more finding(s) in the full report")
    for err in report.errors:
        text = f"{err.get('where', '')}: {err.get('message', '')}"
        lines.append(f"::warning title=apiaudit error::{escape_data(text)}")
    gate = view.gate_of(report)
    if gate is not None and not gate.get("passed"):
        lines.append(f"::error title=apiaudit gate::{escape_data('; '.join(gate.get('reasons', [])))}")
    return "\n".join(lines) + ("\n" if lines else "")
