"""JSON: the contract of DESIGN.md (schema_version 1)."""

from __future__ import annotations

import json

from apiaudit.model import Report
from apiaudit.report import RenderOptions


def render(report: Report, opts: RenderOptions) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
