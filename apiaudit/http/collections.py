"""Recognise a collection in a JSON body: a top-level array, or an envelope holding a list.

Pure helper shared by discovery (ids for OpenAPI path parameters) and the pagination/field checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ENVELOPE_KEYS", "Collection", "collection_hint", "find_collection", "is_document", "item_ids",
           "names_one_resource"]

# Envelope keys seen in the wild, most common first (JSON:API "data", Django REST "results", ...).
ENVELOPE_KEYS: tuple[str, ...] = (
    "data", "items", "results", "records", "rows", "entries", "objects", "list", "content",
    "elements", "hits", "values", "nodes", "edges", "collection", "resources",
)
ID_KEYS: tuple[str, ...] = ("id", "uuid", "key", "slug", "_id", "code", "name")
# Members that may stand beside the list of a page without making the document "something else":
# pagination metadata (counts, cursors, links) and envelope bookkeeping (Stripe "object", JSON:API
# "meta"/"links"/"included", HAL "_links"/"_embedded").
PAGE_MEMBERS = frozenset({
    "total", "total_count", "totalcount", "count", "total_items", "totalitems", "total_pages", "totalpages",
    "pages", "page", "page_size", "pagesize", "size", "per_page", "perpage", "limit", "offset", "skip",
    "next", "prev", "previous", "first", "last", "self", "next_cursor", "nextcursor", "cursor",
    "prev_cursor", "next_page", "nextpage", "next_page_token", "nextpagetoken", "has_more", "hasmore",
    "has_next", "hasnext", "more", "pagination", "meta", "links", "_links", "paging", "page_info",
    "pageinfo", "object", "url", "included", "_embedded", "jsonapi", "status", "success",
})
# A last path segment that names one resource: a number, a UUID, a long hex or prefixed id (ord_8f3a...).
_ID_SEGMENT = re.compile(r"^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}"
                         r"|[a-z]{2,5}_[0-9a-z]{6,})$", re.IGNORECASE)


@dataclass(frozen=True)
class Collection:
    """``key`` is the envelope key path ("" for a top-level array, "data.items" when nested)."""

    key: str
    items: list[Any]


def find_collection(doc: Any) -> Collection | None:
    """The list of items in ``doc`` or None. Looks one level into a ``data`` envelope (``data.items``)."""
    if isinstance(doc, list):
        return Collection("", doc)
    if not isinstance(doc, dict):
        return None
    for key in ENVELOPE_KEYS:
        value = doc.get(key)
        if isinstance(value, list):
            return Collection(key, value)
        if isinstance(value, dict):
            for inner in ENVELOPE_KEYS:
                if isinstance(value.get(inner), list):
                    return Collection(f"{key}.{inner}", value[inner])
    # A lone list-valued member (e.g. {"users": [...], "next": ...}) is the collection.
    lists = [k for k, v in doc.items() if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)]
    if len(lists) == 1:
        return Collection(lists[0], doc[lists[0]])
    return None


def names_one_resource(url: str) -> bool:
    """``/orders/42``, ``/users/3f0c...``: the URL ends with an identifier, so it is one resource
    (its lists are parts of it, not a collection to paginate)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return bool(last) and bool(_ID_SEGMENT.match(last))


def is_document(doc: Any, found: Collection) -> bool:
    """The list *is* the document: a top-level array, or an envelope whose other members are all
    pagination/envelope bookkeeping. ``{"data": [...], "unit": "ms"}`` is a chart, not a page."""
    if isinstance(doc, list) or not isinstance(doc, dict):
        return isinstance(doc, list)
    top = found.key.split(".", 1)[0]
    others = [k for k in doc if k != top]
    if "." in found.key and isinstance(doc.get(top), dict):
        others += [k for k in doc[top] if k != found.key.split(".", 1)[1]]
    return all(k.lower() in PAGE_MEMBERS for k in others)


def item_ids(items: list[Any], limit: int = 5) -> list[str]:
    """Identifier values of the first items (for filling OpenAPI path parameters)."""
    out: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        for key in ID_KEYS:
            value = item.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                out.append(str(value))
                break
        if len(out) >= limit:
            break
    return out


def collection_hint(doc: dict[str, Any], op: dict[str, Any],
                    resolve: Callable[[dict[str, Any], Any], Any]) -> bool | None:
    """What an OpenAPI operation's 2xx JSON response schema says: a collection to paginate (an array
    without a ``maxItems`` within reach, or a Page-like object: one list beside page members), not one
    (any other object, or an array bounded by ``maxItems``), or None when the schema says nothing."""
    raw = op.get("responses")
    responses: dict[str, Any] = raw if isinstance(raw, dict) else {}
    for code in ("200", "206", "2XX", "default"):
        response = resolve(doc, responses.get(code))
        content = response.get("content") if isinstance(response, dict) else None
        media = (content or {}).get("application/json") if isinstance(content, dict) else None
        schema = resolve(doc, media.get("schema")) if isinstance(media, dict) else None
        if isinstance(schema, dict) and schema:
            return _schema_is_collection(doc, schema, resolve)
    return None


def _schema_is_collection(doc: dict[str, Any], schema: dict[str, Any],
                          resolve: Callable[[dict[str, Any], Any], Any]) -> bool | None:
    if schema.get("type") == "array":
        return not isinstance(schema.get("maxItems"), int)
    props = schema.get("properties")
    if schema.get("type") not in (None, "object") or not isinstance(props, dict):
        return None
    lists = [k for k, v in props.items() if (resolve(doc, v) or {}).get("type") == "array"]
    return len(lists) == 1 and all(k.lower() in PAGE_MEMBERS for k in props if k != lists[0])
