"""Where each scanned endpoint is declared in the user's repository: its ``endpoints:`` entry in
apiaudit.yaml, or its path in the OpenAPI file given with ``--openapi FILE``.

SARIF, GitHub annotations and GitLab Code Quality point findings at these lines (a file the
repository has), instead of at a URL no code review can open.
"""

from __future__ import annotations

import os
import re
from typing import Any

from apiaudit.http import discover


def repo_path(path: str) -> str:
    """Relative to the working directory (the repository root in CI) when the file is beneath it."""
    absolute = os.path.abspath(path)
    here = os.getcwd()
    return os.path.relpath(absolute, here) if absolute.startswith(here + os.sep) else path


def config_sources(cfg: Any, api_base: str | None) -> list[dict[str, Any]]:
    if not cfg.path or not cfg.endpoints:
        return []
    lines = cfg.endpoint_lines or [1] * len(cfg.endpoints)
    return [{"url": discover.config_url(raw, api_base), "file": repo_path(cfg.path), "line": line}
            for raw, line in zip(cfg.endpoints, lines, strict=False)]


def spec_sources(path: str, text: str, endpoints: list[Any]) -> list[dict[str, Any]]:
    """Line of each GET operation's path key in a JSON or YAML OpenAPI document."""
    out = []
    for ep in endpoints:
        name = str(getattr(ep, "name", ""))
        if not name.startswith("GET "):
            continue
        key = re.escape(name[4:])
        m = re.search(rf"^\s*[\"']?{key}[\"']?\s*:", text, re.M)
        if m:
            out.append({"url": ep.url, "file": repo_path(path), "line": text.count("\n", 0, m.start()) + 1})
    return out
