"""SARIF 2.1.0 (OASIS): one run, the ruleset as ``tool.driver.rules``, one result per finding.

Where a finding is: an HTTP finding's URL is its ``artifactLocation.uri``; database and cache objects
have no file, so they are ``logicalLocations`` (schema.table, index, query fingerprint, server).
``partialFingerprints`` carries the report fingerprint (rule + location hash), which is what code
scanning uses to follow a result across runs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from apiaudit.model import Report, ReportFinding, Severity
from apiaudit.report import RenderOptions, view
from apiaudit.report.sarif_locations import Bases, location

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "apiauditFingerprint/v1"
INFORMATION_URI = "https://pypi.org/project/apiaudit/"
MAX_RESULTS = 5000

# SARIF levels (§3.58.6): error fails a check run, warning and note inform.
LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "warning",
    Severity.INFO: "note",
}


def render(report: Report, opts: RenderOptions) -> str:
    return json.dumps(sarif_log(report, opts), indent=2, ensure_ascii=False, default=str) + "\n"


def sarif_log(report: Report, opts: RenderOptions) -> dict[str, Any]:
    rules = driver_rules(report, opts)
    index = {r["id"]: i for i, r in enumerate(rules)}
    with_baseline = any(f.known for f in report.findings)
    bases = Bases(list(report.targets))
    # Info findings are "nothing to do": code scanning would list them as open alerts. GitHub keeps
    # at most 25,000 results per run and shows the first 5,000; findings come worst first.
    reported = [f for f in report.findings if f.severity != Severity.INFO][:MAX_RESULTS]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "apiaudit",
                "version": str(report.tool.get("version", "")),
                "semanticVersion": str(report.tool.get("version", "")),
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "automationDetails": {"id": f"apiaudit/{report.kind}/"},
        "invocations": [invocation(report)],
        "results": [result(f, index[f.rule], bases, with_baseline=with_baseline,
                           source=view.source_location(f.location, report)) for f in reported],
        "properties": {"kind": report.kind, "targets": list(report.targets), "score": report.score,
                       "infoFindings": sum(1 for f in report.findings if f.severity == Severity.INFO)},
    }
    run["originalUriBaseIds"] = bases.original()  # filled while the results were built
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def driver_rules(report: Report, opts: RenderOptions) -> list[dict[str, Any]]:
    """Every installed rule (so code scanning knows them all), plus any rule only the report names."""
    ruleset = view.ruleset_of(opts)
    out: dict[str, dict[str, Any]] = {}
    for rule in getattr(ruleset, "rules", {}).values() if ruleset is not None else []:
        out[rule.id] = rule_descriptor(
            rule.id,
            title=rule.title,
            summary=rule.summary,
            why=rule.why,
            fix=rule.fix,
            severity=rule.severity,
            checklist=rule.checklist,
            docs=rule.docs,
            tags=rule.tags,
        )
    for f in report.findings:
        if f.rule not in out:
            out[f.rule] = rule_descriptor(
                f.rule,
                title=f.title,
                summary=f.title,
                why="",
                fix="",
                severity=f.severity,
                checklist=f.checklist,
                docs=None,
                tags=(),
            )
    return list(out.values())


def rule_descriptor(
    rule_id: str,
    *,
    title: str,
    summary: str,
    why: str,
    fix: str,
    severity: Severity,
    checklist: str,
    docs: str | None,
    tags: tuple[str, ...],
) -> dict[str, Any]:
    help_text = "\n\n".join(
        p for p in (summary, f"Why: {why}" if why else "", f"Fix: {fix}" if fix else "") if p
    )
    help_md = "\n\n".join(
        p for p in (summary, f"**Why:** {why}" if why else "", f"**Fix:**\n\n{fix}" if fix else "") if p
    )
    descriptor: dict[str, Any] = {
        "id": rule_id,
        "name": friendly_name(rule_id),
        "shortDescription": {"text": title or rule_id},
        "fullDescription": {"text": summary or title or rule_id},
        "help": {"text": help_text or title or rule_id, "markdown": help_md or title or rule_id},
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {"tags": [checklist, *tags], "checklist": checklist, "severity": severity.label},
    }
    if docs and docs.startswith(("https://", "http://")):  # helpUri must be an absolute URI
        descriptor["helpUri"] = docs
    return descriptor


def friendly_name(rule_id: str) -> str:
    """``db.fk.unindexed`` -> ``DbFkUnindexed`` (SARIF §3.49.7: a name readable by people, no spaces)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", rule_id) if part)


def result(f: ReportFinding, rule_index: int, bases: Bases, *, with_baseline: bool,
           source: tuple[str, int | None] | None = None) -> dict[str, Any]:
    where = location(f.location, bases)
    if source is not None:  # a file of the repository declares this endpoint: code scanning can show it
        physical: dict[str, Any] = {"artifactLocation": {"uri": source[0], "uriBaseId": "%SRCROOT%"}}
        if source[1]:
            physical["region"] = {"startLine": source[1]}
        where = {"physicalLocation": physical,
                 "logicalLocations": [{"fullyQualifiedName": view.location_text(f.location), "kind": "resource"}]}
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[f.severity],
        "message": {"text": f.message or f.title},
        "locations": [where],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {
            "severity": f.severity.label,
            "checklist": f.checklist,
            "findingId": f.id,
            "known": f.known,
            "evidence": f.evidence,
            "fix": f.fix,
        },
    }
    if with_baseline:  # only meaningful when the report was compared against a baseline
        out["baselineState"] = "unchanged" if f.known else "new"
    return out


def invocation(report: Report) -> dict[str, Any]:
    notes = [
        {"level": "error", "message": {"text": f"{e.get('where', '')}: {e.get('message', '')}"}}
        for e in report.errors
    ]
    inv: dict[str, Any] = {"executionSuccessful": True, "toolExecutionNotifications": notes}
    if report.started_at:
        inv["startTimeUtc"] = report.started_at
    return inv
