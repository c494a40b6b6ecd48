"""What the db audit collected: plain data the pure checks read (DESIGN.md "collect -> evidence").

Every attribute is ``None`` when it could not be collected (no DSN, no rights, a timeout), so a
check can tell "nothing wrong" from "not looked at" and yield ``NotApplicable``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apiaudit.db.workload import WorkloadQuery

Row = dict[str, Any]
NO_TABLES = "no tables in the audited schemas"


@dataclass
class PlanResult:
    """EXPLAIN of one workload query, and what the index advisor made of it."""

    fingerprint: str
    sample: str
    calls: int
    cost: float | None = None
    plan: dict[str, Any] | None = None  # the JSON plan's top node
    issues: list[Row] = field(default_factory=list)  # seq scans with filter, sort under limit
    candidates: list[Row] = field(default_factory=list)  # {table, schema, columns, where, verified, ...}
    refused: str | None = None  # why it was not EXPLAINed
    error: str | None = None
    analyzed: Row | None = None  # --analyze: actual time/rows
    explained_with: str = "generic plan"  # or "logged values" (the log's real parameters/literals)
    skipped: str | None = None  # why the index advisor did not look for candidates (cost too low)


@dataclass
class DbEvidence:
    target: str | None = None
    server: Row | None = None  # server.sql row
    tables: list[Row] | None = None
    indexes: list[Row] | None = None
    foreign_keys: list[Row] | None = None
    settings: list[Row] | None = None
    activity: list[Row] | None = None
    # health.sql family (apiaudit.db.checks.health): None when refused or not collected
    sequences: list[Row] | None = None
    key_types: list[Row] | None = None
    xid_age: list[Row] | None = None
    vacuum: list[Row] | None = None
    sessions: list[Row] | None = None
    statements: list[WorkloadQuery] | None = None  # pg_stat_statements rows (None: unavailable)
    plans: list[PlanResult] | None = None
    column_stats: dict[tuple[str, str, str], float] | None = None  # (schema, table, column) -> n_distinct
    raw_samples: dict[str, str] = field(default_factory=dict)  # fingerprint -> pg_stat_statements text
    hypopg: bool = False
    logs: Any = None  # apiaudit.db.logs.LogEvidence when --log was given
    workload: list[WorkloadQuery] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # catalog query name -> why it failed

    def available(self, req: Any) -> bool | str:
        """The evidence contract (apiaudit.requirements): True, or why ``req`` was not measured."""
        from apiaudit.db.availability import available

        return available(self, req)

    @property
    def connected(self) -> bool:
        return self.server is not None

    def unavailable(self, what: str) -> str:
        """The not_assessed reason when ``what`` is missing: no database at all, or not readable."""
        if self.target is None:
            return "no database given (apiaudit db DSN)"
        if not self.connected:
            return "could not connect to the database"
        return f"{what} could not be read from the database"

    def table(self, schema: str, name: str) -> Row | None:
        for t in self.tables or []:
            if t["schema"] == schema and t["table"] == name:
                return t
        return None

    def table_index(self) -> dict[tuple[str, str], Row]:
        return {(t["schema"], t["table"]): t for t in self.tables or []}
