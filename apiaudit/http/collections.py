"""Recognise a collection in a JSON body: a top-level array, or an envelope holding a list.

Pure helper shared by discovery (ids for OpenAPI path parameters) and the pagination/field checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ENVELOPE_KEYS", "Collection", "find_collection", "item_ids"]

# Envelope keys seen in the wild, most common first (JSON:API "data", Django REST "results", ...).
ENVELOPE_KEYS: tuple[str, ...] = (
    "data", "items", "results", "records", "rows", "entries", "objects", "list", "content",
    "elements", "hits", "values", "nodes", "edges", "collection", "resources",
)
ID_KEYS: tuple[str, ...] = ("id", "uuid", "key", "slug", "_id", "code", "name")


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
