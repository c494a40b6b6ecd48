"""Pagination probe for collection endpoints (checks: ``apiaudit.http.checks.pagination``).

Requests, in order, each only when the previous step makes it meaningful:

* ``page-small-all`` then ``page-small-<param>``: which page-size name (``limit``, ``per_page``, ...) the
  API honours — one request carrying every name at 2 first, then one name at a time (stopping at the
  first honoured); skipped when the base page has fewer than 3 items;
* ``page-limit-<param>``: that name at 1000 (is it capped, refused or honoured?);
* ``page-2``, ``page-3``: the next link / cursor walk (same origin only);
* ``page-offset-0`` / ``page-offset-deep`` (and ``-2`` repeats when the deep page looks slow): the
  first vs a deep page of offset/page-number pagination.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from apiaudit.http.checks.pagination import (
    LIMIT_PARAMS,
    OVERSIZED_LIMIT,
    is_collection,
    items_of,
    page_meta,
    query_params,
    with_param,
)
from apiaudit.http.evidence import Endpoint, Exchange
from apiaudit.http.probes import ProbeSession

SMALL = 2
PAGES_TO_FOLLOW = 2  # pages after the base: "follow next up to 3 pages"
DEEP_OFFSET_GUESS = 10_000  # rows skipped when the total is unknown
DEEP_PAGE_GUESS = 500
SLOW_RATIO_RECHECK = 2.0  # repeat both timings when the deep page looks this much slower


async def probe(session: ProbeSession, endpoint: Endpoint) -> None:
    base = session.base(endpoint)
    if base is None or not base.ok or base.status != 200 or not is_collection(endpoint):
        return
    count = _count(base)
    if count is None:
        return
    await _page_size(session, endpoint, base, count)
    await _walk(session, endpoint, base)
    await _deep_offset(session, endpoint, base, count)


def _count(ex: Exchange) -> int | None:
    """Items on a page. Only the count is kept: a parsed page can be megabytes of objects, and holding
    it across the awaits below multiplies that by every endpoint probed concurrently."""
    items = items_of(ex)
    return None if items is None else len(items)


def _candidates(base: Exchange) -> list[str]:
    """Page-size names, those already used by the API's own next link first."""
    meta = page_meta(base)
    used = [n for n in query_params(meta.next_url or base.url) if n in LIMIT_PARAMS]
    return used + [n for n in LIMIT_PARAMS if n not in used]


async def _page_size(session: ProbeSession, ep: Endpoint, base: Exchange, count: int) -> None:
    names = _candidates(base)
    if count <= SMALL:
        used = [n for n in query_params(page_meta(base).next_url or "") if n in LIMIT_PARAMS]
        if used:  # cannot tell a small page from a tiny collection; trust the API's own parameter
            big = with_param(ep.url, used[0], str(OVERSIZED_LIMIT))
            await session.fetch(big, purpose=f"page-limit-{used[0]}")
        return
    url = ep.url
    for name in names:
        url = with_param(url, name, str(SMALL))
    combined = await session.fetch(url, purpose="page-small-all")
    ok = combined.status is not None and 200 <= combined.status < 300
    if ok and (_count(combined) or 0) != SMALL:
        return  # none of the names is honoured
    for name in names:
        ex = await session.fetch(with_param(ep.url, name, str(SMALL)), purpose=f"page-small-{name}")
        if (_count(ex) or 0) == SMALL:
            big = with_param(ep.url, name, str(OVERSIZED_LIMIT))
            await session.fetch(big, purpose=f"page-limit-{name}")
            return


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.netloc.lower()) == (pb.scheme, pb.netloc.lower())


async def _walk(session: ProbeSession, ep: Endpoint, base: Exchange) -> None:
    current = base
    for number in range(2, 2 + PAGES_TO_FOLLOW):
        next_url = page_meta(current).next_url
        if not next_url or not _same_origin(next_url, ep.url):
            return
        current = await session.fetch(next_url, purpose=f"page-{number}")
        if not current.ok or _count(current) is None or next_url == base.url:
            return


async def _deep_offset(session: ProbeSession, ep: Endpoint, base: Exchange, count: int) -> None:
    meta = page_meta(base)
    if meta.style not in ("offset", "page") or not meta.style_param or not meta.next_url:
        return
    if not _same_origin(meta.next_url, ep.url):
        return
    param = meta.style_param
    if meta.style == "offset":
        first, deep = "0", max(count, (meta.total or DEEP_OFFSET_GUESS) - count)
    else:
        first, deep = "1", max(2, (meta.total // max(1, count)) if meta.total else DEEP_PAGE_GUESS)
    first_url = with_param(meta.next_url, param, first)
    deep_url = with_param(meta.next_url, param, str(deep))
    a = await session.fetch(first_url, purpose="page-offset-0")
    b = await session.fetch(deep_url, purpose="page-offset-deep")
    if a.ok and b.ok and b.elapsed_ms > SLOW_RATIO_RECHECK * max(a.elapsed_ms, 0.5):
        await session.fetch(first_url, purpose="page-offset-0-2")
        await session.fetch(deep_url, purpose="page-offset-deep-2")
