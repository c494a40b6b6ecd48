"""The CI gate: decide the exit code of an audit that ran (DESIGN.md "Exit codes")."""

from __future__ import annotations

from dataclasses import dataclass, field

from apiaudit.errors import EXIT_GATE_FAILED, EXIT_OK
from apiaudit.model import Report, Severity


@dataclass(frozen=True)
class GateResult:
    exit_code: int
    reasons: list[str] = field(default_factory=list)
    # Ids of the findings that fail the gate (new, at or above --fail-on): renderers mirror these.
    failing: list[str] = field(default_factory=list)
    fail_on: Severity | None = None

    @property
    def passed(self) -> bool:
        return self.exit_code == EXIT_OK


def mark_known(report: Report, baseline_fingerprints: set[str]) -> None:
    """Flag findings already present in the baseline; they are shown but do not fail the gate."""
    from apiaudit.model import legacy_fingerprint_of

    for finding in report.findings:  # a fingerprints file written before 0.2 holds host-bound ids
        finding.known = finding.fingerprint in baseline_fingerprints or \
            legacy_fingerprint_of(finding.rule, finding.location) in baseline_fingerprints


CRASH_PREFIX = "check "  # errors whose "where" starts so: a check raised (apiaudit.checks.run_checks)


def crashed_checks(report: Report) -> list[str]:
    return [str(e.get("where", ""))[len(CRASH_PREFIX):] for e in report.errors
            if str(e.get("where", "")).startswith(CRASH_PREFIX)]


def decide(report: Report, *, fail_on: Severity | None, min_score: int | None) -> GateResult:
    """Exit 1 on a finding at/above ``fail_on`` (not in the baseline), a score below ``min_score``, or
    a crashed check: a check that broke judged nothing, and a green gate must mean "measured and
    fine" (README "What PASS, not assessed and exit 3 mean"), whatever --fail-on says."""
    reasons: list[str] = []
    crashed = crashed_checks(report)
    if crashed:
        reasons.append(f"{len(crashed)} check(s) crashed, so the audit is incomplete: {', '.join(crashed[:3])}")
    failing = [f for f in report.findings if fail_on is not None and not f.known and f.severity >= fail_on]
    if failing and fail_on is not None:
        worst = max(f.severity for f in failing)
        reasons.append(f"{len(failing)} finding(s) at or above {fail_on.label} (worst: {worst.label})")
    overall = report.score.get("overall")
    if min_score is not None:
        if overall is None:
            reasons.append(f"no checklist item was assessed, so the score cannot reach --min-score {min_score}")
        elif overall < min_score:
            reasons.append(f"score {overall} is below --min-score {min_score}")
    return GateResult(EXIT_GATE_FAILED if reasons else EXIT_OK, reasons, [f.id for f in failing], fail_on)


def record(report: Report, result: GateResult, *, exit_zero: bool = False) -> None:
    """Write the gate's decision into the report so every renderer shows the same verdict."""
    report.stats["gate"] = {
        "passed": result.passed,
        "reasons": result.reasons,
        "fail_on": result.fail_on.label if result.fail_on is not None else None,
        "failing": result.failing,
        **({"exit_zero": True} if exit_zero else {}),
    }
