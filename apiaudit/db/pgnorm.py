"""Normalise a statement with PostgreSQL's own parser (libpg_query through ``pgparse``, BSD-3).

``pgparse.normalize`` replaces every constant with ``$n`` exactly where pg_stat_statements does
(``interval '2 days'`` keeps its type: ``interval $1``). Four fix-ups then make the text a valid,
stable statement that can be PREPAREd and EXPLAINed:

* a typed literal's prefix form (``interval $1``, ``date $2``, ``timestamptz $3``), which the
  grammar only accepts with a string constant, becomes a cast: ``$1::interval``, so the query keeps
  its meaning and its parameter type (pg_stat_statements' own text of such a query is not
  parseable; it goes through the same rewrite, so both get one fingerprint);
* ``IN ($1, $2, $3)`` and multi-row ``VALUES`` collapse to one element (one shape per query,
  whatever the list length, as pg_stat_statements does on PostgreSQL 18);
* whitespace folds to single spaces outside quoted identifiers;
* parameters are renumbered in order, one number per occurrence (``$2 ... $2 ... $1`` becomes
  ``$1 ... $2 ... $3``): the regex mask that keys the cache cannot tell a reused parameter from a
  new one, so neither may the sample; a generic plan does not care.

The fingerprint basis is that text's token stream, unquoted words lower-cased (spacing and case do
not matter; ``IN (...)`` and ``= $1`` stay apart: libpg_query's own fingerprint merges them, which
would merge an N+1's per-key child with its batched fix). A statement the grammar rejects gives
``None``: the caller keeps its regex mask.
"""

from __future__ import annotations

import re

import pgparse

__all__ = ["normalise", "typed_params"]

_TYPES = (
    r"interval|date|time(?:stamp)?(?:tz)?(?:\s*\(\s*\d+\s*\))?(?:\s+with(?:out)?\s+time\s+zone)?"
    r"|uuid|jsonb?|inet|cidr|macaddr8?|numeric|decimal|bigint|smallint|integer|int[248]?|real"
    r"|float[48]|double\s+precision|text|varchar|character\s+varying|bool(?:ean)?|bytea|money|xml"
    r"|tsquery|tsvector|oid|regclass|citext"
)
# The last word of each type name _TYPES knows ("double precision", "with time zone", "varying").
_TYPE_WORDS = frozenset({
    "interval", "date", "time", "timestamp", "timestamptz", "timetz", "zone", "uuid", "json", "jsonb", "inet",
    "cidr", "macaddr", "macaddr8", "numeric", "decimal", "bigint", "smallint", "integer", "int", "int2",
    "int4", "int8", "real", "float4", "float8", "precision", "text", "varchar", "varying", "bool", "boolean",
    "bytea", "money", "xml", "tsquery", "tsvector", "oid", "regclass", "citext",
})

_FIELDS = r"(?:year|month|day|hour|minute|second)\b(?:\s+to\s+(?:month|hour|minute|second)\b)?"
_TYPED = re.compile(rf'(?<![\w."$])({_TYPES})\s+(\$\d+)(\s+{_FIELDS})?', re.I)
# EXTRACT(EPOCH FROM x): the field is a string constant to the parser, so it becomes "$n FROM", which
# the grammar rejects; date_part($n::text, x) is the same function.
_EXTRACT = re.compile(r"\bEXTRACT\s*\(\s*(\$\d+)\s+FROM\s+", re.I)
_SPACE = re.compile(r'("(?:[^"]|"")*")|\s+')
_P = r"\$\d+"
_IN_LIST = re.compile(rf"(\bIN\s*\(\s*{_P})(?:\s*,\s*{_P})+(\s*\))", re.I)
_ROW = rf"\(\s*{_P}(?:\s*,\s*{_P})*\s*\)"
_VALUES = re.compile(rf"(\bVALUES\s*{_ROW})(?:\s*,\s*{_ROW})+", re.I)
_PARAM = re.compile(r'("(?:[^"]|"")*")|\$(\d+)')
_DOLLAR = re.compile(r"\$\d+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_TOKENS = re.compile(r'"(?:[^"]|"")*"|\$\d+|[^\W\d][\w$]*|\d+(?:\.\d*)?|::|[-+*/<>=~!@#%^&|`?]+|\S')


def typed_params(text: str) -> str:
    """``interval $1 day`` → ``$1::interval day`` (only where a parameter follows a type name);
    ``EXTRACT($1 FROM x)`` → ``date_part($1::text, x)``."""
    if "$" not in text:
        return text
    words = _words_before_params(text)
    if "(" in words and "extract" in text.lower():
        text = _EXTRACT.sub(r"date_part(\1::text, ", text)
    if not words & _TYPE_WORDS:
        return text
    return _TYPED.sub(lambda m: f"{m.group(2)}::{m.group(1)}{m.group(3) or ''}", text)


def _words_before_params(text: str) -> set[str]:
    """The word (or "(") right before each ``$n``: the type rewrite runs only when one is a type's."""
    words = set()
    for part in text.split("$")[:-1]:
        part = part.rstrip()
        if part.endswith(")") and "(" in part[-12:]:  # time(3) $1
            part = part[: part.rindex("(")].rstrip()
        i = len(part)
        while i and (part[i - 1].isalnum() or part[i - 1] == "_"):
            i -= 1
        words.add(part[i:].lower() if i < len(part) else part[-1:])
    return words


def _fold(text: str) -> str:
    quoted = '"' in text
    text = _SPACE.sub(lambda m: m.group(1) or " ", text) if quoted else " ".join(text.split())
    text = text.strip().rstrip(";").rstrip()
    if "$" not in text:
        return text
    low = text.lower()
    if "in" in low and "," in text:
        text = _IN_LIST.sub(r"\1\2", text)
    if "values" in low and "," in text:
        text = _VALUES.sub(r"\1", text)
    counter = iter(range(1, 1_000_000))
    if not quoted:
        return _DOLLAR.sub(lambda _m: f"${next(counter)}", text)

    def renumber(m: re.Match[str]) -> str:
        return m.group(1) if m.group(1) is not None else f"${next(counter)}"

    return _PARAM.sub(renumber, text)


def normalise(sql: str) -> tuple[str, str] | None:
    """(fingerprint basis, normalised text) of one statement, or None if PostgreSQL would reject it."""
    if not sql.isascii() and _SURROGATE.search(sql):
        return None  # a lone surrogate (from a hostile JSON log) cannot reach C as UTF-8: keep the mask
    try:
        norm = pgparse.normalize(sql)
    except pgparse.PGQueryError:
        fixed = typed_params(sql)  # pg_stat_statements' text of a typed literal: "interval $1"
        if fixed == sql:
            return None
        try:
            norm = pgparse.normalize(fixed)
        except pgparse.PGQueryError:
            return None
    text = _fold(typed_params(norm))
    try:
        pgparse.fingerprint(text)  # still valid SQL after the fix-ups (the cheapest full parse)
    except pgparse.PGQueryError:  # a type name we do not rewrite ("mytype $1"): keep the mask
        return None
    return _basis(text), text


def _basis(text: str) -> str:
    return " ".join(t if t[0] == '"' else t.lower() for t in _TOKENS.findall(text))
