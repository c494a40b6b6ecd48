"""SARIF locations for findings that live at URLs and in databases, not in source files.

GitHub code scanning rejects a result without ``physicalLocation.artifactLocation.uri`` and an
absolute ``http://`` URI ("unrecognized SARIF location URI scheme"). SARIF's own answer (§3.4.4,
§3.14.14) fits both: the artifact URI is *relative* (``api/users?limit=10``) and its ``uriBaseId``
names an absolute base in ``run.originalUriBaseIds`` (``API`` -> ``http://127.0.0.1:8000/``), so
``urljoin(base, uri)`` is the endpoint again. Database and cache objects get the same treatment
(``public/orders`` against the redacted DSN) plus a ``logicalLocation`` naming the table, index or query.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from apiaudit.report import view

_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"


class Bases:
    """The run's ``originalUriBaseIds``: one id per absolute base, named by what it is."""

    def __init__(self, targets: list[str]) -> None:
        self.targets = targets
        self.ids: dict[str, str] = {}

    def id_for(self, base: str, prefix: str) -> str:
        if base not in self.ids:
            taken = set(self.ids.values())
            name = (
                prefix
                if prefix not in taken
                else next(f"{prefix}{n}" for n in range(2, 10_000) if f"{prefix}{n}" not in taken)
            )
            self.ids[base] = name
        return self.ids[base]

    def original(self) -> dict[str, dict[str, str]]:
        return {name: {"uri": base} for base, name in self.ids.items()}

    def database(self) -> str:
        dsn = next(
            (t for t in self.targets if t.startswith(("postgres://", "postgresql://"))), "postgresql:///"
        )
        return _as_base(dsn)


def _as_base(uri: str) -> str:
    """A base URI must end with a slash so relative references resolve beneath it."""
    return uri if uri.endswith("/") else uri + "/"


def _rel(*parts: Any) -> str:
    segments = [quote(str(p), safe="-._~") for p in parts if p not in (None, "")]
    return "/".join(segments) or "."


def location(loc: dict[str, Any], bases: Bases) -> dict[str, Any]:
    text = view.location_text(loc)
    if "url" in loc:
        artifact = http_artifact(str(loc["url"]), bases)
        return {"physicalLocation": {"artifactLocation": artifact}, "message": {"text": text}}
    kind, name, artifact = object_artifact(loc, bases)
    return {
        "physicalLocation": {"artifactLocation": artifact},
        "logicalLocations": [{"name": name, "fullyQualifiedName": text, "kind": kind}],
        "message": {"text": text},
    }


def http_artifact(url: str, bases: Bases) -> dict[str, str]:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return {"uri": _rel(url)}
    base_id = bases.id_for(f"{parts.scheme}://{parts.netloc}/", "API")
    rel = quote(parts.path.lstrip("/"), safe=_PATH_SAFE)
    if parts.query:
        rel += "?" + quote(parts.query, safe=_QUERY_SAFE)
    return {"uri": rel or ".", "uriBaseId": base_id}


def object_artifact(loc: dict[str, Any], bases: Bases) -> tuple[str, str, dict[str, str]]:
    """(logical kind, name, artifactLocation) of a database, query or cache location."""
    if "index" in loc:
        kind, name, rel = "index", str(loc["index"]), _rel(loc.get("schema"), loc.get("table"), loc["index"])
    elif "table" in loc:
        kind, name, rel = "table", str(loc["table"]), _rel(loc.get("schema"), loc["table"])
    elif "fingerprint" in loc:
        kind, name, rel = "query", str(loc["fingerprint"]), _rel("queries", loc["fingerprint"])
    elif "server" in loc:
        server = str(loc["server"])
        base_id = bases.id_for(_as_base(server), "CACHE")
        return "resource", server, {"uri": _rel("keys", loc.get("key_prefix")), "uriBaseId": base_id}
    else:
        target = str(loc.get("target") or "")
        if "://" in target:
            base_id = bases.id_for(_as_base(target), "TARGET")
            return "resource", target, {"uri": ".", "uriBaseId": base_id}
        kind, name, rel = "resource", view.location_text(loc), _rel(view.location_text(loc))
    return kind, name, {"uri": rel, "uriBaseId": bases.id_for(bases.database(), "DATABASE")}
