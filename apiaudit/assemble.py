"""Turn a check run into a finished :class:`Report`, and merge saved reports into one.

This is the only place findings meet their rules' wording and severities; renderers get the result.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from apiaudit.checks import KIND_OF_PREFIX, CheckRun
from apiaudit.model import Finding, Report, ReportFinding, fingerprint_of, printable
from apiaudit.redact import redact_value
from apiaudit.rules import RuleSet
from apiaudit.score import build_checklist, compute_score

KIND_HINT = {
    "scan": "needs an API scan (apiaudit scan URL)",
    "db": "no database given (apiaudit db DSN)",
    "cache": "no cache server given (apiaudit cache URL)",
    "monitor": "judged from your Prometheus (apiaudit monitor PROMETHEUS_URL)",
}


NO_CHECK_YET = "no check assesses this item yet"
NOTHING_TO_JUDGE = "the checks for this item found nothing to judge"
GENERIC_REASONS = {NO_CHECK_YET, NOTHING_TO_JUDGE, *KIND_HINT.values()}


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve(findings: list[Finding], ruleset: RuleSet) -> list[ReportFinding]:
    """Resolve findings against rules; drop disabled rules and duplicates; order by severity."""
    checklist_order = {item: i for i, item in enumerate(ruleset.checklist)}
    seen: set[str] = set()
    resolved: list[ReportFinding] = []
    for f in findings:
        rule = ruleset.rules.get(f.rule_id)
        if rule is None or not rule.enabled:
            continue
        # Target content (headers, bodies, identifiers, log text) never brings control characters along.
        location = printable(redact_value(f.location))
        fp = fingerprint_of(rule.id, location)
        key = f"{rule.id}\n{json.dumps(location, sort_keys=True, default=str)}"  # same path, other host: kept
        if key in seen:
            continue
        seen.add(key)
        variables = {**location, **f.vars}
        resolved.append(
            ReportFinding(
                id="", rule=rule.id, severity=rule.severity, checklist=rule.checklist, title=rule.title,
                message=printable(redact_value(rule.render_message(variables))), location=location,
                evidence=printable(redact_value(f.evidence)), fix=printable(redact_value(rule.render_fix(variables))),
                fingerprint=fp,
            )
        )
    resolved.sort(key=lambda r: (-r.severity, checklist_order.get(r.checklist, 99), r.rule, r.fingerprint))
    for i, r in enumerate(resolved, 1):
        r.id = f"f{i}"
    return resolved


def not_assessed_reasons(run: CheckRun, ruleset: RuleSet) -> dict[str, str]:
    """Why each unjudged item was not judged: a check's own reason, else which audit would judge it."""
    reasons = dict(run.reasons)
    kinds_for: dict[str, set[str]] = {}
    for rule in ruleset.rules.values():
        kind = KIND_OF_PREFIX.get(rule.id.split(".")[0])
        if kind:
            kinds_for.setdefault(rule.checklist, set()).add(kind)
    for item in ruleset.checklist:
        if item in reasons:
            continue
        missing = sorted(kinds_for.get(item, set()) - run.kinds)
        if missing:
            reasons[item] = "; ".join(KIND_HINT[k] for k in missing)
        elif kinds_for.get(item):
            reasons[item] = NOTHING_TO_JUDGE
        else:
            reasons[item] = NO_CHECK_YET
    return reasons


def assemble(
    *,
    kind: str,
    targets: list[str],
    run: CheckRun,
    ruleset: RuleSet,
    started_at: str,
    duration_s: float,
    stats: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    workload: list[dict[str, Any]] | None = None,
    measurements: dict[str, Any] | None = None,
    skipped: list[dict[str, str]] | None = None,
) -> Report:
    findings = resolve(run.findings, ruleset)
    # Reasons may quote target URLs (and their passwords): redacted like every other string (issue 12).
    checklist = build_checklist(ruleset.checklist, findings, run.covered,
                                redact_value(not_assessed_reasons(run, ruleset)), redact_value(run.unmeasured))
    return Report(
        kind=kind,
        targets=[redact_value(t) for t in targets],
        started_at=started_at,
        duration_s=duration_s,
        score=compute_score(checklist),
        checklist=checklist,
        findings=findings,
        workload=redact_value(list(workload or [])),
        stats=dict(stats or {}),
        errors=printable(redact_value(list(errors or []) + run.errors)),
        measurements=redact_value(dict(measurements or {})),
        skipped=printable(redact_value(list(skipped or []))),
    )


def judged_items(report: Report) -> tuple[set[str], dict[str, str], dict[str, str]]:
    """From a finished checklist: items judged on evidence, reasons of the unjudged, and the items
    that were only partly measured (judged by a problem finding, with the reason kept)."""
    assessed = {c.id for c in report.checklist if c.status != "not_assessed" and not c.reason}
    reasons = {c.id: c.reason for c in report.checklist if c.status == "not_assessed" and c.reason}
    unmeasured = {c.id: c.reason for c in report.checklist if c.status != "not_assessed" and c.reason}
    return assessed, reasons, unmeasured


def reresolve(report: Report, ruleset: RuleSet) -> Report:
    """A saved report judged again under ``ruleset`` (``apiaudit report``, the CI gate): severities and
    ``off`` from the config applied, ``known`` flags dropped (only this run's --baseline may set them),
    checklist and score rebuilt. Items a saved report did not assess stay not assessed unless a finding
    now above info makes them warn/fail; an unknown rule keeps its saved severity."""
    findings: list[ReportFinding] = []
    for f in report.findings:
        rule = ruleset.rules.get(f.rule)
        if rule is not None and not rule.enabled:
            continue
        if rule is not None:
            f.severity, f.checklist = rule.severity, rule.checklist
        f.known = False
        findings.append(f)
    order = {item: i for i, item in enumerate(ruleset.checklist)}
    findings.sort(key=lambda r: (-r.severity, order.get(r.checklist, 99), r.rule, r.fingerprint))
    for i, f in enumerate(findings, 1):
        f.id = f"f{i}"
    assessed, reasons, unmeasured = judged_items(report)
    report.findings = findings
    report.checklist = build_checklist(ruleset.checklist, findings, assessed, reasons, unmeasured)
    report.score = compute_score(report.checklist)
    return report


def merge_reports(reports: list[Report], ruleset: RuleSet) -> Report:
    """One combined report: an item judged by any side counts as judged; findings join by fingerprint."""
    if len(reports) == 1:
        return reports[0]
    seen: set[str] = set()
    findings: list[ReportFinding] = []
    assessed: set[str] = set()
    reasons: dict[str, str] = {}
    unmeasured: dict[str, str] = {}
    for rep in reports:
        judged, why, partial = judged_items(rep)
        assessed |= judged
        for item_id, reason in partial.items():
            unmeasured.setdefault(item_id, reason)
        for item_id, reason in why.items():
            if item_id not in reasons or reasons[item_id] in GENERIC_REASONS:
                reasons[item_id] = reason  # a side's specific reason beats another's generic hint
        for f in rep.findings:
            if f.fingerprint not in seen:
                seen.add(f.fingerprint)
                findings.append(f)
    order = {item: i for i, item in enumerate(ruleset.checklist)}
    findings.sort(key=lambda r: (-r.severity, order.get(r.checklist, 99), r.rule, r.fingerprint))
    for i, f in enumerate(findings, 1):
        f.id = f"f{i}"
    # Judged by any side counts as judged; an item only partly measured on one side stays partial
    # unless another side judged it fully.
    unmeasured = {k: v for k, v in unmeasured.items() if k not in assessed}
    checklist = build_checklist(ruleset.checklist, findings, assessed, reasons, unmeasured)
    stats: dict[str, Any] = {}
    for rep in reports:
        for key, value in rep.stats.items():
            if isinstance(value, (int, float)) and isinstance(stats.get(key, 0), (int, float)):
                stats[key] = stats.get(key, 0) + value
            else:
                stats.setdefault(key, value)
    measurements: dict[str, Any] = {}
    for rep in reports:
        for key, value in rep.measurements.items():
            if isinstance(value, list) and isinstance(measurements.get(key), list):
                measurements[key] = measurements[key] + value
            else:
                measurements.setdefault(key, value)
    return Report(
        kind="combined",
        targets=[t for rep in reports for t in rep.targets],
        started_at=min(rep.started_at for rep in reports),
        duration_s=sum(rep.duration_s for rep in reports),
        score=compute_score(checklist),
        checklist=checklist,
        findings=findings,
        workload=[w for rep in reports for w in rep.workload],
        stats=stats,
        errors=[e for rep in reports for e in rep.errors],
        measurements=measurements,
        skipped=[s for rep in reports for s in rep.skipped],
    )
