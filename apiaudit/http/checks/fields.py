"""Field selection (checklist ``api.field_selection``): does ``?fields=id`` (or ``fields[type]=``,
``select=``, ``$select=``) shrink the representation?

Exchanges read (written by ``apiaudit.http.probes.fields``): ``base`` and ``fields-<form>`` with
form in :data:`FORMS`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.http.collections import find_collection
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.model import Finding
from apiaudit.requirements import Req

# form name -> how it is written (JSON:API sparse fieldsets, OData $select, the guide's ?fields=)
# Objects with fewer fields gain little from selection (asking for 1 of 3 saves a few bytes); not judged.
MIN_FIELDS = 4
FORMS: dict[str, str] = {"fields": "fields={f}", "jsonapi": "fields[{t}]={f}", "select": "select={f}",
                         "odata": "$select={f}"}


def _json(ex: Exchange | None) -> Any:
    if ex is None or not ex.ok or not ex.status or not 200 <= ex.status < 300:
        return None
    try:
        return ex.json()
    except (ValueError, UnicodeDecodeError):
        return None


def sample_object(doc: Any) -> dict[str, Any] | None:
    """The object whose fields are selected: the first collection item, or the document itself.
    JSON:API resources select inside ``attributes``."""
    found = find_collection(doc)
    obj = found.items[0] if found is not None and found.items else doc
    if isinstance(obj, dict) and isinstance(obj.get("attributes"), dict):
        attributes: dict[str, Any] = obj["attributes"]
        return attributes | {"id": obj.get("id")}
    if found is None and isinstance(doc, dict) and isinstance(doc.get("data"), dict):
        return sample_object(doc["data"])
    return obj if isinstance(obj, dict) else None


def selectable(ep: Endpoint) -> tuple[str, str] | None:
    """(field to ask for, JSON:API type) when the base body has an object with ≥ MIN_FIELDS fields."""
    doc = ep.base_json()
    obj = sample_object(doc)
    if obj is None or len(obj) < MIN_FIELDS:
        return None
    name = "id" if "id" in obj else str(next(iter(obj)))
    found = find_collection(doc)
    first = found.items[0] if found is not None and found.items else doc
    rtype = first.get("type") if isinstance(first, dict) and isinstance(first.get("type"), str) else None
    return name, rtype or ep.url.rstrip("/").rsplit("/", 1)[-1].split("?")[0]


def honoured(base: Exchange, ex: Exchange) -> bool:
    """Fewer fields on the sample object and a smaller body than the base response."""
    full, selected = sample_object(_json(base)), sample_object(_json(ex))
    if full is None or selected is None:
        return False
    return len(selected) < len(full) and set(selected) <= set(full) | {"id", "type"} \
        and ex.body_size < base.body_size


@check("http.fields.ignored", "http.fields.ignored-small", "http.fields.supported", kind="scan",
       requires=(Req.PROBE_FIELDS,))
def check_fields(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    judged = False
    for ep in ev.endpoints:
        base = ep.base()
        tries = ep.with_prefix("fields-")
        if base is None or not tries or len(sample_object(_json(base)) or {}) < MIN_FIELDS:
            continue
        judged = True
        where = {"url": ep.url, "method": "GET"}
        good = next((ex for ex in tries if honoured(base, ex)), None)
        if good is not None:
            saved = base.body_size - good.body_size
            pct = round(100 * saved / base.body_size, 1) if base.body_size else 0.0
            param = unquote(good.url.split("?", 1)[-1])
            yield Finding("http.fields.supported", where,
                          {"param": param, "bytes_full": base.body_size, "bytes_selected": good.body_size,
                           "saved_pct": pct},
                          {"param": param, "bytes_full": base.body_size, "bytes_selected": good.body_size,
                           "bytes_saved": saved, "saved_pct": pct})
            continue
        full = sample_object(_json(base)) or {}
        tried = ", ".join(f"{unquote(ex.url.split('?', 1)[-1])} -> {ex.status}" for ex in tries)
        # Severity from impact: selecting fields of one 60-byte object saves next to nothing, but the
        # same small objects 250 times over (a 20 KB list) are worth trimming: both must be small.
        size = len(json.dumps(full, separators=(",", ":"), default=str))
        small = (size < int(ctx.threshold("fields_min_object_bytes"))
                 and base.body_size < int(ctx.threshold("compression_min_bytes")))
        yield Finding("http.fields.ignored-small" if small else "http.fields.ignored", where,
                      {"tried": tried, "fields": len(full), "bytes": base.body_size, "object_bytes": size},
                      {"tried": [{"url": ex.url, "status": ex.status, "bytes": ex.body_size} for ex in tries],
                       "fields": sorted(full)[:30], "bytes": base.body_size})
    if not judged:
        yield NotApplicable(f"no JSON endpoint with objects of {MIN_FIELDS} or more fields to select from")
