"""Quote PostgreSQL identifiers for the SQL we print in fixes (PostgreSQL docs, "Identifiers")."""

from __future__ import annotations

import re

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
# Reserved words that must be quoted even when lower-case (PostgreSQL docs, Appendix C; the common ones).
_RESERVED_WORDS = (
    "all analyse analyze and any array as asc both case cast check collate column constraint create "
    "current_date current_role current_time current_timestamp current_user default deferrable desc "
    "distinct do else end except false fetch for foreign from grant group having in initially "
    "intersect into lateral leading limit localtime localtimestamp not null offset on only or order "
    "placing primary references returning select session_user some symmetric table then to trailing "
    "true union unique user using variadic when where window with "
)
_RESERVED = frozenset(_RESERVED_WORDS.split())


def quote_ident(name: str) -> str:
    """As PostgreSQL's quote_ident: plain lower-case names stay bare, everything else is quoted."""
    if _PLAIN.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"
