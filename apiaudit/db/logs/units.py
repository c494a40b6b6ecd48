"""N+1 detection inside one unit of work, and its aggregation over all units.

A unit of work is what one request did on one connection: a transaction, or the autocommit
statements between two pool checkouts/resets or idle gaps. Inside it, a query that reads by key
(``= $1``, ``LIMIT 1``) and runs at least N times is an N+1 candidate: with different parameter
values, or after a multi-row SELECT whose rows it walks. Repeats need not be consecutive: ORMs
interleave them (author, comments, author, comments... per parent row). Batched reads (``IN
(...)``, ``= ANY($1)``, joins) run once and so never repeat. The parent is the nearest earlier
statement of the unit that is not itself a repeated child: the query whose rows the loop walked.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from statistics import median

from apiaudit.db.logs.evidence import NPlusOnePattern

# One executed statement inside a unit: (fingerprint, parameter key, duration ms or None).
Entry = tuple[str, int, float | None]

# A comparison with one parameter (``col = $1``, ``CAST($1 AS INT) = col``; a bare ``LIMIT $n`` lists rows).
# Any chain of casts counts: SQLAlchemy + psycopg2 log ``id = '…'::uuid::UUID`` → ``CAST(CAST($1 AS UUID) AS UUID)``
# (or ``$1::uuid::UUID`` when the normaliser keeps PostgreSQL's own spelling).
_TYPE = r"[\w\"]+(?:\s+[\w\"]+)*(?:\s*\[\])?"
_PARAM = rf"(?:CAST\(\s*)*\$\d+(?:\s+AS\s+{_TYPE}\s*\))*(?:\s*::\s*{_TYPE})*"
_KEY_READ = re.compile(rf"(?:=\s*{_PARAM}|{_PARAM}\s*=)", re.I)
_BATCHED = re.compile(r"\bIN\s*\(|\bANY\s*\(", re.I)
_SELECT = re.compile(r"^\s*(?:WITH\b.*?\bSELECT\b|SELECT\b)", re.I | re.S)
MAX_KEPT_REPEATS = 1000  # per pattern, for the median: memory stays bounded on huge logs


def shape_kind(sample: str, reset_statements: tuple[str, ...] | frozenset[str]) -> str:
    """begin | commit | rollback | savepoint | reset | keyread | select | write | other.

    ``reset_statements`` are normalised samples in upper case (see ``Collector``), compared whole.
    """
    head = sample.lstrip().upper()
    if head.startswith(("BEGIN", "START TRANSACTION")):
        return "begin"
    if head.startswith(("COMMIT", "END")):
        return "commit"
    if head.startswith(("ROLLBACK TO", "SAVEPOINT", "RELEASE")):
        return "savepoint"
    if head.startswith(("ROLLBACK", "ABORT")):
        return "rollback"
    if head.rstrip("; ") in reset_statements:
        return "reset"
    if _SELECT.match(sample):
        if " FROM " not in head:
            return "other"
        if _KEY_READ.search(sample) and not _BATCHED.search(sample):
            return "keyread"
        return "select"
    if head.startswith(("INSERT", "UPDATE", "DELETE", "MERGE", "COPY")):
        return "write"
    return "other"


Repeat = tuple[str, str | None, int, float | None]  # child, parent, executions, time ms


def unit_repeats(unit: list[Entry], kinds: dict[str, str], min_repeats: int) -> list[Repeat]:
    """(child, parent, executions, time ms) for each N+1 candidate of one unit."""
    counts = Counter(fp for fp, _, _ in unit)
    children = {fp for fp, n in counts.items() if n >= min_repeats and kinds.get(fp) == "keyread"}
    if not children:
        return []
    out = []
    for child in sorted(children):
        entries = [(i, pk, dur) for i, (fp, pk, dur) in enumerate(unit) if fp == child]
        first = entries[0][0]
        parent = None
        for fp, _, _ in reversed(unit[:first]):
            if fp not in children and kinds.get(fp) in ("keyread", "select"):
                parent = fp
                break
        if len({pk for _, pk, _ in entries}) < min_repeats and (parent is None or kinds[parent] != "select"):
            # The same few keys again and again: a hot read, unless a multi-row SELECT came first — then it
            # is a loop over its rows whose keys repeat (Django's ``plans.id = … LIMIT 21`` per row,
            # no identity map): still N+1, fixed by select_related, not by a cache.
            continue
        durations = [d for _, _, d in entries if d is not None]
        out.append((child, parent, len(entries), sum(durations) if durations else None))
    return out


@dataclass
class _Agg:
    units: int = 0
    statements: int = 0
    max_repeats: int = 0
    repeats: list[int] = field(default_factory=list)
    total_ms: float | None = None


class PatternBook:
    """N+1 patterns keyed by (parent, child), summed over every unit of work."""

    def __init__(self) -> None:
        self._agg: dict[tuple[str | None, str], _Agg] = {}

    def add(self, child: str, parent: str | None, repeats: int, ms: float | None) -> None:
        agg = self._agg.setdefault((parent, child), _Agg())
        agg.units += 1
        agg.statements += repeats
        agg.max_repeats = max(agg.max_repeats, repeats)
        if len(agg.repeats) < MAX_KEPT_REPEATS:
            agg.repeats.append(repeats)
        if ms is not None:
            agg.total_ms = (agg.total_ms or 0.0) + ms

    def patterns(self, samples: dict[str, str], routes: dict[str, str]) -> list[NPlusOnePattern]:
        out = []
        for (parent, child), agg in self._agg.items():
            out.append(NPlusOnePattern(
                child=child, child_sample=samples.get(child, ""), parent=parent,
                parent_sample=samples.get(parent) if parent else None, units=agg.units,
                max_repeats=agg.max_repeats, median_repeats=float(median(agg.repeats)),
                statements=agg.statements, total_ms=None if agg.total_ms is None else round(agg.total_ms, 3),
                route=routes.get(child),
            ))
        return sorted(out, key=lambda p: (-p.statements, p.child, p.parent or ""))
