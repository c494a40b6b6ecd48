"""Renderers: one module per format, all with the same signature ``render(report, opts) -> str``.

``FORMATS`` is the explicit registry (format name -> module, default file name). Modules are
imported only when their format is asked for, so startup stays fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from apiaudit.model import Report


@dataclass(frozen=True)
class RenderOptions:
    color: bool = True
    width: int | None = None
    verbose: bool = False
    # Optional inputs some renderers use: "ruleset" (a RuleSet; default: the installed rules).
    extra: dict[str, Any] = field(default_factory=dict)


# name -> (module, default file name in --output-dir)
FORMATS: dict[str, tuple[str, str]] = {
    "table": ("apiaudit.report.console", "report.txt"),
    "json": ("apiaudit.report.json", "report.json"),
    "html": ("apiaudit.report.html", "report.html"),
    "sarif": ("apiaudit.report.sarif", "report.sarif"),
    "junit": ("apiaudit.report.junit", "report.junit.xml"),
    "markdown": ("apiaudit.report.markdown", "report.md"),
    "github": ("apiaudit.report.github", "report.github.txt"),
    "gitlab": ("apiaudit.report.gitlab", "gl-code-quality-report.json"),
    "compact": ("apiaudit.report.compact", "report.compact.txt"),
}


def render(fmt: str, report: Report, opts: RenderOptions) -> str:
    module = importlib.import_module(FORMATS[fmt][0])
    text: str = module.render(report, opts)
    return text
