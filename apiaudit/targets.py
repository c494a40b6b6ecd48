"""Validate target URLs and DSNs given on the command line or in config (bad ones are usage errors)."""

from __future__ import annotations

from urllib.parse import urlsplit

from apiaudit.errors import UsageError
from apiaudit.redact import redact_text, register_secret


def http_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"not an http(s) URL: {redact_text(url)!r} (did you mean http://{url}?)"
                         if "://" not in url else f"unsupported URL scheme {parts.scheme!r} in {redact_text(url)!r}")
    if not parts.hostname:
        raise UsageError(f"URL has no host: {redact_text(url)!r}")
    try:
        _ = parts.port
    except ValueError:
        raise UsageError(f"URL has an invalid port: {redact_text(url)!r}") from None
    if parts.password:
        register_secret(parts.password)
    return url.strip()


def postgres_dsn(dsn: str) -> str:
    """Accept postgresql:// URLs and key=value conninfo strings; reject what libpq would not parse."""
    from psycopg import conninfo

    text = dsn.strip()
    if "://" in text and not text.startswith(("postgresql://", "postgres://")):
        raise UsageError(f"not a PostgreSQL DSN: {redact_text(text)!r} (expected postgresql://user@host:port/db)")
    try:
        params = conninfo.conninfo_to_dict(text)
    except Exception as exc:  # psycopg raises ProgrammingError with libpq's message
        raise UsageError(f"invalid DSN {redact_text(text)!r}: {redact_text(str(exc).strip())}") from None
    if params.get("password"):
        register_secret(str(params["password"]))
    return text


def cache_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("redis", "rediss", "memcached"):
        raise UsageError(f"unsupported cache URL {redact_text(url)!r} (expected redis://, rediss:// or memcached://)")
    if not parts.hostname:
        raise UsageError(f"cache URL has no host: {redact_text(url)!r}")
    try:
        _ = parts.port
    except ValueError:
        raise UsageError(f"cache URL has an invalid port: {redact_text(url)!r}") from None
    if parts.password:
        register_secret(parts.password)
    return url.strip()
