"""Query anti-patterns in the workload SQL (checklist: database.query_plans): SELECT * on wide
tables, no LIMIT on big results, OFFSET paging, leading-wildcard LIKE, functions on filtered
columns, huge IN lists, ORDER BY random(), counting by fetching rows. The AST work lives in
``apiaudit.db.querylint``, imported only when there is a workload (sqlglot is slow to import).
"""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.db.evidence import DbEvidence
from apiaudit.model import Finding
from apiaudit.requirements import Req

RULES = (
    "db.query.select-star",
    "db.query.no-limit",
    "db.query.offset-pagination",
    "db.query.leading-wildcard",
    "db.query.function-on-column",
    "db.query.huge-in-list",
    "db.query.order-by-random",
    "db.query.count-by-fetch",
)


@check(*RULES, kind="db", requires=(Req.WORKLOAD,))
def check_antipatterns(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if not ev.workload:
        yield NotApplicable("no workload queries (pg_stat_statements empty or unreadable, no --log)")
        return
    if not ev.connected:
        # SQL text alone is no plan: the lint findings still count, but without them the item
        # (database.query_plans) stays not_assessed instead of passing on plans nobody saw.
        yield NotApplicable(ev.unavailable("query plans"))
    from apiaudit.db.querylint import lint_workload

    yield from lint_workload(ev, ctx)
