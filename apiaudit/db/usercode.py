"""Refuse to plan a workload statement that could run the database users' own code.

Planning constant-folds functions declared IMMUTABLE (a lying one runs inside the auditor's
session), expands views, applies RLS policies and folds index expressions and CHECK constraints;
--analyze executes all of it. So before any EXPLAIN the statement is checked against the catalog
(``sql/user_code.sql``): every function, operator, view, policy, cast and type it may reach must be
pg_catalog's or an allow-listed extension's. Names come from a conservative lexer, not a parser:
every identifier is tried as a function, type and relation name, every run of operator characters
(and each part of it) as an operator, so a statement the lexer cannot read is refused (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Extensions whose code is trusted (owned by a superuser, installed from the server's files).
DEFAULT_ALLOWED_EXTENSIONS = (
    "pg_trgm",
    "hypopg",
    "citext",
    "uuid-ossp",
    "pgcrypto",
    "postgis",
    "btree_gin",
    "btree_gist",
    "hstore",
    "intarray",
    "unaccent",
    "fuzzystrmatch",
    "pg_stat_statements",
)
_OP_CHARS = frozenset("+-*/<>=~!@#%^&|`?")
MAX_OPERATOR_RUN = 16
# Operators that SQL syntax uses without spelling them (IN, BETWEEN, LIKE, CASE, NULLIF, DISTINCT,
# JOIN USING, ORDER BY ...): always looked for.
IMPLICIT_OPERATORS = frozenset({"=", "<>", "<", ">", "<=", ">="})
KEYWORD_OPERATORS = {
    "like": ("~~", "!~~"),
    "ilike": ("~~*", "!~~*"),
    "similar": ("~", "!~"),
}


class UnreadableStatement(ValueError):
    pass


@dataclass(frozen=True)
class Names:
    identifiers: frozenset[str]
    operators: frozenset[str]


def _word_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_" or ord(ch) > 127


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$" or ord(ch) > 127


def lex_names(sql: str) -> Names:
    """Identifiers (folded to lower case unless quoted) and operator names of one statement."""
    idents: set[str] = set()
    ops: set[str] = set(IMPLICIT_OPERATORS)
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch.isspace():
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            i = _skip_comment(sql, i)
        elif ch == "'":
            e_string = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _word_char(sql[i - 2]))
            i = _skip_string(sql, i, backslash=e_string)
        elif ch == '"':
            end, name = _quoted(sql, i)
            idents.add(name)
            i = end
        elif ch == "$":
            i = _skip_dollar(sql, i)
        elif _word_start(ch):
            j = i + 1
            while j < n and _word_char(sql[j]):
                j += 1
            word = sql[i:j]
            idents.update({word, word.lower()})
            ops.update(KEYWORD_OPERATORS.get(word.lower(), ()))
            i = j
        elif ch in _OP_CHARS:
            j = i
            while j < n and sql[j] in _OP_CHARS and not sql.startswith(("--", "/*"), j):
                j += 1
            run = sql[i:j]
            if len(run) > MAX_OPERATOR_RUN:
                raise UnreadableStatement("an operator longer than 16 characters")
            ops.update(run[a:b] for a in range(len(run)) for b in range(a + 1, len(run) + 1))
            i = j
        else:
            i += 1
    return Names(frozenset(idents), frozenset(ops))


def _skip_comment(sql: str, i: int) -> int:
    depth, i = 0, i
    while i < len(sql):
        if sql.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif sql.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    raise UnreadableStatement("unterminated comment")


def _skip_string(sql: str, i: int, *, backslash: bool) -> int:
    j = i + 1
    while j < len(sql):
        if backslash and sql[j] == "\\":
            j += 2
        elif sql[j] == "'":
            if sql.startswith("''", j):
                j += 2
            else:
                return j + 1
        else:
            j += 1
    raise UnreadableStatement("unterminated string literal")


def _quoted(sql: str, i: int) -> tuple[int, str]:
    j, out = i + 1, []
    while j < len(sql):
        if sql[j] == '"':
            if sql.startswith('""', j):
                out.append('"')
                j += 2
                continue
            return j + 1, "".join(out)
        out.append(sql[j])
        j += 1
    raise UnreadableStatement("unterminated quoted identifier")


def _skip_dollar(sql: str, i: int) -> int:
    j = i + 1
    while j < len(sql) and sql[j].isdigit():
        j += 1
    if j > i + 1:
        return j  # a $n placeholder
    end = sql.find("$", i + 1)
    tag = sql[i : end + 1] if end > 0 else ""
    if not tag or not all(_word_char(c) and c != "$" for c in tag[1:-1]):
        raise UnreadableStatement("a '$' that is neither a placeholder nor a dollar quote")
    close = sql.find(tag, end + 1)
    if close < 0:
        raise UnreadableStatement("unterminated dollar quote")
    return close + len(tag)


def find_user_code(cur: Any, sql: str, path: list[str], allowed: tuple[str, ...]) -> list[str]:
    """Names of untrusted functions/operators the statement may run ([] when none); raises
    :class:`UnreadableStatement` when the statement cannot be read. ``cur`` must be pinned."""
    from apiaudit.db.sqlfiles import load_sql

    names = lex_names(sql)
    # Prepared once per session, and planned once: planning this query costs more than running it.
    cur.execute("/* apiaudit */ SET LOCAL plan_cache_mode = force_generic_plan")
    cur.execute(
        load_sql("user_code"),
        {
            "names": sorted(names.identifiers),
            "ops": sorted(names.operators),
            "path": list(path),
            "allowed": list(allowed),
        },
        prepare=True,
    )
    out = []
    for kind, schema, name in cur.fetchall():
        shown = f"{schema}.{name}" if kind == "function" else f"operator {schema}.{name}"
        out.append(shown)
    return out
