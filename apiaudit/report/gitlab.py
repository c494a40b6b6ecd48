"""GitLab Code Quality report (``artifacts:reports:codequality``): a JSON array of issues.

GitLab's format is a subset of Code Climate's: ``description``, ``check_name``, ``fingerprint``,
``severity`` (info|minor|major|critical|blocker) and ``location.path`` + ``location.lines.begin``
are required. Findings without a repository file get the stable logical path ``apiaudit/<kind>``
(GitLab lists them in the merge request widget; it cannot place them in the diff).
"""

from __future__ import annotations

import json
from typing import Any

from apiaudit.model import Report, Severity
from apiaudit.report import RenderOptions, view

SEVERITIES: dict[Severity, str] = {
    Severity.CRITICAL: "blocker",
    Severity.HIGH: "critical",
    Severity.MEDIUM: "major",
    Severity.LOW: "minor",
    Severity.INFO: "info",
}


def render(report: Report, opts: RenderOptions) -> str:
    issues: list[dict[str, Any]] = []
    for f in report.findings:
        where = view.source_location(f.location, report)
        path, line = where if where else (f"apiaudit/{report.kind}", 1)
        issues.append({
            "type": "issue",
            "check_name": f.rule,
            "description": f"{f.title}: {f.message} [at {view.location_text(f.location)}]",
            "categories": ["Performance"],
            "severity": SEVERITIES[f.severity],
            "fingerprint": f.fingerprint,
            "location": {"path": path, "lines": {"begin": line or 1}},
        })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
