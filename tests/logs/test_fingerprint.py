"""Fingerprints: the same statement shape gets the same id whatever its literals, parameters,
comments, case or spacing; different shapes get different ids."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from apiaudit.db.fingerprint import _TOKEN, _plain_mask, _token, extract_tags, fingerprint, mask


def fp(sql: str) -> str:
    return fingerprint(sql)[0]


def test_pg_stat_statements_text_literals_and_driver_placeholders_agree() -> None:
    pgss = "SELECT name FROM users WHERE id = $1"
    assert fp("SELECT name FROM users WHERE id = 42") == fp(pgss)
    assert fp("select name\n\tfrom USERS  where id=%s;") == fp(pgss)
    assert fp("SELECT name FROM users WHERE id = %(id)s") == fp(pgss)
    assert fingerprint(pgss)[1] == "SELECT name FROM users WHERE id = $1"


def test_string_literals_with_quotes_and_escapes_are_masked() -> None:
    base = fp("SELECT 1 FROM t WHERE a = $1 AND b = $2")
    assert fp("SELECT 1 FROM t WHERE a = 'it''s' AND b = E'x\\'y'") == base
    assert fp("SELECT 1 FROM t WHERE a = $$a;b$$ AND b = 3.5e-2") == base


def test_in_lists_of_any_length_collapse() -> None:
    one = fp("SELECT * FROM t WHERE id IN ($1)")
    assert fp("SELECT * FROM t WHERE id IN (1, 2, 3, 4)") == one
    assert fp("SELECT * FROM t WHERE id IN ($1, $2, $3)") == one
    assert fingerprint("SELECT * FROM t WHERE id IN (7,8)")[1] == "SELECT * FROM t WHERE id IN ($1)"


def test_negative_numbers_fold_like_pg_stat_statements() -> None:
    # pg_stat_statements shows "abalance + $1" for "abalance + -4015" (the parser folds the sign).
    assert fp("UPDATE pgbench_accounts SET abalance = abalance + -4015 WHERE aid = 3") == fp(
        "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2")


def test_multi_row_values_collapse() -> None:
    assert fp("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')") == fp("INSERT INTO t (a, b) VALUES ($1, $2)")


def test_comments_are_dropped_but_tags_are_read() -> None:
    tagged = "SELECT * FROM posts WHERE id = 3 /*route='%2Fapi%2Fposts%2F%7Bid%7D',framework='django'*/"
    assert fp(tagged) == fp("-- a comment\nSELECT * FROM posts WHERE id = $1")
    assert extract_tags(tagged) == {"route": "/api/posts/{id}", "framework": "django"}
    assert extract_tags("SELECT 1 /*application:Blog,controller:posts,action:index*/") == {
        "application": "Blog", "controller": "posts", "action": "index"}
    assert extract_tags("SELECT 1") == {}


def test_different_shapes_differ() -> None:
    assert fp("SELECT a FROM t WHERE id = 1") != fp("SELECT b FROM t WHERE id = 1")
    assert fp("SELECT a FROM t WHERE id = 1") != fp("SELECT a FROM u WHERE id = 1")
    assert fp('SELECT a FROM "T"') != fp("SELECT a FROM t")  # quoted identifiers keep their case
    assert fp("SELECT a FROM T") == fp("select a from t")  # unquoted ones fold (PostgreSQL semantics)


def test_unparseable_sql_falls_back_to_the_mask() -> None:
    fid, sample = fingerprint("FROBNICATE the widgets WHERE x = 12 AND y = 'z'")
    assert sample == "frobnicate the widgets where x = $1 and y = $2"
    assert fid == fp("FROBNICATE the widgets WHERE x = 99 AND y = 'q'")


def test_huge_statement_is_fingerprinted_without_parsing_and_sample_is_bounded() -> None:
    big = "INSERT INTO blobs (data) VALUES ('" + "x" * 2_000_000 + "')"
    fid, _ = fingerprint(big)
    assert fid == fp("INSERT INTO blobs (data) VALUES ($1)")
    values = "INSERT INTO t (a) VALUES " + ", ".join(f"({i})" for i in range(5000))
    assert len(fingerprint(values)[1]) <= 4_010


def test_mask_is_the_cheap_key() -> None:
    assert mask("SELECT * FROM t WHERE a = 1 AND b IN (1,2)") == mask(
        "SELECT * FROM t WHERE a = 7 AND b IN (3, 4, 5)")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_a_fingerprint(text: str) -> None:
    fid, sample = fingerprint(text)
    assert len(fid) == 16 and isinstance(sample, str)
    assert fingerprint(text) == (fid, sample)
    assert isinstance(extract_tags(text), dict)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=-10**12, max_value=10**12), st.text(alphabet="abc' x", max_size=12))
def test_literal_values_never_change_the_fingerprint(n: int, s: str) -> None:
    quoted = "'" + s.replace("'", "''") + "'"
    assert fp(f"SELECT * FROM t WHERE a = {n} AND b = {quoted}") == fp(
        "SELECT * FROM t WHERE a = $1 AND b = $2")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abtrueFALSE .,()=<>+-*_eE0123456789xy\n\t", max_size=60))
def test_fast_and_full_masks_agree(text: str) -> None:
    fast = _plain_mask(text)
    if fast is not None:
        assert fast == _TOKEN.sub(_token, text)


def test_nested_block_comments_and_comment_markers_inside_strings() -> None:
    # PostgreSQL docs §4.1.5: block comments nest; a quote inside a comment opens nothing.
    plain = fp("SELECT name FROM t WHERE id = 1")
    assert fp("SELECT name /* a /* b */ c */ FROM t WHERE id = 2") == plain
    assert fp("SELECT name /* it's /* 'x */ */ FROM t /* z */ WHERE id = 3") == plain
    # "/*" inside a string or a line comment is no comment: the text after it is still SQL.
    assert mask("SELECT '/*', 1 /* c */ FROM t -- /* not closed\nWHERE a = 2") == (
        "SELECT \ue000, \ue000 FROM t WHERE a = \ue000"
    )
    # An unclosed nested comment runs to the end, as in the server's lexer.
    assert mask("SELECT 1 /* a /* b */ FROM t") == "SELECT \ue000"


def test_control_characters_never_reach_a_sample_or_a_tag() -> None:
    # A hostile log's quoted identifier or sqlcommenter tag must not carry terminal escapes into reports.
    fid, sample = fingerprint('SELECT * FROM "a\x1b[2Jb\x07\x9b" WHERE id = 1')
    assert sample == 'SELECT * FROM "a\\x1b[2Jb\\x07\\x9b" WHERE id = $1'
    assert fid == fingerprint('SELECT * FROM "a\x1b[2Jb\x07\x9b" WHERE id = 2')[0]
    assert extract_tags("SELECT 1 /*route='%1B%5D0%3Bpwned%07'*/") == {"route": "\\x1b]0;pwned\\x07"}
