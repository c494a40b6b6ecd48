"""The report model: severities, findings, checklist items and the report (DESIGN.md's JSON contract).

Two finding types keep wording out of checks:

* :class:`Finding` is what a check yields: a rule id, where, the variables for the rule's message
  template and the evidence. No severity, no text.
* :class:`ReportFinding` is a finding resolved against its rule (severity after config overrides,
  title, message, fix, checklist item, fingerprint). Renderers only ever see these.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any

SCHEMA_VERSION = 1

__all__ = [
    "SCHEMA_VERSION",
    "SECTIONS",
    "STATUSES",
    "ChecklistStatus",
    "Finding",
    "Location",
    "Report",
    "ReportFinding",
    "Severity",
    "fingerprint_of",
    "printable",
]

# Checklist sections, in the guide's order.
SECTIONS: tuple[str, ...] = ("database", "caching", "api_design", "scaling", "monitoring")
STATUSES: tuple[str, ...] = ("pass", "warn", "fail", "not_assessed")


class Severity(IntEnum):
    """Ordered severities; comparisons follow the order (INFO < ... < CRITICAL)."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None


# A location is a small flat mapping whose keys say what kind it is (DESIGN.md "Locations"):
#   HTTP  {"url", "method"}        table {"schema", "table", "columns"}
#   index {"schema", "table", "index"}    query {"fingerprint", "sample"}
#   cache {"server", "key_prefix"?}       server-wide {"target"}
Location = dict[str, Any]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _hostless(value: Any) -> Any:
    """``http://127.0.0.1:8000/a?b`` -> ``/a?b``: the same finding scanned via localhost, a staging
    host or another port is the same finding (issue 14 point 9)."""
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        rest = value.split("://", 1)[1]
        cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
        return rest[cut:] if rest[cut:].startswith("/") else "/" + rest[cut:]
    return value


def fingerprint_of(rule_id: str, location: Location) -> str:
    """Stable id of a finding for baselines: rule + location only, never message text or numbers, and
    never the scheme/host/port of a URL (path, query and the rule's subject are what identify it)."""
    stable = {k: _hostless(v) for k, v in location.items() if k != "sample"}
    digest = hashlib.sha256(f"{rule_id}\n{_canonical(stable)}".encode()).hexdigest()
    return digest[:20]


def legacy_fingerprint_of(rule_id: str, location: Location) -> str:
    """The fingerprint before 0.2 (URLs with their host): lets an old full-report baseline still match."""
    stable = {k: v for k, v in location.items() if k != "sample"}
    return hashlib.sha256(f"{rule_id}\n{_canonical(stable)}".encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Finding:
    """What a check yields. ``vars`` fill the rule's message template; ``evidence`` is shown as-is."""

    rule_id: str
    location: Location
    vars: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReportFinding:
    id: str
    rule: str
    severity: Severity
    checklist: str
    title: str
    message: str
    location: Location
    evidence: dict[str, Any]
    fix: str
    fingerprint: str
    known: bool = False  # fingerprint present in the --baseline report

    def to_dict(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict: asdict deep-copies every evidence value (0.2 s per 1,000 findings).
        return {
            "id": self.id, "rule": self.rule, "severity": self.severity.label, "checklist": self.checklist,
            "title": self.title, "message": self.message, "location": self.location, "evidence": self.evidence,
            "fix": self.fix, "fingerprint": self.fingerprint, "known": self.known,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportFinding:
        return cls(
            id=str(data["id"]),
            rule=str(data["rule"]),
            severity=Severity.parse(str(data["severity"])),
            checklist=str(data["checklist"]),
            title=str(data.get("title", "")),
            message=str(data.get("message", "")),
            location=dict(data.get("location") or {}),
            evidence=dict(data.get("evidence") or {}),
            fix=str(data.get("fix", "")),
            fingerprint=str(data["fingerprint"]),
            known=bool(data.get("known", False)),
        )


@dataclass
class ChecklistStatus:
    id: str
    section: str
    title: str
    status: str  # one of STATUSES
    reason: str | None
    findings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChecklistStatus:
        return cls(
            id=str(data["id"]),
            section=str(data["section"]),
            title=str(data.get("title", "")),
            status=str(data["status"]),
            reason=data.get("reason"),
            findings=[str(f) for f in data.get("findings") or []],
        )


@dataclass
class Report:
    """One audit's result; ``to_dict`` is the JSON contract (schema_version 1).

    ``skipped`` (work not done and why) is an addition too, next to ``errors``.

    ``measurements`` is an addition to DESIGN.md's contract: figures the renderers chart
    (latency percentiles per endpoint, sizes per coding, top queries, N+1 patterns) so that no
    renderer has to recompute anything from evidence.
    """

    kind: str
    targets: list[str]
    started_at: str
    duration_s: float
    score: dict[str, Any]
    checklist: list[ChecklistStatus]
    findings: list[ReportFinding]
    workload: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    # Work the audit meant to do and did not (budget spent, probe refused, query denied):
    # {"where": url/query/server, "what": probe or requirement, "reason": why}. Renderers print it.
    skipped: list[dict[str, str]] = field(default_factory=list)
    tool: dict[str, str] = field(default_factory=lambda: {"name": "apiaudit", "version": _version()})
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        """The model boundary: whatever a target sent (keys, headers, log text, identifiers), every string
        a renderer reads from here on is printable valid UTF-8 (findings' own fields: ``assemble``)."""
        self.targets = printable(self.targets)
        self.workload, self.stats, self.errors = printable(self.workload), printable(self.stats), printable(self.errors)
        self.measurements = printable(self.measurements)
        for item in self.checklist:
            item.reason = printable(item.reason)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "tool": dict(self.tool),
            "kind": self.kind,
            "targets": list(self.targets),
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "score": self.score,
            "checklist": [c.to_dict() for c in self.checklist],
            "findings": [f.to_dict() for f in self.findings],
            "workload": list(self.workload),
            "stats": dict(self.stats),
            "errors": list(self.errors),
            "skipped": list(self.skipped),
            "measurements": dict(self.measurements),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Load a saved report. Saved reports are untrusted (a CI artifact can be tampered with):
        control characters are replaced so no renderer can put terminal escapes on a screen."""
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"unsupported schema_version {data.get('schema_version')!r}")
        data = printable(data)
        return cls(
            kind=str(data["kind"]),
            targets=[str(t) for t in data.get("targets") or []],
            started_at=str(data.get("started_at", "")),
            duration_s=float(data.get("duration_s") or 0.0),
            score=dict(data.get("score") or {}),
            checklist=[ChecklistStatus.from_dict(c) for c in data.get("checklist") or []],
            findings=[ReportFinding.from_dict(f) for f in data.get("findings") or []],
            workload=list(data.get("workload") or []),
            stats=dict(data.get("stats") or {}),
            errors=list(data.get("errors") or []),
            measurements=dict(data.get("measurements") or {}),
            skipped=[dict(s) for s in data.get("skipped") or [] if isinstance(s, dict)],
            tool=dict(data.get("tool") or {"name": "apiaudit", "version": _version()}),
        )


# C0/C1 controls (but tab and newline), and lone surrogates: a JSON "\ud800" from a target, or argv bytes
# decoded with surrogateescape, cannot be encoded as UTF-8 and would crash every renderer's write.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_DEPTH = 64
TOO_DEEP = "[nested too deeply]"


def printable(value: Any, depth: int = 0) -> Any:
    """Every string with control characters and lone surrogates replaced by U+FFFD (so every string is
    valid UTF-8 and safe on a terminal); containers nested deeper than ``MAX_DEPTH`` are cut."""
    if isinstance(value, str):
        return _CONTROL.sub("\ufffd", value)
    if isinstance(value, dict):
        if depth > MAX_DEPTH:
            return TOO_DEEP
        return {printable(k, depth + 1): printable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if depth > MAX_DEPTH:
            return TOO_DEEP
        return type(value)(printable(v, depth + 1) for v in value)
    return value


def _version() -> str:
    from apiaudit import __version__

    return __version__
