"""EXPLAIN workload queries safely, and verify candidate indexes with HypoPG.

Generic plans, because workload samples carry ``$n`` placeholders:
* PostgreSQL >= 16: ``EXPLAIN (GENERIC_PLAN, FORMAT JSON)`` (PG 16 release notes).
* PostgreSQL <= 15: ``PREPARE`` then ``EXPLAIN EXECUTE`` with NULL arguments under
  ``plan_cache_mode = force_generic_plan`` (docs, "PREPARE": generic plans ignore the values).
Everything runs inside a READ ONLY transaction that is rolled back. PREPARE is not transactional,
so every prepared statement is DEALLOCATEd in a ``finally``. HypoPG: a statement PREPAREd before
the hypothetical index exists keeps its cached generic plan, so hypothetical indexes are created
first and the statement is prepared afterwards.

Order inside the transaction (the session's search_path is pinned to pg_catalog, see ``connect``):
HypoPG calls (schema-qualified, the extension's schema read from pg_extension), then the
user-code check of :mod:`usercode` against the workload's search_path, and only then ``SET LOCAL
search_path`` to the application's path (DSN ``options``/``PGOPTIONS``), so the statement resolves
its names as the application does, and nothing of ours runs under that path but EXPLAIN itself.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from apiaudit.db.connect import PIN, TAG, readonly
from apiaudit.db.plan import Plan, top_node
from apiaudit.db.usercode import DEFAULT_ALLOWED_EXTENSIONS, UnreadableStatement, find_user_code

_PARAM = re.compile(r"\$(\d+)")
STMT = "apiaudit_stmt"
DEFAULT_PATH = ("$user", "public")  # PostgreSQL's default search_path


class UserCodeRefused(Exception):
    """The statement may run code of the database's users: not EXPLAINed (reported, not an error)."""


@dataclass
class ExplainPolicy:
    """How this session EXPLAINs workload statements (set once per connection by ``collect``)."""

    search_path: tuple[str, ...] = DEFAULT_PATH
    allow_user_code: bool = False
    allowed_extensions: tuple[str, ...] = DEFAULT_ALLOWED_EXTENSIONS
    hypopg_schema: str | None = None
    _verdicts: dict[str, str | None] = field(default_factory=dict)


_POLICIES: weakref.WeakKeyDictionary[Any, ExplainPolicy] = weakref.WeakKeyDictionary()


def set_policy(conn: Any, policy: ExplainPolicy) -> None:
    _POLICIES[conn] = policy


def policy_of(conn: Any) -> ExplainPolicy:
    got = _POLICIES.get(conn)
    if got is None:
        got = _POLICIES[conn] = ExplainPolicy()
    return got


def param_count(sql: str) -> int:
    return max((int(m) for m in _PARAM.findall(sql)), default=0)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def rolled_back(conn: Any) -> Iterator[Any]:
    """A READ ONLY transaction, search_path pinned, always rolled back."""
    with readonly(conn) as cur:
        yield cur


def _check_user_code(cur: Any, sql: str, policy: ExplainPolicy) -> None:
    """Raise :class:`UserCodeRefused` unless the statement reaches only trusted code. ``cur`` is pinned."""
    if policy.allow_user_code:
        return
    if sql not in policy._verdicts:
        try:
            found = find_user_code(cur, sql, list(policy.search_path), policy.allowed_extensions)
            policy._verdicts[sql] = (
                f"not explained: calls user-defined code ({', '.join(found[:8])}"
                f"{', …' if len(found) > 8 else ''})"
                if found
                else None
            )
        except UnreadableStatement as exc:
            policy._verdicts[sql] = f"not explained: the user-code check cannot read it ({exc})"
    verdict = policy._verdicts[sql]
    if verdict:
        raise UserCodeRefused(verdict)


def _use_workload_path(cur: Any, policy: ExplainPolicy) -> None:
    path = ", ".join(quote_ident(s) for s in policy.search_path) or "pg_catalog"
    cur.execute(f"{TAG} SET LOCAL search_path = {path}")


def _explain_generic(cur: Any, sql: str, version: int, analyze: bool, policy: ExplainPolicy) -> Plan:
    _check_user_code(cur, sql, policy)
    if version < 160000 and not analyze:
        cur.execute(f"{TAG} SET LOCAL plan_cache_mode = force_generic_plan")
    _use_workload_path(cur, policy)
    try:
        if analyze:  # plain SELECT without placeholders only (checked by the caller)
            cur.execute(f"{TAG} EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
            return top_node(cur.fetchone()[0])
        if version >= 160000:
            cur.execute(f"{TAG} EXPLAIN (GENERIC_PLAN, FORMAT JSON) {sql}")
            return top_node(cur.fetchone()[0])
        n = param_count(sql)
        cur.execute(f"{TAG} PREPARE {STMT} AS {TAG} {sql}")
        try:
            args = f"({', '.join(['NULL'] * n)})" if n else ""
            cur.execute(f"{TAG} EXPLAIN (FORMAT JSON) EXECUTE {STMT}{args}")
            return top_node(cur.fetchone()[0])
        finally:
            cur.execute(f"{TAG} DEALLOCATE {STMT}")
    finally:
        if cur.connection.info.transaction_status == 2:  # INTRANS: not aborted, back to the pin
            cur.execute(PIN)


def explain(conn: Any, sql: str, version: int, *, analyze: bool = False) -> Plan:
    with rolled_back(conn) as cur:
        return _explain_generic(cur, sql, version, analyze, policy_of(conn))


def _hypopg(policy: ExplainPolicy) -> str:
    return f"{quote_ident(policy.hypopg_schema)}." if policy.hypopg_schema else ""


def explain_with_hypothetical(
    conn: Any, sql: str, version: int, create_sql: str | list[str]
) -> tuple[Plan, str]:
    """Plan ``sql`` with hypothetical indexes (one, or a group created together: OR branches);
    returns (plan, the hypothetical index names joined by ``,``)."""
    policy = policy_of(conn)
    with rolled_back(conn) as cur:
        _check_user_code(cur, sql, policy)  # before the hypothetical index exists
        names = []
        for one in [create_sql] if isinstance(create_sql, str) else create_sql:
            cur.execute(
                f"{TAG} SELECT indexname FROM {_hypopg(policy)}hypopg_create_index(%s::pg_catalog.text)",
                (one,),
            )
            row = cur.fetchone()
            names.append(str(row[0]) if row else "")
        try:
            return _explain_generic(cur, sql, version, False, policy), ",".join(names)
        finally:
            if cur.connection.info.transaction_status == 2:
                cur.execute(f"{TAG} SELECT {_hypopg(policy)}hypopg_reset()")
            else:  # an aborted transaction: reset in a fresh one (hypothetical indexes outlive it)
                cur.execute(f"{TAG} ROLLBACK")
                cur.execute(f"{TAG} BEGIN READ ONLY")
                cur.execute(PIN)
                cur.execute(f"{TAG} SELECT {_hypopg(policy)}hypopg_reset()")
