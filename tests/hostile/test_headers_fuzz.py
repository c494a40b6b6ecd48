"""Fuzz the response-header parsers with what hostile servers send: random text, latin-1 bytes
(httpx hands header bytes decoded as latin-1), huge numbers, RFC 8941 syntax fragments, dates far in
the past and future. The contract (apiaudit/http/headers/__init__.py): none raises, except the SFV
parser, whose SFVError (a ValueError) callers catch. Retry-After values must never be negative.
"""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from apiaudit.http import headers as h
from apiaudit.http.headers import sfv

FUZZ = settings(max_examples=200, deadline=None)
LATIN1 = st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
PIECES = st.sampled_from(
    [
        "<",
        ">",
        ";",
        ",",
        "=",
        '"',
        "\\",
        "rel",
        "next",
        "limit",
        "remaining",
        "reset",
        "q",
        "w",
        "t",
        "r",
        "pk",
        "1",
        "-1",
        "0",
        "99999999999999999999",
        "1.5",
        "1e400",
        "nan",
        "?1",
        "?0",
        ":aGk=:",
        "(",
        ")",
        " ",
        "\t",
        "\x00",
        "\x7f",
        "é",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "http://127.0.0.1/a",
        "/b?page=2",
        "hit",
        "fwd=miss",
        "stored",
        "ttl=",
        "dur=",
        "desc=",
        "Max-Age=",
        "Expires=",
        "HttpOnly",
        "SameSite=None",
        "Path=/",
        "sessionid=",
        "JSESSIONID",
    ]
)
VALUES = st.one_of(st.text(max_size=120), LATIN1, st.lists(PIECES, max_size=30).map("".join))
RATE_NAMES = [
    "RateLimit",
    "RateLimit-Policy",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Reset-After",
    "Retry-After",
    "Date",
]


@FUZZ
@given(value=VALUES, date=st.one_of(st.none(), VALUES))
def test_retry_after_never_raises_nor_goes_negative(value: str, date: str | None) -> None:
    got = h.parse_retry_after(value, date_header=date)
    if got is not None:
        seconds = getattr(got, "seconds", None) or getattr(got, "delay_s", None)
        if isinstance(seconds, (int, float)):
            assert seconds >= 0, got


@FUZZ
@given(value=VALUES)
def test_link_never_raises(value: str) -> None:
    links = h.parse_links(value, base="http://127.0.0.1:1/api/items")
    assert isinstance(links, list)
    h.next_link(value, base="http://127.0.0.1:1/api/items")


@FUZZ
@given(pairs=st.lists(st.tuples(st.sampled_from(RATE_NAMES), VALUES), max_size=8))
def test_ratelimit_headers_never_raise(pairs: list[tuple[str, str]]) -> None:
    assert isinstance(h.parse_ratelimits(pairs), list)
    assert isinstance(h.parse_ratelimits(dict(pairs)), list)


@FUZZ
@given(value=VALUES)
def test_other_parsers_never_raise(value: str) -> None:
    h.parse_server_timing(value)
    h.parse_cache_status(value)
    h.parse_set_cookie(value)
    h.session_cookies([value, value])
    h.cache_evidence(
        [
            ("Cache-Status", value),
            ("Age", value),
            ("Via", value),
            ("X-Cache", value),
            ("CF-Cache-Status", value),
        ]
    )


@FUZZ
@given(value=VALUES)
def test_sfv_raises_only_sfverror(value: str) -> None:
    for parse in (sfv.parse_list, sfv.parse_dictionary, sfv.parse_item):
        with contextlib.suppress(sfv.SFVError):
            parse(value)
