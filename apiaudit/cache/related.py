"""Extract what the combined cache checks need from other saved apiaudit reports (pure)."""

from __future__ import annotations

from typing import Any

from apiaudit.cache.evidence import RelatedEvidence
from apiaudit.model import Report

SLOW_ITEM = "monitoring.latency"
UNCACHEABLE_ITEM = "caching.http_headers"


def _brief(finding: Any) -> dict[str, Any]:
    return {"rule": finding.rule, "severity": finding.severity.label, "message": finding.message,
            "fingerprint": finding.fingerprint}


def related_from_reports(reports: list[tuple[str, Report]]) -> RelatedEvidence:
    rel = RelatedEvidence()
    for name, rep in reports:
        rel.sources.append(name)
        for f in rep.findings:
            url = f.location.get("url")
            if not url or str(f.location.get("method", "GET")).upper() != "GET":
                continue
            if f.checklist == SLOW_ITEM:
                rel.slow_urls.setdefault(str(url), _brief(f))
            elif f.checklist == UNCACHEABLE_ITEM:
                rel.uncacheable_urls.setdefault(str(url), _brief(f))
        rel.workload.extend(dict(w) for w in rep.workload if isinstance(w, dict))
    return rel
