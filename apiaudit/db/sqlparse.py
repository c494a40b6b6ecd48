"""Parse workload SQL with sqlglot (postgres dialect), tolerant of ``$n`` placeholders.

sqlglot's tokenizer reads ``$2,$3`` as the start of a dollar-quoted string, so placeholders are
spaced out first. A statement sqlglot cannot parse is kept by the caller; only AST checks skip it.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

_PARAM = re.compile(r"\$(\d+)")
# sqlglot logs a warning for each statement it falls back to parsing as a Command.
logging.getLogger("sqlglot").setLevel(logging.ERROR)
MAX_PARSE_CHARS = 20_000


class ParseFailure(Exception):
    pass


def _spaced(sql: str) -> str:
    return _PARAM.sub(r" $\1 ", sql)


@lru_cache(maxsize=2048)
def parse_statements(sql: str) -> tuple[exp.Expression, ...]:
    """All statements of ``sql``; raises :class:`ParseFailure` with sqlglot's reason."""
    if len(sql) > MAX_PARSE_CHARS:
        raise ParseFailure(f"statement longer than {MAX_PARSE_CHARS} characters")
    try:
        trees = sqlglot.parse(_spaced(sql), read="postgres")
    except (SqlglotError, ValueError, RecursionError) as exc:
        raise ParseFailure(str(exc).splitlines()[0][:200]) from None
    return tuple(t for t in trees if isinstance(t, exp.Expression))


def parse_one(sql: str) -> exp.Expression:
    trees = parse_statements(sql)
    if len(trees) != 1:
        raise ParseFailure(f"{len(trees)} statements")
    return trees[0]


def function_names(tree: exp.Expression) -> set[str]:
    """Lower-case names of every function called, as PostgreSQL spells them where sqlglot renames."""
    names = set()
    for fn in tree.find_all(exp.Func):
        if isinstance(fn, exp.Anonymous):
            names.add(str(fn.name).lower())
        else:
            names.add(_PG_NAMES.get(type(fn).__name__, fn.sql_name().lower()))
    return names


_PG_NAMES: dict[str, str] = {"Rand": "random"}  # sqlglot class name -> PostgreSQL function name
