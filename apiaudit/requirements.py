"""What a check needs from the evidence: typed requirement constants shared by collectors and checks.

A check declares its needs (``@check(..., requires=(Req.PROBE_PAGINATION,))``); before running it the
runner asks the evidence ``evidence.available(req)`` for each one. The answer is ``True`` or the reason
the requirement is missing ("request budget spent", "permission denied for pg_index", "the log is
sampled: log_min_duration_statement = 250 ms"). A missing requirement makes the check's checklist items
``not_assessed`` with that reason, never ``pass`` (DESIGN.md "Evidence rule").

Collectors set what they could gather; they use these same constants, so a renamed probe or query
cannot silently turn a check into one that "found nothing".
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

__all__ = ["Availability", "NotAsked", "Req", "SupportsAvailable", "probe_req"]


class Req(StrEnum):
    """One thing a check may need. The value names the audit half and the thing itself."""

    # -- scan: a usable answer, and the probes (apiaudit.http.probes.PROBES) that feed the checks --
    BASE_ANSWER = "http.base-answer"  # a base GET answered 2xx/3xx with the API (not a login page)
    PROBE_VALIDATION = "http.probe.validation"
    PROBE_COMPRESSION = "http.probe.compression"
    PROBE_PAGINATION = "http.probe.pagination"
    PROBE_FIELDS = "http.probe.fields"
    PROBE_LATENCY = "http.probe.latency"
    PROBE_STATIC = "http.probe.static"
    PROBE_MONITORING = "http.probe.monitoring"
    PROBE_RATELIMIT = "http.probe.ratelimit"

    # -- db: one per catalog query (apiaudit/db/sql/<name>.sql), plus privileges --
    CATALOG_SERVER = "db.catalog.server"
    CATALOG_SETTINGS = "db.catalog.settings"
    CATALOG_TABLES = "db.catalog.tables"
    CATALOG_INDEXES = "db.catalog.indexes"
    CATALOG_FOREIGN_KEYS = "db.catalog.foreign_keys"
    CATALOG_ACTIVITY = "db.catalog.activity"
    CATALOG_COLUMN_STATS = "db.catalog.column_stats"
    CATALOG_STATEMENTS = "db.catalog.statements"  # pg_stat_statements
    CATALOG_SEQUENCES = "db.catalog.sequences"  # pg_sequence + owning column (sequences.sql)
    CATALOG_KEY_TYPES = "db.catalog.key_types"  # FK vs referenced key integer widths
    CATALOG_XID_AGE = "db.catalog.xid_age"  # age(datfrozenxid), age(relfrozenxid)
    CATALOG_VACUUM = "db.catalog.vacuum"  # dead tuples, autovacuum_enabled reloption
    CATALOG_SESSIONS = "db.catalog.sessions"  # pg_stat_database.sessions (PostgreSQL 14+)
    WORKLOAD = "db.workload"  # some query workload (pg_stat_statements or a log)
    EXPLAIN_PLANS = "db.explain"  # at least one workload query was EXPLAINed
    # pg_read_all_stats (or superuser): other sessions' state/query in pg_stat_activity are visible.
    PRIV_READ_ALL_STATS = "db.privilege.pg_read_all_stats"

    # -- db logs --
    LOG_STATEMENTS = "log.statements"  # a log was read and held statements
    EVERY_STATEMENT_LOGGED = "log.every-statement"  # not sampled (log_min_duration_statement > 0)
    TRANSACTION_BOUNDARIES = "log.transaction-boundaries"  # statements grouped into sessions/transactions

    # -- the team's Prometheus (apiaudit monitor): its HTTP API answered --
    PROMETHEUS_API = "monitor.prometheus-api"

    # -- cache server --
    CACHE_STATS = "cache.stats"  # INFO stats / memcached stats (hits, misses, clients)
    CACHE_CONFIG = "cache.config"  # CONFIG GET maxmemory, maxmemory-policy, maxclients
    CACHE_KEYS = "cache.keys"  # SCAN + TTL/MEMORY USAGE on sampled keys


class NotAsked(str):
    """A reason meaning "that half was not asked for" (no DSN, no --log): the check is skipped and its
    items are left to other checks, unlike a plain str reason (asked for, but not measured)."""

    __slots__ = ()


# True when the requirement is met, else the reason it is not (a sentence for the report);
# a NotAsked reason when nobody asked for that evidence.
Availability = bool | str


class SupportsAvailable(Protocol):
    def available(self, req: Req) -> Availability: ...


_PROBES = {
    "validation": Req.PROBE_VALIDATION, "compression": Req.PROBE_COMPRESSION,
    "pagination": Req.PROBE_PAGINATION, "fields": Req.PROBE_FIELDS, "latency": Req.PROBE_LATENCY,
    "static": Req.PROBE_STATIC, "monitoring": Req.PROBE_MONITORING, "ratelimit": Req.PROBE_RATELIMIT,
}


def probe_req(probe: str) -> Req | None:
    """The requirement a probe module (by its PROBES name) satisfies."""
    return _PROBES.get(probe)


def probe_of(req: Req) -> str | None:
    """The probe module name behind a PROBE_* requirement."""
    for name, value in _PROBES.items():
        if value is req:
            return name
    return None
