"""`apiaudit init`: a commented apiaudit.yaml from what can be discovered about the targets.

Discovery is read-only and small: one GET of each well-known OpenAPI location under the API's origin
(``/openapi.json``, ``/swagger.json``, ...), and the document's GET operations become ``endpoints``.
A DSN's password is never written: it is dropped, and libpq reads it from ``PGPASSWORD`` (or ~/.pgpass)
at run time.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit, urlunsplit

import yaml

MAX_ENDPOINTS = 30

HEADER = """\
# apiaudit.yaml: what `apiaudit ci` (and scan/db/cache) audit, and the gate.
# Written by `apiaudit init`{source}. Every key: README "Configuration".
"""


def discover_endpoints(base: str, timeout_s: float = 10.0) -> tuple[list[dict[str, object]], list[str], str | None]:
    """GET paths from the API's OpenAPI document, when one is served at a well-known location."""
    import httpx

    from apiaudit.http.discover import AUTO_PATHS, host_check, operations, parse_document

    origin = urlunsplit((*urlsplit(base)[:2], "/", "", ""))
    with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
        for path in AUTO_PATHS:
            url = urljoin(origin, path.lstrip("/"))
            try:
                resp = client.get(url)
            except httpx.HTTPError:
                continue
            if resp.status_code != 200:
                continue
            try:
                doc = parse_document(resp.content)
            except ValueError:
                continue
            found = operations(doc, url, {}, on_target=host_check([origin], []))
            endpoints: list[dict[str, object]] = []
            for ep in found.endpoints[:MAX_ENDPOINTS]:
                entry: dict[str, object] = {"path": urlsplit(ep.url).path + (
                    "?" + urlsplit(ep.url).query if urlsplit(ep.url).query else "")}
                if getattr(ep, "collection", None):
                    entry["collection"] = True
                endpoints.append(entry)
            pending = [urlsplit(p.template).path for p in found.pending[:MAX_ENDPOINTS]]
            return endpoints, pending, url
    return [], [], None


def safe_dsn(dsn: str) -> tuple[str, bool]:
    """The DSN without its password (libpq takes it from PGPASSWORD); True when one was dropped."""
    parts = urlsplit(dsn)
    if not parts.scheme.startswith("postgres") or parts.password is None:
        return dsn, False
    user, host = parts.netloc.rsplit("@", 1)
    return urlunsplit((parts.scheme, f"{user.split(':', 1)[0]}@{host}", *parts[2:])), True


def render(api: str | None, endpoints: list[dict[str, object]], pending: list[str], spec: str | None,
           dsn: str | None, cache: list[str], logs: list[str]) -> str:
    targets: dict[str, object] = {}
    if api:
        targets["api"] = [api]
    if dsn:
        targets["database"] = dsn
    if logs:
        targets["logs"] = logs
    if cache:
        targets["cache"] = cache
    doc: dict[str, object] = {"targets": targets}
    if endpoints:
        doc["endpoints"] = endpoints
    doc["gate"] = {"fail_on": "high"}
    doc["http"] = {"max_requests": 500, "concurrency": 4}
    doc["ci"] = {"formats": ["json", "html", "sarif", "junit", "markdown"], "output_dir": "apiaudit-report"}
    source = f" from {spec}" if spec else ""
    body = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
    notes = [""]
    if pending:  # the scan fills their ids from the parent collection; pin one here to audit it always
        notes.append("# Operations with path parameters (ids are taken from their collection during the scan):")
        notes += [f"#   - path: {path}" for path in pending]
    notes += [
        "# Secrets: use ${VAR} (expanded from the environment, never printed), e.g.",
        "# headers: {Authorization: 'Bearer ${API_TOKEN}'}",
        "# rules: {http.compression.missing: low}   # a rule's severity, or off",
        "# thresholds: {max_page_size: 100, p95_warn_ms: 500}",
    ]
    return HEADER.format(source=source) + body + "\n".join(notes) + "\n"
