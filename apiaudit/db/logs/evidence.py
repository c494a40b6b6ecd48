"""What log analysis found: plain data the pure checks in ``apiaudit.db.checks`` read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from apiaudit.db.workload import WorkloadQuery


@dataclass
class NPlusOnePattern:
    """One child query repeated per parent row inside units of work (aggregated over all units)."""

    child: str  # fingerprint
    child_sample: str
    parent: str | None
    parent_sample: str | None
    units: int  # units of work where it happened
    max_repeats: int
    median_repeats: float
    statements: int  # child executions in those units
    total_ms: float | None  # their time, when durations were logged
    route: str | None = None  # sqlcommenter/marginalia tag of the child, when present

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SingleSelectTx:
    """Transactions that wrapped exactly one SELECT (BEGIN; SELECT; COMMIT)."""

    fingerprint: str
    sample: str
    transactions: int
    calls: int  # all executions of that query


@dataclass
class HotRead:
    """The same read (same fingerprint and same parameter values) executed many times."""

    fingerprint: str
    sample: str
    repeats: int  # executions of the most repeated parameter set (lower bound: counted lossily)
    calls: int  # all executions of the query
    total_ms: float | None


@dataclass
class SessionStats:
    sessions: int = 0  # client sessions that ran at least one statement
    median_statements: float = 0.0
    median_lifetime_ms: float | None = None  # first to last statement (or connect to disconnect)
    span_s: float | None = None  # time covered by the log
    connections_logged: int = 0  # "connection authorized" lines (log_connections)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LogEvidence:
    workload: list[WorkloadQuery] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    grouping: str | None = None  # None: units of work could be formed; else why not
    durations: bool = False  # some statement durations were logged
    # Written with log_min_duration_statement > 0 (only statements slower than it): what is missing cannot
    # be judged (transactions, repeated reads), and N+1 from it is at most possible.
    sampled: bool = False
    min_duration_ms: float | None = None  # the fastest statement logged with its duration
    min_repeats: int = 5
    nplusone: list[NPlusOnePattern] = field(default_factory=list)
    single_select_tx: list[SingleSelectTx] = field(default_factory=list)
    hot_reads: list[HotRead] = field(default_factory=list)
    sessions: SessionStats = field(default_factory=SessionStats)
    # fingerprint -> a few (raw text with literals, logged "$1 = '...'" parameters) of that query
    literal_samples: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)

    @property
    def read_any(self) -> bool:
        """Whether at least one log file could be read (else the log half audited nothing: exit 3)."""
        return bool(self.stats.get("log_formats"))

    @property
    def measurements(self) -> dict[str, Any]:
        """Figures the HTML report charts (apiaudit/report/measurements.md): ``nplusone`` (by occurrences)."""
        return {
            "nplusone": [
                {"child": p.child_sample, "parent": p.parent_sample, "occurrences": p.statements,
                 "units": p.units,
                 "child_fingerprint": p.child, "parent_fingerprint": p.parent, "max_repeats": p.max_repeats,
                 "median_repeats": p.median_repeats, "total_ms": p.total_ms}
                for p in sorted(self.nplusone, key=lambda p: (-p.statements, p.child))[:50]
            ],
        }

