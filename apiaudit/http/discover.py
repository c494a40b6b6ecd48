"""Which endpoints to probe: CLI URLs, config ``endpoints:`` and OpenAPI 3.x / Swagger 2 GET operations.

Pure parsing lives here; fetching the OpenAPI document is done by the caller (audit.py) through the
scan client so it counts against the budget. Path parameters come from ``example``/``examples``/
``default`` (parameter or schema), else from ids seen in the parent collection (filled after the base
GETs, see :func:`fill_from_collections`); what cannot be filled is listed as skipped with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit, urlunsplit

import yaml

from apiaudit.http.collections import collection_hint, find_collection, item_ids
from apiaudit.http.evidence import Endpoint
from apiaudit.http.secrets import is_secret_header
from apiaudit.http.targeting import TargetGuard, join_path

AUTO_PATHS = ("/openapi.json", "/swagger.json", "/v3/api-docs", "/api-docs")
MAX_DOC_BYTES = 5 * 1024 * 1024
MAX_OPERATIONS = 100
MAX_REF_DEPTH = 20
_PARAM = re.compile(r"\{([^}/]+)\}")


@dataclass
class Pending:
    """An operation whose path parameters wait for ids from its parent collection."""

    template: str  # absolute URL with {param} slots
    params: list[str]
    parent: str  # absolute URL of the collection that should list the ids
    name: str


@dataclass
class Discovery:
    endpoints: list[Endpoint] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)


def with_params(url: str, params: Mapping[str, str]) -> str:
    if not params:
        return url
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(dict(params))) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def is_authenticated(headers: Mapping[str, str]) -> bool:
    return any(is_secret_header(name) for name in headers)


def from_config(urls: Iterable[str], config_endpoints: list[dict[str, Any]], api_base: str | None,
                headers: Mapping[str, str]) -> list[Endpoint]:
    """CLI URLs first, then config endpoints (``path`` joined to targets.api). Duplicates dropped."""
    out: dict[str, Endpoint] = {}
    for url in urls:
        out.setdefault(url, Endpoint(url=url, source="cli", headers=dict(headers),
                                     authenticated=is_authenticated(headers)))
    for raw in config_endpoints:
        url = config_url(raw, api_base)
        sent = {**headers, **(raw.get("headers") or {})}
        out[url] = Endpoint(
            url=url, name=str(raw.get("name", "")), source="config", collection=raw.get("collection"),
            resource_class=raw.get("resource_class"), streamed=bool(raw.get("streamed", False)),
            authenticated=bool(raw.get("authenticated", is_authenticated(sent))), headers=sent,
            params=dict(raw.get("params") or {}),
        )
    return list(out.values())


def config_url(raw: dict[str, Any], api_base: str | None) -> str:
    """The URL an ``endpoints:`` entry of apiaudit.yaml names (``path`` joined to targets.api)."""
    target = raw.get("url") or urljoin((api_base or "").rstrip("/") + "/", str(raw["path"]).lstrip("/"))
    return with_params(target, raw.get("params") or {})


def parse_document(raw: bytes) -> dict[str, Any]:
    """JSON or YAML OpenAPI/Swagger document -> mapping; ValueError with a reason otherwise."""
    if len(raw) > MAX_DOC_BYTES:
        raise ValueError(f"document larger than {MAX_DOC_BYTES} bytes")
    text = raw.decode("utf-8", errors="replace")
    try:
        doc = json.loads(text)
    except ValueError:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"neither JSON nor YAML: {exc}") from None
    if not isinstance(doc, dict) or not ("openapi" in doc or "swagger" in doc):
        raise ValueError("not an OpenAPI 3.x or Swagger 2 document (no 'openapi'/'swagger' key)")
    if not isinstance(doc.get("paths"), dict):
        raise ValueError("the document has no 'paths'")
    return doc


def _resolve(doc: dict[str, Any], node: Any, depth: int = 0) -> Any:
    """Follow local ``$ref``s (``#/a/b``); loops and remote refs end as an empty mapping."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < MAX_REF_DEPTH:
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            return {}
        seen.add(ref)
        target: Any = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        node, depth = target, depth + 1
    return node if not (isinstance(node, dict) and "$ref" in node) else {}


def _example(doc: dict[str, Any], param: dict[str, Any]) -> str | None:
    schema = _resolve(doc, param.get("schema") or {})
    candidates: list[Any] = [param.get("example"), (schema or {}).get("example")]
    examples = param.get("examples")
    if isinstance(examples, dict):
        for ex in examples.values():
            ex = _resolve(doc, ex)
            candidates.append(ex.get("value") if isinstance(ex, dict) else ex)
    if isinstance((schema or {}).get("examples"), list) and schema["examples"]:
        candidates.append(schema["examples"][0])
    candidates += [param.get("default"), (schema or {}).get("default"), param.get("x-example")]
    enum = (schema or {}).get("enum") or param.get("enum")
    if isinstance(enum, list) and enum:
        candidates.append(enum[0])
    for value in candidates:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    return None


def _path_of(url: str) -> str:
    try:
        return urlsplit(url).path or "/"
    except ValueError:
        return "/"


def host_check(hosts: Iterable[str], allow_hosts: Iterable[str]) -> Callable[[str], bool]:
    """``url`` is on target: same scheme, host and port as one of ``hosts`` (URLs), or its host name
    is allowed (the rule the client enforces on every request, see :mod:`apiaudit.http.targeting`)."""
    guard = TargetGuard(hosts, allow_hosts)
    return lambda url: guard.refusal(url) is None


def server_base(doc: dict[str, Any], doc_url: str) -> str:
    if "swagger" in doc:
        scheme = (doc.get("schemes") or [urlsplit(doc_url).scheme or "http"])[0]
        host = doc.get("host") or urlsplit(doc_url).netloc
        return f"{scheme}://{host}{doc.get('basePath') or ''}"
    servers = doc.get("servers") or []
    url = servers[0].get("url", "/") if servers and isinstance(servers[0], dict) else "/"
    return urljoin(doc_url, str(url))


def operations(doc: dict[str, Any], doc_url: str, headers: Mapping[str, str],
               on_target: Callable[[str], bool] | None = None) -> Discovery:
    """GET operations of ``doc`` as endpoints / pending templates / skipped entries.

    ``on_target(url)`` says whether the document's server URL may be scanned: a document served by
    the target must not aim the scan at another host (cloud metadata, internal admin hosts)."""
    base = server_base(doc, doc_url).rstrip("/")
    found = Discovery()
    if on_target is not None and not on_target(base):
        origin = urljoin(doc_url, "/")
        safe = (join_path(origin, _path_of(base).rstrip("/") or "/") or origin).rstrip("/")
        found.errors.append({"where": "openapi", "message": (
            f"servers URL {base} is off the target host: using {safe} instead "
            "(allow that host with http.allow_hosts)")})
        base = safe
    for path, item in list(doc["paths"].items())[:MAX_OPERATIONS]:
        item = _resolve(doc, item)
        op = _resolve(doc, item.get("get")) if isinstance(item, dict) else None
        if not isinstance(op, dict) or not isinstance(path, str):
            continue
        url = join_path(base, path)
        if url is None or (on_target is not None and not on_target(url)):
            found.skipped.append({"url": base, "purpose": "openapi", "reason": (
                f"paths key {path[:200]!r} is not a plain path starting with '/' (it could point the scan "
                "at another host): not scanned")})
            continue
        params = [_resolve(doc, p) for p in [*(item.get("parameters") or []), *(op.get("parameters") or [])]]
        params = [p for p in params if isinstance(p, dict)]
        _add_operation(doc, url, path, params, headers, found)
        if found.endpoints and found.endpoints[-1].name == f"GET {path}":  # response schema: a list?
            found.endpoints[-1].collection = collection_hint(doc, op, _resolve)
    return found


def _add_operation(doc: dict[str, Any], template: str, path: str, params: list[dict[str, Any]],
                   headers: Mapping[str, str], found: Discovery) -> None:
    values: dict[str, str] = {}
    query: dict[str, str] = {}
    missing: list[str] = []
    for p in params:
        where, name = p.get("in"), str(p.get("name", ""))
        value = _example(doc, p)
        if where == "path":
            if value is None:
                missing.append(name)
            else:
                values[name] = value
        elif where == "query" and p.get("required"):
            if value is None:
                why = f"required query parameter '{name}' has no example or default"
                found.skipped.append({"url": template, "purpose": "openapi", "reason": why})
                return
            query[name] = value
    missing += [n for n in _PARAM.findall(path) if n not in values and n not in missing]
    filled = _PARAM.sub(lambda m: quote(values.get(m.group(1), m.group(0)), safe="{}"), template)
    if missing:
        parent = template[: template.index("{" + missing[0] + "}")].rstrip("/")
        found.pending.append(Pending(template=filled, params=missing, parent=parent, name=f"GET {path}"))
        return
    found.endpoints.append(Endpoint(url=with_params(filled, query), name=f"GET {path}", source="openapi",
                                    headers=dict(headers), authenticated=is_authenticated(headers),
                                    params=query))


def fill_from_collections(pending: list[Pending], endpoints: list[Endpoint],
                          headers: Mapping[str, str]) -> tuple[list[Endpoint], list[dict[str, str]]]:
    """Fill single-parameter templates with the first id listed by their parent collection."""
    by_url = {ep.url: ep for ep in endpoints}
    made: list[Endpoint] = []
    skipped: list[dict[str, str]] = []
    for p in pending:
        parent = by_url.get(p.parent)
        coll = find_collection(parent.base_json()) if parent else None
        ids = item_ids(coll.items, 1) if coll else []
        if len(p.params) != 1 or not ids:
            why = (f"path parameter(s) {', '.join(p.params)} have no example, and no collection at "
                   f"{p.parent} listed ids to use")
            skipped.append({"url": p.template, "purpose": "openapi", "reason": why})
            continue
        url = p.template.replace("{" + p.params[0] + "}", quote(ids[0], safe=""))
        made.append(Endpoint(url=url, name=p.name, source="openapi", headers=dict(headers),
                             authenticated=is_authenticated(headers)))
    return made, skipped
