"""Small, pure readings of HTTP caching semantics used by several checks (RFC 9110, RFC 9111)."""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

from apiaudit.http.evidence import Endpoint, Exchange

# RFC 9110 §15.1: status codes that are "heuristically cacheable" (a cache may give them a lifetime
# of its own choosing when the response carries no explicit one, RFC 9111 §4.2.2).
HEURISTIC_STATUSES = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})
# RFC 9110 §15.4.5: a 304 must carry these if the 200 would have.
HEADERS_304 = ("cache-control", "content-location", "date", "etag", "expires", "vary")
_DIRECTIVE = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,\s]*))?\s*(?:,|$)')


def cache_control(ex: Exchange) -> dict[str, str | None]:
    """Cache-Control directives (names lower-cased; quoted values unquoted) of a response."""
    raw = ex.header("cache-control") or ""
    out: dict[str, str | None] = {}
    for m in _DIRECTIVE.finditer(raw):
        if not m.group(1):
            continue
        value = m.group(2)
        if value is not None and value.startswith('"'):
            value = value[1:-1].replace('\\"', '"')
        out.setdefault(m.group(1).lower(), value)
    return out


def _seconds(value: str | None) -> int | None:
    if value is None or not (value.strip().isascii() and value.strip().isdigit()):
        return None
    return int(value.strip())


def _date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def freshness_lifetime(ex: Exchange, *, shared: bool = False) -> int | None:
    """Explicit lifetime in seconds (RFC 9111 §4.2.1): s-maxage (shared), max-age, Expires - Date."""
    cc = cache_control(ex)
    if shared and _seconds(cc.get("s-maxage")) is not None:
        return _seconds(cc.get("s-maxage"))
    if "max-age" in cc:
        return _seconds(cc.get("max-age")) or 0
    expires = ex.header("expires")
    if expires is not None:
        exp, date = _date(expires), _date(ex.header("date"))
        if exp is None:
            return 0  # an invalid Expires means "already expired" (RFC 9111 §5.3)
        if date is not None:
            return max(0, int(exp - date))
    return None


def has_explicit_freshness(ex: Exchange) -> bool:
    cc = cache_control(ex)
    return bool({"max-age", "s-maxage", "no-cache", "no-store"} & set(cc)) or ex.header("expires") is not None


def is_weak(etag: str) -> bool:
    return etag.strip().startswith("W/")


def cacheable_get(ex: Exchange | None) -> bool:
    """A successful GET that a cache could store: 200, no ``no-store``."""
    return (ex is not None and ex.ok and ex.method == "GET" and ex.status == 200
            and "no-store" not in cache_control(ex))


def vary_fields(ex: Exchange) -> set[str]:
    return {v.strip().lower() for v in (ex.header("vary") or "").split(",") if v.strip()}


def http_location(ep: Endpoint | Exchange, method: str = "GET") -> dict[str, str]:
    return {"url": ep.url, "method": method}
