"""Scan evidence: plain, JSON round-trippable records of every HTTP exchange (DESIGN.md "collect").

The collector (``apiaudit.http.client`` + probes) fills these; checks only read them. Saved with
``--save-evidence`` and replayed with ``--from-evidence``, so every check runs offline.

Bodies are bounded: the decoded body is kept up to :data:`BODY_KEEP_BYTES` (checks can count items and
follow cursors); beyond that only its size, SHA-256 and a :data:`HEAD_KEEP_BYTES` head are kept and
``truncated`` is set. Only the purposes checks parse (:func:`keeps_body`) keep whole bodies, and only
while the scan-wide :data:`RETAINED_BODY_BUDGET` lasts; other bodies keep a head (``body_dropped``).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apiaudit.fileio import atomic_write, bounded_text
from apiaudit.http.secrets import mask_headers
from apiaudit.redact import redact_bytes

__all__ = ["BODY_KEEP_BYTES", "HEAD_KEEP_BYTES", "RETAINED_BODY_BUDGET", "Endpoint", "Exchange", "ScanEvidence",
           "keeps_body", "load_evidence", "save_evidence"]

EVIDENCE_VERSION = 1
BODY_KEEP_BYTES = 2 * 1024 * 1024  # decoded bytes stored per body (2 MiB)
HEAD_KEEP_BYTES = 64 * 1024  # what is kept of a body no check parses, or of one over BODY_KEEP_BYTES
# Whole bodies kept across one scan: beyond it memory would grow with every large endpoint.
RETAINED_BODY_BUDGET = 64 * 1024 * 1024
# Purposes whose bodies checks parse (collections, next links, selected fields, OpenAPI, /metrics);
# probe variants (codings, revalidation, samples, bursts, static assets) are judged on size and hash.
BODY_PURPOSES = ("base", "page-", "fields-", "openapi", "metrics")


def keeps_body(purpose: str) -> bool:
    return purpose.startswith(BODY_PURPOSES)

Pairs = list[tuple[str, str]]


def _pairs(raw: Any) -> Pairs:
    return [(str(k), str(v)) for k, v in (raw or [])]


@dataclass
class Exchange:
    """One request and its response (or the error that replaced it).

    ``body`` is the decoded body as kept (at most BODY_KEEP_BYTES). ``body_size`` is the decoded size
    read (a lower bound when ``truncated``), ``wire_size`` the bytes received on the wire (content-coded),
    ``content_coding`` the Content-Encoding actually applied ("identity" when none). ``over_cap``: why the
    wire read or the decoder stopped at its limit (size and hash cover only what was read), else None. ``body_dropped``:
    size and hash are of the whole body but ``body`` holds only a head (budget or purpose, see above).
    """

    id: str
    purpose: str
    method: str
    url: str
    request_headers: Pairs = field(default_factory=list)
    status: int | None = None
    http_version: str = ""
    response_headers: Pairs = field(default_factory=list)
    # Not in repr: asyncio.run() reprs its main task's result (the whole evidence) when it checks the
    # SIGINT handler on exit, and a bytes repr is up to 4x the body: hundreds of MB at the peak.
    body: bytes = field(default=b"", repr=False)
    body_size: int = 0
    wire_size: int = 0
    body_sha256: str = ""
    truncated: bool = False
    over_cap: str | None = None
    body_dropped: bool = False
    content_coding: str = "identity"
    decode_error: str | None = None
    elapsed_ms: float = 0.0
    ttfb_ms: float | None = None
    started_ms: float = 0.0  # offset from the start of the scan (orders exchanges, e.g. rate-limit countdown)
    error: str | None = None
    redirects: list[str] = field(default_factory=list)  # same-host hops followed before this response

    # -- header helpers (names are case-insensitive) --
    def header(self, name: str) -> str | None:
        """The field value, multiple lines joined with ", " (RFC 9110 §5.3); None when absent."""
        values = self.headers_all(name)
        return ", ".join(values) if values else None

    def headers_all(self, name: str) -> list[str]:
        low = name.lower()
        return [v for k, v in self.response_headers if k.lower() == low]

    def request_header(self, name: str) -> str | None:
        low = name.lower()
        for k, v in self.request_headers:
            if k.lower() == low:
                return v
        return None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def media_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The parsed JSON body; raises ValueError when the body is not (complete) JSON."""
        if self.truncated or self.body_dropped:
            raise ValueError("body truncated" if self.truncated else "body not retained")
        return json.loads(self.body.decode("utf-8"))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            k: getattr(self, k)
            for k in ("id", "purpose", "method", "url", "status", "http_version", "body_size", "wire_size",
                      "body_sha256", "truncated", "over_cap", "body_dropped", "content_coding", "decode_error",
                      "elapsed_ms", "ttfb_ms", "started_ms", "error")
        }
        data["redirects"] = list(self.redirects)
        data["request_headers"] = [list(p) for p in self.request_headers]
        data["response_headers"] = [list(p) for p in self.response_headers]
        try:
            data["body_text"] = self.body.decode("utf-8")
        except UnicodeDecodeError:
            data["body_b64"] = base64.b64encode(redact_bytes(self.body)).decode("ascii")  # before encoding
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Exchange:
        if "body_b64" in data:
            body = base64.b64decode(data["body_b64"])
        else:
            body = str(data.get("body_text", "")).encode("utf-8")
        return cls(
            id=str(data["id"]), purpose=str(data["purpose"]), method=str(data.get("method", "GET")),
            url=str(data["url"]), request_headers=_pairs(data.get("request_headers")),
            status=data.get("status"), http_version=str(data.get("http_version", "")),
            response_headers=_pairs(data.get("response_headers")), body=body,
            body_size=int(data.get("body_size", len(body))), wire_size=int(data.get("wire_size", 0)),
            body_sha256=str(data.get("body_sha256", "")), truncated=bool(data.get("truncated", False)),
            over_cap=str(data["over_cap"]) if data.get("over_cap") else None,
            body_dropped=bool(data.get("body_dropped", False)),
            content_coding=str(data.get("content_coding", "identity")), decode_error=data.get("decode_error"),
            elapsed_ms=float(data.get("elapsed_ms", 0.0)), ttfb_ms=data.get("ttfb_ms"),
            started_ms=float(data.get("started_ms", 0.0)), error=data.get("error"),
            redirects=[str(u) for u in data.get("redirects") or []],
        )


@dataclass
class Endpoint:
    """One probed URL, its hints from config/OpenAPI and every exchange made for it.

    Hints: ``collection`` (None = decide from the body), ``resource_class`` (the guide's TTL table:
    sensitive|short|medium|long|immutable, None = unknown), ``authenticated`` (auth headers were sent),
    ``streamed`` (large bodies expected and streamed: NDJSON/chunked), ``headers``/``params`` sent.
    """

    url: str
    name: str = ""
    source: str = "cli"  # cli | config | openapi
    collection: bool | None = None
    resource_class: str | None = None
    authenticated: bool = False
    streamed: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)

    def base(self) -> Exchange | None:
        """The plain GET every probe builds on (purpose "base")."""
        return self.by_purpose("base")

    def by_purpose(self, purpose: str) -> Exchange | None:
        for ex in self.exchanges:
            if ex.purpose == purpose:
                return ex
        return None

    def with_prefix(self, prefix: str) -> list[Exchange]:
        return [ex for ex in self.exchanges if ex.purpose.startswith(prefix)]

    def base_json(self) -> Any:
        """Parsed JSON of the base response, or None when it is missing or not JSON."""
        base = self.base()
        if base is None or not base.ok:
            return None
        try:
            return base.json()
        except (ValueError, UnicodeDecodeError):
            return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url, "name": self.name, "source": self.source, "collection": self.collection,
            "resource_class": self.resource_class, "authenticated": self.authenticated,
            "streamed": self.streamed, "headers": dict(mask_headers(self.headers.items())),
            "params": dict(self.params),
            "exchanges": [ex.to_dict() for ex in self.exchanges],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Endpoint:
        return cls(
            url=str(data["url"]), name=str(data.get("name", "")), source=str(data.get("source", "cli")),
            collection=data.get("collection"), resource_class=data.get("resource_class"),
            authenticated=bool(data.get("authenticated", False)), streamed=bool(data.get("streamed", False)),
            headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
            params={str(k): str(v) for k, v in (data.get("params") or {}).items()},
            exchanges=[Exchange.from_dict(e) for e in data.get("exchanges") or []],
        )


@dataclass
class ScanEvidence:
    """Everything one scan collected. ``extra`` holds exchanges not tied to an endpoint (/metrics,
    static assets, OpenAPI documents); ``skipped`` lists what was not done and why (budget, unfillable
    OpenAPI operations): dicts with "url", "purpose", "reason"."""

    endpoints: list[Endpoint] = field(default_factory=list)
    extra: list[Exchange] = field(default_factory=list)
    requests_made: int = 0
    budget: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)  # samples, burst, static urls, metrics path...
    targets: list[str] = field(default_factory=list)

    def available(self, req: Any) -> bool | str:
        """The evidence contract (apiaudit.requirements): True, or why ``req`` was not measured."""
        from apiaudit.http.availability import available

        return available(self, req)

    def all_exchanges(self) -> list[Exchange]:
        out = [ex for ep in self.endpoints for ex in ep.exchanges]
        out.extend(self.extra)
        return sorted(out, key=lambda ex: ex.started_ms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "evidence_version": EVIDENCE_VERSION, "kind": "scan", "targets": list(self.targets),
            "requests_made": self.requests_made, "budget": self.budget, "options": dict(self.options),
            "skipped": list(self.skipped), "errors": list(self.errors),
            "endpoints": [ep.to_dict() for ep in self.endpoints],
            "extra": [ex.to_dict() for ex in self.extra],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScanEvidence:
        if data.get("evidence_version") != EVIDENCE_VERSION or data.get("kind") != "scan":
            raise ValueError("not an apiaudit scan evidence file (evidence_version 1)")
        return cls(
            endpoints=[Endpoint.from_dict(e) for e in data.get("endpoints") or []],
            extra=[Exchange.from_dict(e) for e in data.get("extra") or []],
            requests_made=int(data.get("requests_made", 0)), budget=int(data.get("budget", 0)),
            skipped=[dict(s) for s in data.get("skipped") or []],
            errors=[dict(e) for e in data.get("errors") or []],
            options=dict(data.get("options") or {}), targets=[str(t) for t in data.get("targets") or []],
        )


def save_evidence(evidence: ScanEvidence, path: str | Path) -> None:
    atomic_write(path, json.dumps(evidence.to_dict(), indent=1) + "\n", named=True)


def load_evidence(path: str | Path) -> ScanEvidence:
    return ScanEvidence.from_dict(json.loads(bounded_text(path)))
