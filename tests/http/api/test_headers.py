"""Header parsers: expected values derived from the RFC/draft examples, plus fuzzing that no
exception escapes (they run on whatever a server sends)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apiaudit.http.headers import (
    cache_evidence,
    next_link,
    parse_cache_status,
    parse_links,
    parse_ratelimits,
    parse_retry_after,
    parse_server_timing,
    parse_set_cookie,
    session_cookies,
)
from apiaudit.http.headers.sfv import SFVError, Token, parse_dictionary, parse_item, parse_list

DATE = "Sun, 06 Nov 1994 08:49:37 GMT"  # RFC 9110 §5.6.7's example; epoch 784111777
DATE_EPOCH = 784111777


# -- RFC 8941 structured fields --

def test_sfv_list_with_params_and_inner_list() -> None:
    items = parse_list('"default";r=50;t=30, (1 2);q=?0, tok/en, :aGVsbG8=:, 4.5')
    assert items[0].value == "default" and items[0].params == {"r": 50, "t": 30}
    assert [i.value for i in items[1].value] == [1, 2] and items[1].params == {"q": False}  # type: ignore[union-attr]
    assert isinstance(items[2].value, Token) and items[2].value == "tok/en"
    assert items[3].value == b"hello"
    assert items[4].value == 4.5


def test_sfv_dictionary_bare_keys_are_true() -> None:
    d = parse_dictionary("limit=100, remaining=50, reset=30, flag")
    assert {k: v.value for k, v in d.items()} == {"limit": 100, "remaining": 50, "reset": 30, "flag": True}


@pytest.mark.parametrize("bad", ['"unterminated', "1,", "a=1,,b=2", "1234567890123456", "1.2345", "Upper=1",
                                 "é"])
def test_sfv_rejects_invalid(bad: str) -> None:
    with pytest.raises(SFVError):
        parse_dictionary(bad) if "=" in bad else parse_list(bad)


def test_sfv_item_escapes() -> None:
    assert parse_item(r'"a \"q\" \\ b"').value == 'a "q" \\ b'


# -- rate limits --

def test_ietf_list_generation_draft_08() -> None:
    (q,) = parse_ratelimits([("RateLimit-Policy", '"burst";q=100;w=60, "day";q=1000;w=86400'),
                             ("RateLimit", '"burst";r=12;t=7, "day";r=900;t=3000')])
    got = (q.generation, q.policy, q.limit, q.remaining, q.reset_s, q.window_s)
    assert got == ("ietf", "burst", 100, 12, 7.0, 60)


def test_ietf_dictionary_generation_draft_07() -> None:
    (q,) = parse_ratelimits({"RateLimit": "limit=10, remaining=3, reset=20", "RateLimit-Policy": "10;w=60"})
    assert (q.generation, q.limit, q.remaining, q.reset_s, q.window_s) == ("ietf-dict", 10, 3, 20.0, 60)


def test_draft_split_headers() -> None:
    (q,) = parse_ratelimits({"RateLimit-Limit": "100, 100;w=60", "RateLimit-Remaining": "99",
                             "RateLimit-Reset": "5"})
    assert (q.generation, q.limit, q.remaining, q.reset_s, q.reset_kind) == ("draft", 100, 99, 5.0, "delay")


def test_x_ratelimit_epoch_reset_uses_date_header() -> None:
    # GitHub sends the reset as a UTC epoch; relative to the response Date it is a 3600 s delay.
    (q,) = parse_ratelimits({"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999",
                             "X-RateLimit-Reset": str(DATE_EPOCH + 3600), "Date": DATE})
    got = (q.generation, q.reset_kind, q.reset_s, q.limit, q.remaining)
    assert got == ("x-ratelimit", "epoch", 3600.0, 5000, 4999)


def test_x_ratelimit_delay_reset() -> None:
    (q,) = parse_ratelimits({"X-RateLimit-Remaining": "7", "X-RateLimit-Reset": "42"})
    assert (q.reset_kind, q.reset_s, q.limit) == ("delay", 42.0, None)


def test_several_generations_and_malformed_values() -> None:
    qs = parse_ratelimits({"RateLimit-Remaining": "lots", "X-RateLimit-Limit": "-1"})
    assert [q.generation for q in qs] == ["draft", "x-ratelimit"]
    assert all(q.problems for q in qs) and qs[0].remaining is None


def test_no_ratelimit_headers() -> None:
    assert parse_ratelimits({"Content-Type": "application/json"}) == []


# -- Retry-After --

def test_retry_after_delay_and_date() -> None:
    assert parse_retry_after("120").seconds == 120.0  # type: ignore[union-attr]
    ra = parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", date_header=DATE)
    assert ra is not None and (ra.kind, ra.seconds) == ("date", 60.0)
    assert parse_retry_after("soon").kind == "invalid"  # type: ignore[union-attr]
    assert parse_retry_after("-5").kind == "invalid"  # type: ignore[union-attr]
    assert parse_retry_after(None) is None


# -- Link --

def test_link_rfc8288_examples() -> None:
    value = ('<http://example.com/TheBook/chapter2>; rel="previous"; title="previous chapter", '
             '</p?c=abc>; rel="next start"')
    links = parse_links(value, base="http://example.com/api/items?x=1")
    assert links[0].rels == ("previous",) and links[0].params["title"] == "previous chapter"
    assert links[1].target == "http://example.com/p?c=abc" and links[1].rels == ("next", "start")
    assert next_link(value, base="http://example.com/a") == "http://example.com/p?c=abc"
    assert next_link('<x>; REL=Next') == "x"  # relation types compare case-insensitively
    assert next_link('<x>; rel="prev"') is None


def test_link_with_a_malformed_target_is_skipped() -> None:
    assert next_link("<http://[::1>; rel=next", base="http://h/") is None
    assert next_link('<http://[::1>; rel=next, </ok>; rel="next"', base="http://h/") == "http://h/ok"


def test_link_quoted_comma_and_semicolon() -> None:
    links = parse_links('<a>; title="x, y; z"; rel=next, <b>; rel=last')
    assert [(li.target, li.rels) for li in links] == [("a", ("next",)), ("b", ("last",))]


# -- Server-Timing --

def test_server_timing() -> None:
    ms = parse_server_timing('miss, db;dur=53, app;dur=47.2;desc="render, html", cache;desc=hit;dur=x')
    assert [(m.name, m.dur_ms, m.desc) for m in ms] == [
        ("miss", None, None), ("db", 53.0, None), ("app", 47.2, "render, html"), ("cache", None, "hit")]


# -- Cache-Status and CDN evidence --

def test_cache_status_rfc9211_examples() -> None:
    entries = parse_cache_status('OriginCache; hit; ttl=1100, "CDN Company Here"; fwd=uri-miss; stored')
    assert [(e.cache, e.hit, e.fwd, e.stored, e.ttl) for e in entries] == [
        ("OriginCache", True, None, False, 1100), ("CDN Company Here", False, "uri-miss", True, None)]
    assert parse_cache_status("bad;;") == []


@pytest.mark.parametrize(("headers", "hit", "cdn"), [
    ({"Cache-Status": "ExampleCache; hit"}, True, "ExampleCache"),
    ({"Cache-Status": "ExampleCache; fwd=miss"}, False, "ExampleCache"),
    ({"X-Cache": "Hit from cloudfront", "X-Amz-Cf-Id": "abc"}, True, "cloudfront"),
    ({"CF-Cache-Status": "MISS"}, False, "cloudflare"),
    ({"Age": "12", "Via": "1.1 varnish"}, True, "varnish"),
    ({"Age": "0"}, False, None),
])
def test_cache_evidence(headers: dict[str, str], hit: bool, cdn: str | None) -> None:
    ev = cache_evidence(headers)
    assert ev.hit is (hit if headers != {"Age": "0"} else None)
    if cdn:
        assert cdn in ev.cdn


def test_no_cache_evidence() -> None:
    ev = cache_evidence({"Content-Type": "application/json"})
    assert ev.hit is None and ev.cdn == () and not ev.cached_layer


# -- Set-Cookie --

@pytest.mark.parametrize(("line", "why"), [
    ("sessionid=abc123; HttpOnly; Path=/", "session cookie name"),
    ("JSESSIONID=F00; Path=/", "session cookie name"),
    ("connect.sid=s%3Axyz; HttpOnly", "session cookie name"),
    ("AWSALB=abcd; Expires=Sun, 06 Nov 2044 08:49:37 GMT; Path=/", "load-balancer affinity cookie"),
    ("tok=0123456789abcdef0123; HttpOnly; Secure", "opaque HttpOnly cookie without expiry"),
    ("tok=***; HttpOnly; Secure", "opaque HttpOnly cookie without expiry"),  # value masked at collection
    ("tok=short; HttpOnly", None),
    ("theme=dark; Max-Age=31536000", None),
    ("consent=yes; Path=/", None),
])
def test_session_likeness(line: str, why: str | None) -> None:
    cookie = parse_set_cookie(line)
    assert cookie is not None and cookie.session_like == why


def test_set_cookie_without_pair() -> None:
    assert parse_set_cookie("garbage") is None
    assert session_cookies(["garbage", "sid=1", "a=b"])[0].name == "sid"


# -- nothing escapes --

_HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=80)
_SF_TEXT = st.text(alphabet='abcrqtw=;,"() :?*-.0123456789\\/[]<>#%@', max_size=60)


@settings(max_examples=300, deadline=None)
@given(a=st.one_of(_HEADER_TEXT, _SF_TEXT), b=st.one_of(_HEADER_TEXT, _SF_TEXT))
def test_fuzz_no_exception_escapes(a: str, b: str) -> None:
    headers = [("RateLimit", a), ("RateLimit-Policy", b), ("RateLimit-Limit", a), ("RateLimit-Reset", b),
               ("X-RateLimit-Reset", a), ("X-RateLimit-Reset-After", b), ("Date", b), ("Cache-Status", a),
               ("X-Cache", b), ("Age", a), ("Via", b), ("X-Varnish", a)]
    parse_ratelimits(headers)
    cache_evidence(headers)
    parse_retry_after(a, date_header=b)
    parse_links(a, base="http://h/")
    next_link(b)
    parse_server_timing(a)
    parse_cache_status(b)
    parse_set_cookie(a)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(_HEADER_TEXT, _SF_TEXT))
def test_fuzz_sfv_raises_only_sfverror(text: str) -> None:
    for parse in (parse_list, parse_dictionary, parse_item):
        with contextlib.suppress(SFVError):
            parse(text)
