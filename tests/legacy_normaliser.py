"""The sqlglot normaliser that apiaudit used before libpg_query (reference for the differential test
and bench/normalise.py only): literal → ``$1``, identifiers lower-cased, one VALUES row, one IN item."""

from __future__ import annotations

import re

import sqlglot
from sqlglot import expressions as exp

from apiaudit.db.fingerprint import MARK, mask

_PARAM_OUT = re.compile(r"\$\d+")
_VERBS = frozenset({"select", "with", "insert", "update", "delete", "merge", "values", "table", ""})


def legacy_sample(sql: str) -> str | None:
    masked = mask(sql)
    if masked[:8].split(" ", 1)[0].split("(", 1)[0].lower() not in _VERBS:
        return None
    try:
        trees = sqlglot.parse(masked.replace(MARK, " $1 "), dialect="postgres")
        if len(trees) != 1 or trees[0] is None or isinstance(trees[0], exp.Command):
            return None
        out = trees[0].transform(_canonical).sql(dialect="postgres")
    except Exception:
        return None
    counter = iter(range(1, 1_000_000))
    return _PARAM_OUT.sub(lambda _m: f"${next(counter)}", out)


def _canonical(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Literal) and not isinstance(node.parent, exp.Parameter):
        return exp.Parameter(this=exp.Literal.number(1))
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Parameter):
        return node.this
    if isinstance(node, exp.Identifier) and not node.quoted:
        return exp.Identifier(this=node.this.lower(), quoted=False)
    if isinstance(node, exp.Values) and len(node.expressions) > 1:
        node.set("expressions", node.expressions[:1])
    if isinstance(node, exp.In) and len(node.expressions) > 1 and all(
        isinstance(e, exp.Parameter) for e in node.expressions
    ):
        node.set("expressions", node.expressions[:1])
    return node
