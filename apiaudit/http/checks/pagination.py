"""Pagination checks (checklist ``api.pagination``) and the pure helpers the pagination probe shares.

Exchanges read (purposes written by ``apiaudit.http.probes.pagination``): ``base``,
``page-small-<param>`` (is ``param`` a page size?), ``page-limit-<param>`` (oversized page size),
``page-2`` / ``page-3`` (the next-link walk), ``page-offset-0[-2]`` / ``page-offset-deep[-2]``
(first vs deep offset timing).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.http.collections import ID_KEYS, find_collection, is_document, names_one_resource
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.http.headers import join_url, next_link
from apiaudit.model import Finding
from apiaudit.requirements import Req

# Page-size parameter names in common use (Rails/Django/Spring/JSON Server/OData/GraphQL-style).
LIMIT_PARAMS: tuple[str, ...] = (
    "limit", "per_page", "page_size", "pageSize", "size", "_limit", "count", "top", "$top", "first",
)
OVERSIZED_LIMIT = 1000
CURSOR_PARAMS = frozenset({"cursor", "after", "before", "page_token", "pagetoken", "starting_after",
                           "since_id", "next_cursor", "continuation", "continuationtoken", "marker", "token",
                           "$skiptoken", "page[after]", "page[cursor]"})
OFFSET_PARAMS = frozenset({"offset", "skip", "start", "_start", "$skip", "from", "page[offset]"})
PAGE_PARAMS = frozenset({"page", "page_number", "pagenumber", "_page", "page[number]", "p"})
# Body keys holding the next cursor/URL, mapped to the query parameter that carries a bare cursor back.
NEXT_KEYS: dict[str, str] = {"next_cursor": "cursor", "nextCursor": "cursor", "next": "cursor",
                             "next_page_token": "page_token", "nextPageToken": "pageToken",
                             "next_page": "page", "nextPage": "page", "cursor": "cursor"}
MORE_KEYS = ("has_more", "hasMore", "has_next", "hasNext", "more")
TOTAL_KEYS = ("total", "total_count", "totalCount", "count", "total_items", "totalItems")
META_CONTAINERS = ("pagination", "meta", "links", "_links", "page", "paging", "page_info", "pageInfo")
META_HEADERS = ("x-total-count", "x-next-cursor", "x-next-page", "x-pagination-total-count", "x-total")


@dataclass(frozen=True)
class PageMeta:
    kinds: tuple[str, ...]  # which metadata was found (e.g. "Link rel=next", "body next_cursor")
    next_url: str | None
    has_more: bool | None
    total: int | None
    style: str | None  # "cursor" | "offset" | "page" | None
    style_param: str | None


def parse_json(ex: Exchange | None) -> Any:
    if ex is None or not ex.ok:
        return None
    try:
        return ex.json()
    except (ValueError, UnicodeDecodeError):
        return None


def items_of(ex: Exchange | None) -> list[Any] | None:
    found = find_collection(parse_json(ex))
    return found.items if found is not None else None


def with_param(url: str, name: str, value: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:  # malformed URL (replayed evidence): leave it alone
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    query.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(query)))


def query_params(url: str) -> dict[str, str]:
    try:
        return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    except ValueError:
        return {}


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = [doc]
    out.extend(doc[k] for k in META_CONTAINERS if isinstance(doc.get(k), dict))
    return out


def _body_next(doc: dict[str, Any], url: str) -> tuple[str | None, str | None]:
    """(next URL, body key it came from) from an envelope's next/cursor members (HAL ``href`` too)."""
    for box in _containers(doc):
        for key, param in NEXT_KEYS.items():
            value = box.get(key)
            if isinstance(value, dict) and isinstance(value.get("href"), str):
                value = value["href"]
            if isinstance(value, bool) or value in (None, ""):
                continue
            if isinstance(value, (int, float)):
                return with_param(url, param, str(value)), key
            if isinstance(value, str):
                looks_like_url = value.startswith(("http://", "https://", "/", "?"))
                return (join_url(url, value) if looks_like_url else with_param(url, param, value)), key
    return None, None


def page_meta(ex: Exchange) -> PageMeta:
    kinds: list[str] = []
    link_next = next_link(ex.header("link"), base=ex.url)
    if link_next:
        kinds.append("Link rel=next")
    doc = parse_json(ex)
    body_next, key, has_more, total = None, None, None, None
    if isinstance(doc, dict):
        body_next, key = _body_next(doc, ex.url)
        if key:
            kinds.append(f"body {key}")
        for box in _containers(doc):
            for k in MORE_KEYS:
                if isinstance(box.get(k), bool) and has_more is None:
                    has_more = box[k]
                    kinds.append(f"body {k}")
            for k in TOTAL_KEYS:
                if isinstance(box.get(k), int) and not isinstance(box.get(k), bool) and total is None:
                    total = box[k]
                    kinds.append(f"body {k}")
    for name in META_HEADERS:
        value = ex.header(name)
        if value is not None:
            kinds.append(name)
            if total is None and value.strip().isdigit():
                total = int(value.strip())
    next_url = link_next or body_next
    style, param = _style(next_url, key)
    return PageMeta(tuple(kinds), next_url, has_more, total, style, param)


def _style(next_url: str | None, key: str | None) -> tuple[str | None, str | None]:
    if next_url:
        for name in query_params(next_url):
            low = name.lower()
            if low in CURSOR_PARAMS:
                return "cursor", name
            if low in OFFSET_PARAMS:
                return "offset", name
            if low in PAGE_PARAMS:
                return "page", name
    if key in ("next_cursor", "nextCursor", "next_page_token", "nextPageToken", "cursor"):
        return "cursor", NEXT_KEYS[key]
    return None, None


def item_key(item: Any) -> str:
    if isinstance(item, dict):
        for k in ID_KEYS:
            if isinstance(item.get(k), (str, int)) and not isinstance(item.get(k), bool):
                return f"{k}={item[k]}"
    return json.dumps(item, sort_keys=True, default=str)[:200]


def is_collection(ep: Endpoint) -> bool:
    """Worth paginating: the OpenAPI/config hint when there is one; otherwise a list that is the
    document (top-level array or lone envelope) at a URL that does not end with an identifier."""
    if ep.collection is not None:
        return ep.collection
    doc = ep.base_json()
    found = find_collection(doc)
    return found is not None and is_document(doc, found) and not names_one_resource(ep.url)


def more_than_shown(ep: Endpoint, count: int) -> str | None:
    """Evidence that the collection holds more than the base response: an oversized page size
    answered with more items, or a next page that answered."""
    for ex in ep.with_prefix("page-limit-"):
        bigger = items_of(ex)
        if bigger is not None and len(bigger) > count:
            param = ex.purpose.removeprefix("page-limit-")
            return f"{param}={query_params(ex.url).get(param, '')} returned {len(bigger)} items"
    return None


def _may_list(ep: Endpoint) -> bool:
    """Not known to be a single resource (hint False, or a URL ending with an identifier)."""
    return ep.collection is True or (ep.collection is None and not names_one_resource(ep.url))


def _where(ep: Endpoint) -> dict[str, str]:
    return {"url": ep.url, "method": "GET"}


@check("http.pagination.unbounded", "http.pagination.no-metadata", "http.pagination.unsure", kind="scan",
       requires=(Req.BASE_ANSWER,))
def check_page_size(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    """Items per response above the maximum; many items and no way to reach the next page.

    One fact, one finding: above the maximum only ``unbounded`` is raised (its evidence says whether
    metadata was there). Below it, ``no-metadata`` needs evidence that more items exist (an oversized
    page size returned more); a list that may be bounded (top-20, a chart inside a document) is
    ``unsure`` (info), never a failure."""
    max_items = int(ctx.threshold("max_page_size"))
    min_meta = int(ctx.threshold("pagination_metadata_min_items"))
    seen = False
    for ep in ev.endpoints:
        base = ep.base()
        doc = parse_json(base)
        found = find_collection(doc)
        if base is None or found is None or not _may_list(ep):
            continue
        seen = True
        count, meta = len(found.items), page_meta(base)
        key = found.key or "(top-level array)"
        evidence = {"items": count, "key": key, "metadata": list(meta.kinds)}
        document = ep.collection is True or is_document(doc, found)
        if count > max_items and document:
            has = ", ".join(meta.kinds) if meta.kinds else "no pagination metadata"
            yield Finding("http.pagination.unbounded", _where(ep),
                          {"items": count, "key": key, "max": max_items, "metadata": has}, evidence)
        elif count > min_meta and not meta.kinds:
            more = more_than_shown(ep, count) if document else None
            if more is not None:
                yield Finding("http.pagination.no-metadata", _where(ep), {"items": count, "more": more},
                              {**evidence, "more": more})
            else:
                why = _unsure_why(document, ep, max_items)
                yield Finding("http.pagination.unsure", _where(ep), {"items": count, "key": key, "why": why},
                              {**evidence, "why": why})
    if not seen:
        yield NotApplicable("no collection endpoint (JSON array or envelope with a list) was found")


def _unsure_why(document: bool, ep: Endpoint, max_items: int) -> str:
    if not document:
        return "the list sits beside other members of the document, so it looks like part of one resource"
    if ep.with_prefix("page-limit-"):
        return "an oversized page size returned no more items, so the list looks bounded"
    return f"the list is within the {max_items}-item maximum and nothing showed that more items exist"


@check("http.pagination.limit-not-capped", "http.pagination.limit-capped", kind="scan",
       requires=(Req.PROBE_PAGINATION,))
def check_limit_param(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    """An oversized page size under a recognised parameter name: honoured above the max, capped or 400."""
    max_items = int(ctx.threshold("max_page_size"))
    tried = False
    for ep in ev.endpoints:
        for ex in ep.with_prefix("page-limit-"):
            tried = True
            param = ex.purpose.removeprefix("page-limit-")
            asked = query_params(ex.url).get(param, str(OVERSIZED_LIMIT))
            items = items_of(ex)
            status = ex.status or 0
            count = len(items) if items is not None else 0
            ev_dict = {"param": param, "asked": asked, "status": status, "items": count}
            if 200 <= status < 300 and count > max_items:
                yield Finding("http.pagination.limit-not-capped", _where(ep),
                              {"param": param, "asked": asked, "items": count, "max": max_items}, ev_dict)
            elif 400 <= status < 500 or (200 <= status < 300 and items is not None):
                behaviour = _behaviour(ex, status, count, max_items)
                yield Finding("http.pagination.limit-capped", _where(ep),
                              {"param": param, "asked": asked, "behaviour": behaviour, "status": status,
                               "items": count}, {**ev_dict, "behaviour": behaviour})
    if not tried:
        yield NotApplicable("no collection with a recognised page-size parameter "
                            f"({', '.join(LIMIT_PARAMS)}) was found")


def _behaviour(ex: Exchange, status: int, count: int, max_items: int) -> str:
    """How an oversized page size was handled. Fewer items than the maximum and no next page means
    the whole collection fit: the cap could not be observed (still not a failure)."""
    if status >= 400:
        return "rejected"
    if count == max_items or page_meta(ex).next_url or page_meta(ex).has_more:
        return "capped"
    return "within the maximum (the collection is smaller, so the cap was not observed)"


@check("http.pagination.next-broken", "http.pagination.page-overlap", kind="scan",
       requires=(Req.PROBE_PAGINATION,))
def check_page_walk(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    """Following next: every page is a collection, pages do not overlap, the next link moves on."""
    walked = False
    for ep in ev.endpoints:
        pages = [ex for ex in (ep.base(), ep.by_purpose("page-2"), ep.by_purpose("page-3")) if ex is not None]
        if len(pages) < 2:
            continue
        walked = True
        yield from _walk(ep, pages)
    if not walked:
        yield NotApplicable("no collection offered a next page to follow")


def _walk(ep: Endpoint, pages: list[Exchange]) -> Iterator[Finding]:
    seen_urls = {pages[0].url}
    previous = {item_key(i) for i in items_of(pages[0]) or []}
    for number, ex in enumerate(pages[1:], start=2):
        if ex.status in (429, 503):  # the limiter (or an outage) answered: the walk proves nothing
            return
        problem = None
        items = items_of(ex)
        if not ex.ok or not (ex.status and 200 <= ex.status < 300):
            problem = f"status {ex.status}" if ex.status else f"request failed: {ex.error}"
        elif items is None:
            problem = "the response is not a collection"
        elif ex.url in seen_urls:
            problem = "the next link points back to a page already seen (the walk would never end)"
        if problem:
            yield Finding("http.pagination.next-broken", {"url": ep.url, "method": "GET"},
                          {"page": number, "problem": problem, "next": ex.url},
                          {"page": number, "next": ex.url, "status": ex.status})
            return
        seen_urls.add(ex.url)
        keys = [item_key(i) for i in items or []]
        shared = sorted(previous & set(keys))
        if shared:
            yield Finding("http.pagination.page-overlap", {"url": ep.url, "method": "GET"},
                          {"page_a": number - 1, "page_b": number, "shared": len(shared),
                           "ids": ", ".join(shared[:5])},
                          {"pages": [p.url for p in pages], "shared": shared[:20]})
            return
        previous = set(keys)


@check("http.pagination.offset", "http.pagination.deep-offset-slow", kind="scan",
       requires=(Req.PROBE_PAGINATION,))
def check_offset(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    """Offset/page-number pagination (info: cursors recommended) and the cost of a deep offset."""
    ratio_warn = ctx.threshold("deep_offset_ratio_warn")
    judged = False
    for ep in ev.endpoints:
        base = ep.base()
        if base is None or not is_collection(ep) or items_of(base) is None:
            continue
        meta = page_meta(base)
        if meta.style is None:
            continue
        judged = True
        if meta.style in ("offset", "page"):
            yield Finding("http.pagination.offset", _where(ep), {"param": meta.style_param},
                          {"style": meta.style, "next": meta.next_url})
        timing = deep_offset_timing(ep)
        if timing is not None and timing["ratio"] > ratio_warn:
            yield Finding("http.pagination.deep-offset-slow", _where(ep),
                          {**timing, "threshold": ratio_warn}, {**timing, "threshold": ratio_warn})
    if not judged:
        yield NotApplicable("no collection showed its pagination style (no next link or cursor)")


def deep_offset_timing(ep: Endpoint) -> dict[str, Any] | None:
    """Fastest first-page vs fastest deep-page time (min of the repeats: the least noisy estimate)."""
    first = [ex for ex in ep.with_prefix("page-offset-0") if ex.ok]
    deep = [ex for ex in ep.with_prefix("page-offset-deep") if ex.ok]
    if not first or not deep:
        return None
    first_ms = min(ex.elapsed_ms for ex in first)
    deep_ms = min(ex.elapsed_ms for ex in deep)
    param, offset = "", ""
    for name, value in query_params(deep[0].url).items():
        if name.lower() in OFFSET_PARAMS | PAGE_PARAMS:
            param, offset = name, value
    ratio = deep_ms / max(first_ms, 0.5)  # 0.5 ms floor: sub-millisecond timings are noise
    return {"param": param, "offset": offset, "first_ms": round(first_ms, 1), "deep_ms": round(deep_ms, 1),
            "ratio": round(ratio, 1), "deep_status": deep[0].status}
