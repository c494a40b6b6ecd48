"""EXPLAIN workload queries safely, and verify candidate indexes with HypoPG.

Generic plans, because workload samples carry ``$n`` placeholders:
* PostgreSQL >= 16: ``EXPLAIN (GENERIC_PLAN, FORMAT JSON)`` (PG 16 release notes).
* PostgreSQL <= 15: ``PREPARE`` then ``EXPLAIN EXECUTE`` with NULL arguments under
  ``plan_cache_mode = force_generic_plan`` (docs, "PREPARE": generic plans ignore the values).
Everything runs inside a transaction that is rolled back (the session is read-only anyway).
PREPARE is not transactional, so every prepared statement is DEALLOCATEd in a ``finally``.
HypoPG: a statement PREPAREd before the hypothetical index exists keeps its cached generic plan,
so hypothetical indexes are created first and the statement is prepared afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from apiaudit.db.plan import Plan, top_node
from apiaudit.db.sqlfiles import TAG

_PARAM = re.compile(r"\$(\d+)")
STMT = "apiaudit_stmt"


def param_count(sql: str) -> int:
    return max((int(m) for m in _PARAM.findall(sql)), default=0)


@contextmanager
def rolled_back(conn: Any) -> Iterator[Any]:
    """A transaction that is always rolled back (the connection is in autocommit mode)."""
    cur = conn.cursor()
    cur.execute("BEGIN READ ONLY")
    try:
        yield cur
    finally:
        try:
            cur.execute("ROLLBACK")
        finally:
            cur.close()


def _explain_generic(cur: Any, sql: str, version: int, analyze: bool) -> Plan:
    if analyze:  # plain SELECT without placeholders only (checked by the caller)
        cur.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {TAG} {sql}")
        return top_node(cur.fetchone()[0])
    if version >= 160000:
        cur.execute(f"EXPLAIN (GENERIC_PLAN, FORMAT JSON) {TAG} {sql}")
        return top_node(cur.fetchone()[0])
    n = param_count(sql)
    cur.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    cur.execute(f"PREPARE {STMT} AS {TAG} {sql}")
    try:
        args = f"({', '.join(['NULL'] * n)})" if n else ""
        cur.execute(f"EXPLAIN (FORMAT JSON) EXECUTE {STMT}{args}")
        return top_node(cur.fetchone()[0])
    finally:
        cur.execute(f"DEALLOCATE {STMT}")


def explain(conn: Any, sql: str, version: int, *, analyze: bool = False) -> Plan:
    with rolled_back(conn) as cur:
        return _explain_generic(cur, sql, version, analyze)


def explain_with_hypothetical(
    conn: Any, sql: str, version: int, create_sql: str | list[str]
) -> tuple[Plan, str]:
    """Plan ``sql`` with hypothetical indexes (one, or a group created together); returns (plan, the
    hypothetical index names joined by ``,``)."""
    with rolled_back(conn) as cur:
        names = []
        for one in [create_sql] if isinstance(create_sql, str) else create_sql:
            cur.execute(f"SELECT indexname FROM hypopg_create_index(%s) {TAG}", (one,))
            row = cur.fetchone()
            names.append(str(row[0]) if row else "")
        try:
            return _explain_generic(cur, sql, version, False), ",".join(names)
        finally:
            cur.execute(f"SELECT hypopg_reset() {TAG}")
