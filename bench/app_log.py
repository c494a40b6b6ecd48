"""A realistic application query log for bench/logs_vs_pgbadger.py --app (issue 15, point 13).

A throwaway cluster (log_statement = 'all', log_connections/log_disconnections on, stderr only)
runs the test suite's application workloads (tests/logs/workloads.py and drivers.py) in rounds:
SQLAlchemy 2 lazy and selectin loading over psycopg 3 (extended protocol, multi-line SQL),
SQLAlchemy + psycopg2 with UUID keys (``'…'::uuid::UUID`` literals), asyncpg's pool (prepared
statements, the multi-statement reset), psycopg_pool, a Django-style persistent connection (quoted
identifiers, ``LIMIT 21``). Running them until 120 MB would take half an hour on this machine, so
``REAL_MB`` of real log is written and then repeated with each copy's process and session ids
renumbered (so copies are distinct sessions), up to the size asked for.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from apiaudit import pgcluster  # noqa: E402

REAL_MB = 24.0
_IDS = re.compile(rb"^(\S+ \S+ \S+) \[(\d+)\] ([0-9a-f]+)\.([0-9a-f]+) ", re.M)


def generate_app_log(out: Path, megabytes: float) -> tuple[str, float]:
    """Write the log to ``out``; returns (log_line_prefix, seconds spent)."""
    from logs import drivers as d
    from logs import workloads as w

    t0 = time.monotonic()
    settings = {"log_destination": "'stderr'", "log_statement": "'all'", "log_connections": "on",
                "log_disconnections": "on"}
    cluster = pgcluster.start_cluster(settings=settings)
    try:
        cluster.psql("CREATE DATABASE shop")
        cluster.psql(w.SCHEMA, "shop")
        cluster.psql(d.SCHEMA, "shop")
        dsn = cluster.dsn("shop")
        d.REQUESTS = 200  # more requests per pool/engine: less set-up per MB
        target = min(megabytes, REAL_MB) * 1e6
        while cluster.stderr_log.stat().st_size < target:
            w.orm_lazy(dsn)
            w.orm_eager(dsn, "selectin")
            w.orm_separate_requests(dsn)
            w.simple_lazy(dsn)
            d.asyncpg_requests(dsn, lazy=True)
            d.psycopg_pool_requests(dsn)
            d.sqlalchemy_psycopg2(dsn, lazy=True)
            d.sqlalchemy_psycopg2(dsn, lazy=False)
            d.django_requests(dsn, lazy_plans=True)
        cluster.psql("SELECT 'apiaudit-bench-end'")
        pgcluster.wait_for_log(cluster.stderr_log, "apiaudit-bench-end", timeout_s=60)
        real = cluster.stderr_log.read_bytes()
    finally:
        cluster.stop()
    with open(out, "wb") as fh:
        copy = 0
        while fh.tell() < megabytes * 1e6:
            fh.write(real if copy == 0 else renumber(real, copy))
            copy += 1
    return pgcluster.LOG_LINE_PREFIX, time.monotonic() - t0


def renumber(log: bytes, copy: int) -> bytes:
    """Copy ``copy`` of the log with its own process ids (%p) and session ids (%c)."""
    def sub(m: re.Match[bytes]) -> bytes:
        pid = int(m.group(2)) + copy * 1_000_000
        return b"%s [%d] %s.%x " % (m.group(1), pid, m.group(3), int(m.group(4), 16) + copy * 0x100000)

    return _IDS.sub(sub, log)
