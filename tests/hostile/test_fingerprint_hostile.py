"""Fingerprinting under hostile SQL: nested block comments, dollar quotes, E'' strings, random text.
Literal values must never change a fingerprint, and nothing may raise."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apiaudit.db.fingerprint import extract_tags, fingerprint

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# --- fingerprinting --------------------------------------------------------------------------

NESTED = [
    ("SELECT 'a' /* x /* y */ z */ FROM t WHERE id = 5", "SELECT 'b' FROM t WHERE id = 6"),
    ("SELECT $$it's$$ /* a /* nested */ comment ' */ FROM t WHERE id = 3", "SELECT 'q' FROM t WHERE id = 9"),
]


@pytest.mark.parametrize(("left", "right"), NESTED)
def test_nested_block_comments_are_comments(left: str, right: str) -> None:
    # PostgreSQL docs §4.1.5: "block comments nest, as specified in the SQL standard".
    assert fingerprint(left) == fingerprint(right)


def _literal(style: str, text: str) -> str:
    if style == "plain":
        return "'" + text.replace("'", "''") + "'"
    if style == "e":
        return "E'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if style == "dollar":
        return "$$" + text + "$$"
    return "$q$" + text + "$q$"


SQL_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)


@FUZZ
@given(
    a=SQL_TEXT,
    b=SQL_TEXT,
    n=st.integers(-(10**12), 10**12),
    m=st.integers(0, 10**6),
    style=st.sampled_from(["plain", "e", "dollar", "tag"]),
)
def test_fingerprint_ignores_literal_values(a: str, b: str, n: int, m: int, style: str) -> None:
    if (style == "dollar" and "$$" in a + b) or (style == "tag" and "$q$" in a + b):
        return
    if (style == "dollar" and (a.endswith("$") or b.endswith("$"))) or (
        style == "tag" and (a.endswith("$") or b.endswith("$"))
    ):
        return
    tmpl = "SELECT id, name FROM users WHERE name = {lit} AND id = {num} ORDER BY id LIMIT 10"
    left = fingerprint(tmpl.format(lit=_literal(style, a), num=n))
    right = fingerprint(tmpl.format(lit=_literal(style, b), num=m))
    assert left == right


@FUZZ
@given(sql=st.text(max_size=300))
def test_fingerprint_never_raises(sql: str) -> None:
    fid, sample = fingerprint(sql)
    assert isinstance(fid, str) and isinstance(sample, str)
    assert isinstance(extract_tags(sql), dict)


SQLISH = st.lists(
    st.sampled_from(
        [
            "SELECT",
            "FROM",
            "t",
            "WHERE",
            "id",
            "=",
            "1",
            "'",
            "''",
            "E'",
            "\\'",
            "$$",
            "$a$",
            "/*",
            "*/",
            "--",
            "\n",
            "(",
            ")",
            ",",
            "IN",
            "$1",
            "%s",
            '"',
            ";",
            "::int",
            "ARRAY[",
            "]",
            " ",
        ]
    ),
    max_size=60,
).map("".join)


@FUZZ
@given(sql=SQLISH)
def test_fingerprint_never_raises_on_sql_fragments(sql: str) -> None:
    fid, sample = fingerprint(sql)
    assert fid and isinstance(sample, str)
