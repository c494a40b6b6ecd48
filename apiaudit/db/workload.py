"""The workload: normalised queries with their counts and times, from any source.

pg_stat_statements (``apiaudit.db``) and query logs (``apiaudit.db.logs``) both produce
:class:`WorkloadQuery` rows keyed by the same fingerprint (``apiaudit.db.fingerprint``), so one
list feeds EXPLAIN, the index advisor, the anti-pattern checks and the report's ``workload``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class WorkloadQuery:
    fingerprint: str
    sample: str  # normalised text with $1.. placeholders (literals masked): safe to show and to PREPARE
    calls: int
    source: str  # "pg_stat_statements" | "log" | "log+pg_stat_statements"
    total_ms: float | None = None
    mean_ms: float | None = None
    rows: int | None = None
    attributes: dict[str, str] = field(default_factory=dict)  # sqlcommenter tags, e.g. route

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint, "sample": self.sample, "calls": self.calls,
            "total_ms": None if self.total_ms is None else round(self.total_ms, 3),
            "mean_ms": None if self.mean_ms is None else round(self.mean_ms, 4),
            "rows": self.rows, "source": self.source, **({"attributes": self.attributes} if self.attributes else {}),
        }


def merge_workloads(*lists: list[WorkloadQuery]) -> list[WorkloadQuery]:
    """Join rows with the same fingerprint. pg_stat_statements' counters win where both have one
    (it sees every call; a log may be sampled), the log contributes attributes."""
    merged: dict[str, WorkloadQuery] = {}
    for rows in lists:
        for q in rows:
            have = merged.get(q.fingerprint)
            if have is None:
                merged[q.fingerprint] = q
                continue
            primary, other = (have, q) if have.source == "pg_stat_statements" else (q, have)
            merged[q.fingerprint] = replace(
                primary,
                source="log+pg_stat_statements" if have.source != q.source else primary.source,
                total_ms=primary.total_ms if primary.total_ms is not None else other.total_ms,
                mean_ms=primary.mean_ms if primary.mean_ms is not None else other.mean_ms,
                rows=primary.rows if primary.rows is not None else other.rows,
                attributes={**other.attributes, **primary.attributes},
            )
    return rank(list(merged.values()))


def rank(rows: list[WorkloadQuery]) -> list[WorkloadQuery]:
    """By total time where durations are known, else by calls (DESIGN.md "workload")."""
    return sorted(rows, key=lambda q: (q.total_ms is None, -(q.total_ms or 0.0), -q.calls, q.fingerprint))
