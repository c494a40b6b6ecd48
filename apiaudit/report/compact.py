"""One line per finding, grep- and diff-friendly (like ``ruff --output-format concise``).

``SEVERITY rule-id location: message`` then the gate line; no colour, no wrapping.
"""

from __future__ import annotations

from apiaudit.model import Report
from apiaudit.report import RenderOptions, view


def _flat(text: str) -> str:
    return " ".join(text.split())


def render(report: Report, opts: RenderOptions) -> str:
    failing = view.gate_failing(report)
    lines = []
    for f in report.findings:
        mark = " [gate]" if failing is not None and f.id in failing else " [known]" if f.known else ""
        where = _flat(view.location_text(f.location))
        lines.append(f"{f.severity.label.upper():<8} {f.rule} {where}: {_flat(f.message)}{mark}")
    for err in report.errors:
        lines.append(f"ERROR    {_flat(str(err.get('where', '')))}: {_flat(str(err.get('message', '')))}")
    score = report.score.get("overall")
    summary = f"{len(report.findings)} finding(s); score {'n/a' if score is None else score}"
    gate = view.gate_of(report)
    if gate is not None:
        summary += "; gate " + ("passed" if gate.get("passed") else "FAILED: " + "; ".join(gate.get("reasons", [])))
    lines.append(summary)
    return "\n".join(lines) + "\n"
