"""Query fingerprints: one stable id per statement *shape*, whatever the literals or parameters.

``fingerprint(sql) -> (id, sample)``. pg_stat_statements text (``WHERE id = $1``), a logged
statement with literals (``WHERE id = 42``) and driver text (``WHERE id = %s``) get the same id.

Two stages keep it fast on multi-million-line logs:

1. :func:`mask` — one regex pass: comments dropped, string/number/boolean literals and ``$n``/``%s``
   parameters replaced by a marker, ``IN (...)`` lists collapsed, whitespace folded. Cheap (µs).
2. The mask keys a bounded cache; only on a miss is the statement normalised by PostgreSQL's own
   parser (:mod:`apiaudit.db.pgnorm`, libpg_query: ~15-30 µs; sqlglot took 400-1000 µs): constants
   become ``$n`` where pg_stat_statements puts them (``- 4015`` is one constant, ``interval '2
   days'`` stays an interval: ``$1::interval``), and the id is libpg_query's fingerprint. Text the
   grammar rejects (or huge text) falls back to the lower-cased mask.

:func:`extract_tags` reads sqlcommenter (``/*route='%2Fapi%2Fposts'*/``) and marginalia
(``/*controller:posts,action:index*/``) comments, which link a query to an API endpoint.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote

from apiaudit.db import pgnorm

__all__ = ["extract_tags", "fingerprint", "mask", "printable"]

MARK = "\ue000"  # private-use character: cannot clash with SQL text or the jsonb ``?`` operator
MAX_PARSE_CHARS = 20_000  # longer statements (bulk inserts, 10 MB blobs) keep the mask: parsing costs seconds
MAX_SAMPLE_CHARS = 4_000

# Unrolled loops ("normal* (special normal*)*"): a 10 MB string literal is scanned in milliseconds.
_TOKEN = re.compile(
    r"""
      (?P<comment>/\*[^*]*(?:\*+[^*/][^*]*)*(?:\*+/|\Z)|--[^\n]*)
    | (?P<ident>"[^"]*(?:""[^"]*)*"?)
    | (?P<literal>
          [eE]'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'?
        | [bBxXnN]?'[^']*(?:''[^']*)*'?
        | \$(?P<tag>[A-Za-z_][A-Za-z_0-9]*|)\$.*?(?:\$(?P=tag)\$|\Z)
        | \$\d+ | %s | %\(\w+\)s
        | (?<![\w$.])(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?
        | (?<![\w$.])(?:true|false)(?![\w$])
      )
    """,
    re.X | re.S | re.I,
)
# Fast path for text without quotes, dollars, comments, driver placeholders, booleans or ".5"-style
# numbers (most simple-protocol statements in a log): only plain numbers to mask, no callback per
# match, ~3x faster. It masks exactly what _TOKEN masks in such text, so both paths give the same key
# (tests/logs/test_fingerprint.py checks it on random text).
_PLAIN = re.compile(r"\b[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?")
_IN_LIST = re.compile(r"\b(in\s*\()\s*" + MARK + r"(?:\s*,\s*" + MARK + r")+\s*\)", re.I)
_SQLCOMMENTER = re.compile(r"([A-Za-z_][\w.-]*)\s*=\s*'((?:[^']|\\')*)'")
_MARGINALIA = re.compile(r"([A-Za-z_][\w.-]*):([^,*]+)")
_COMMENT = re.compile(r"/\*(.*?)\*/", re.S)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _token(m: re.Match[str]) -> str:
    if m.group("comment") is not None:
        return " "
    if m.group("ident") is not None:
        return m.group("ident")
    return MARK


def mask(sql: str) -> str:
    """The cheap shape key: literals and parameters → a marker, comments dropped, IN lists collapsed."""
    masked = _plain_mask(sql)
    if masked is None:
        if sql.count("/*") > 1:  # one comment (sqlcommenter's) cannot nest: skip the scan then
            sql = _strip_block_comments(sql)
        masked = _TOKEN.sub(_token, sql)
    if "  " in masked or "\n" in masked or "\t" in masked or "\r" in masked or masked[:1] == " ":
        masked = " ".join(masked.split())
    if masked[-1:] in (";", " "):
        masked = masked.rstrip().rstrip(";").rstrip()
    if (_IN_MARKS in masked or _IN_MARKS_SPACED in masked) and ("in (" in (low := masked.lower()) or "in(" in low):
        masked = _IN_LIST.sub(_IN_ONE, masked)
    return masked


# What a block-comment scan must step over: quoted text (a "/*" inside it is no comment), line
# comments, and the opening of a block comment. Same literal forms as _TOKEN.
_SKIP = re.compile(
    r"""[eE]'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'?
      | '[^']*(?:''[^']*)*'? | "[^"]*(?:""[^"]*)*"?
      | \$(?P<tag>[A-Za-z_][A-Za-z_0-9]*|)\$.*?(?:\$(?P=tag)\$|\Z)
      | --[^\n]* | (?P<open>/\*)""",
    re.X | re.S,
)
_NEST = re.compile(r"/\*|\*/")


def _strip_block_comments(sql: str) -> str:
    """Block comments → a space, nesting honoured (PostgreSQL docs §4.1.5: "block comments nest, as
    specified in the SQL standard"); quotes inside a comment mean nothing, as in the server's lexer."""
    out: list[str] = []
    pos = kept = 0
    while (m := _SKIP.search(sql, pos)) is not None:
        if m.group("open") is None:  # quoted text or a line comment: kept for _TOKEN
            pos = max(m.end(), m.start() + 1)
            continue
        out.append(sql[kept:m.start()])
        out.append(" ")
        pos = kept = _comment_end(sql, m.end())
    out.append(sql[kept:])
    return "".join(out)


def _comment_end(sql: str, pos: int) -> int:
    depth = 1
    while depth:
        m = _NEST.search(sql, pos)
        if m is None:
            return len(sql)  # unterminated: the comment runs to the end, as _TOKEN reads it
        depth += 1 if m.group() == "/*" else -1
        pos = m.end()
    return pos


_DOT_MARK = "." + MARK
_IN_MARKS, _IN_MARKS_SPACED = MARK + ",", MARK + " ,"  # an IN list has at least two markers
_IN_ONE = r"\1" + MARK + ")"


def _plain_mask(sql: str) -> str | None:
    if "'" in sql or '"' in sql or "$" in sql or "%" in sql or "/*" in sql or "--" in sql:
        return None
    low = sql.lower()
    if "true" in low or "false" in low:
        return None
    masked = _PLAIN.sub(MARK, sql)
    return None if _DOT_MARK in masked else masked


def fingerprint(sql: str) -> tuple[str, str]:
    """(stable fingerprint id, normalised sample with ``$n`` placeholders) of one statement."""
    masked = mask(sql)
    got = _CACHE.get(masked)
    if got is None:
        got = _normalise(masked, sql)
        if len(_CACHE) >= CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]  # oldest shape first: a log's hot shapes come back at once
        _CACHE[masked] = got
    return got


CACHE_SIZE = 8192
_CACHE: dict[str, tuple[str, str]] = {}


def _normalise(masked: str, sql: str) -> tuple[str, str]:
    got = pgnorm.normalise(_source(sql, masked)) if len(masked) <= MAX_PARSE_CHARS else None
    if got is None:
        sample = _number(masked).lower()
        digest_of = sample
    else:
        digest_of, sample = got
    if _CONTROL.search(sample):  # a quoted identifier from a hostile log: no terminal escapes in reports
        sample = printable(sample)
    digest = hashlib.blake2b(digest_of.encode("utf-8", "replace"), digest_size=8).hexdigest()
    if len(sample) > MAX_SAMPLE_CHARS:
        sample = sample[:MAX_SAMPLE_CHARS] + " …"
    return digest, sample


_DRIVER = re.compile(r"%s|%\(\w+\)s")


def _source(sql: str, masked: str) -> str:
    """What PostgreSQL's parser reads: the statement without comments (sqlcommenter values are no
    constants); driver text (``%s``, ``%(id)s``) is no SQL, so its mask is numbered instead."""
    if "%" in sql and _DRIVER.search(sql):
        return _number(masked)
    if "/*" not in sql and "--" not in sql:
        return sql
    if sql.count("/*") > 1:
        sql = _strip_block_comments(sql)
    return _TOKEN.sub(_drop_comment, sql)


def _drop_comment(m: re.Match[str]) -> str:
    return " " if m.group("comment") is not None else m.group()


def _number(masked: str) -> str:
    parts = masked.split(MARK)
    out = [parts[0]]
    for i, part in enumerate(parts[1:], start=1):
        out.append(f"${i}")
        out.append(part)
    return "".join(out)


def printable(text: str) -> str:
    """C0/C1 control characters (ESC, BEL...) shown as ``\\xNN``: log text ends up on terminals."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def extract_tags(sql: str) -> dict[str, str]:
    """sqlcommenter (``key='url-encoded'``) or marginalia (``key:value``) tags from block comments."""
    if "/*" not in sql:
        return {}
    tags: dict[str, str] = {}
    for body in _COMMENT.findall(sql):
        pairs = _SQLCOMMENTER.findall(body)
        if pairs:
            tags.update((printable(k), printable(unquote(v.replace("\\'", "'")))) for k, v in pairs)
            continue
        tags.update((printable(k.strip()), printable(v.strip())) for k, v in _MARGINALIA.findall(body))
    return tags
